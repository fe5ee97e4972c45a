# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's own /etc, sealed for that host alone: one tar of the tree, in OpenSSL CMS AuthEnvelopedData.

The boot server keeps each host's plaintext tree and a per-host key (32 random bytes, hex, root only). The
bundle is a deterministic tar of the tree, encrypted with AES-256-GCM under a fresh content key that is
wrapped (AES key wrap, a CMS KEK recipient) with the host's key: it can be served to anyone, only the holder of
the key can open it, and a changed byte makes opening fail. The host's initramfs opens it with the same
``openssl cms -decrypt`` the tests use. Sealing again happens only when the tree or the key changed (a record
next to the key holds what was sealed), so an unchanged run changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import stat
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

KEY_ID_HEX = b"diskless-etc".hex()
KEY_PATTERN = re.compile(r"[0-9a-f]{64}")


class SealError(Exception):
    """What stops the sealing, with the path or command it concerns."""


@dataclass(frozen=True)
class Entry:
    """One member of the sealed tree, as the listing (and --diff) shows it: never the content itself."""

    path: str
    mode: str
    owner: str
    digest: str

    def line(self) -> str:
        return f"{self.mode} {self.owner} {self.path}"


@dataclass(frozen=True)
class Files:
    """Where one host's sealing reads and writes: its plaintext tree, bundle, key and record."""

    tree: Path
    bundle: Path
    key: Path
    record: Path


@dataclass(frozen=True)
class Plan:
    key_created: bool
    changed: bool
    before: list[Entry]
    after: list[Entry]
    tar: bytes
    record: dict[str, object]


def read_key(path: Path) -> str | None:
    """The key in PATH (None when there is none yet); SealError when it is not 64 hex characters."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SealError(f"key_path={path}: cannot be read: {exc}") from exc
    if not KEY_PATTERN.fullmatch(text):
        raise SealError(f"key_path={path}: is not a key (64 lower-case hex characters)")
    return text


def new_key() -> str:
    return secrets.token_hex(32)


def _entry_of(member: tarfile.TarInfo, content: bytes) -> Entry:
    kind = "l" if member.issym() else "d" if member.isdir() else "-"
    digest = hashlib.sha256(member.linkname.encode() if member.issym() else content).hexdigest()
    return Entry(path=member.name, mode=f"{kind}{member.mode:04o}", owner=f"{member.uid}:{member.gid}", digest=digest)


def archive(tree: Path) -> tuple[bytes, list[Entry]]:
    """A deterministic tar of TREE (sorted names ./..., numeric owners, modes and whole-second mtimes kept)."""
    if not tree.is_dir():
        raise SealError(f"src={tree}: no such directory")
    buffer = io.BytesIO()
    entries: list[Entry] = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(tree.rglob("*"), key=lambda item: item.relative_to(tree).as_posix()):
            status = path.lstat()
            if not (stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode) or stat.S_ISLNK(status.st_mode)):
                raise SealError(f"src={tree}: {path.relative_to(tree)} is neither a file, a directory nor a symbolic link")
            member = tar.gettarinfo(str(path), arcname=f"./{path.relative_to(tree).as_posix()}")
            member.uname, member.gname, member.mtime, member.mode = "", "", int(status.st_mtime), stat.S_IMODE(status.st_mode)
            content = path.read_bytes() if member.isfile() else b""
            try:
                tar.addfile(member, io.BytesIO(content) if member.isfile() else None)
            except ValueError as exc:
                raise SealError(f"src={tree}: {member.name} cannot be archived: {exc}") from exc
            entries.append(_entry_of(member, content))
    return buffer.getvalue(), entries


def _record(tar: bytes, key: str, entries: list[Entry]) -> dict[str, object]:
    return {
        "tree": hashlib.sha256(tar).hexdigest(),
        "key": hashlib.sha256(key.encode()).hexdigest(),
        "entries": [[entry.path, entry.mode, entry.owner, entry.digest] for entry in entries],
    }


def _read_record(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _entries_of_record(record: dict[str, object]) -> list[Entry]:
    rows = record.get("entries")
    try:
        return [Entry(*row) for row in rows] if isinstance(rows, list) else []
    except TypeError:
        return []


def plan(files: Files) -> tuple[Plan, str]:
    """What sealing the tree would do, and the key to seal with (read, or made now and not yet written).

    Sealing is due when the key is new, the tree or the key differs from the record, or the bundle is
    missing or is not the one the record says was written (replaced or damaged on the boot server).
    """
    key = read_key(files.key)
    key_created = key is None
    key = key or new_key()
    tar, entries = archive(files.tree)
    record = _record(tar, key, entries)
    previous = _read_record(files.record)
    same_input = {name: previous.get(name) for name in record} == record
    changed = key_created or not same_input or previous.get("bundle") != _digest_of(files.bundle)
    return Plan(key_created, changed, _entries_of_record(previous), entries, tar, record), key


def seal(tar: bytes, key: str, openssl: str) -> bytes:
    """TAR in CMS AuthEnvelopedData (AES-256-GCM) for KEY, DER-encoded."""
    with tempfile.TemporaryDirectory(prefix="diskless-seal-") as workdir:
        plain, sealed = Path(workdir) / "etc.tar", Path(workdir) / "etc.cms"
        plain.write_bytes(tar)
        command = [openssl, "cms", "-encrypt", "-binary", "-aes-256-gcm", "-secretkey", key, "-secretkeyid", KEY_ID_HEX,
                   "-outform", "DER", "-in", str(plain), "-out", str(sealed)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SealError(f"openssl cms -encrypt failed ({result.returncode}): {result.stderr.strip()[-500:]}")
        return sealed.read_bytes()


def write_private(path: Path, data: bytes, mode: int) -> None:
    """Write DATA to PATH atomically with MODE from the start (a key is never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def apply(outcome: Plan, key: str, files: Files, openssl: str) -> str:
    """Write the key (when new), the bundle and the record; the bundle's SHA-256."""
    if outcome.key_created:
        write_private(files.key, f"{key}\n".encode(), 0o600)
    bundle = seal(outcome.tar, key, openssl)
    digest = hashlib.sha256(bundle).hexdigest()
    write_private(files.bundle, bundle, 0o644)
    write_private(files.record, json.dumps({**outcome.record, "bundle": digest}, sort_keys=True).encode(), 0o600)
    return digest


def changed_lines(outcome: Plan) -> tuple[str, str]:
    """The --diff texts: one line per member (mode, owner, path), content changes marked, contents never shown."""
    before = {entry.path: entry for entry in outcome.before}
    after_lines = []
    for entry in outcome.after:
        previous = before.get(entry.path)
        mark = " (content changed)" if previous is not None and previous.digest != entry.digest else ""
        after_lines.append(entry.line() + mark)
    if outcome.key_created:
        after_lines.append("(a new key for this host)")
    return "".join(f"{entry.line()}\n" for entry in outcome.before), "".join(f"{line}\n" for line in after_lines)
