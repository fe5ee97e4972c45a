"""The sealed /etc: what the boot server writes, and that only the host's key opens it (real OpenSSL)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._sealed_etc import KEY_ID_HEX, Files, SealError, apply, archive, changed_lines, plan

OPENSSL = "openssl"


def make_tree(root: Path) -> Path:
    etc = root / "etc"
    (etc / "ssh").mkdir(parents=True)
    (etc / "hostname").write_text("node1\n")
    (etc / "ssh" / "ssh_host_ed25519_key").write_text("PRIVATE KEY OF node1\n")
    os.chmod(etc / "ssh" / "ssh_host_ed25519_key", 0o600)
    (etc / "shadow").write_text("root:$6$salt$hash:19000:0:99999:7:::\n")
    os.chmod(etc / "shadow", 0o640)
    (etc / "resolv.conf").symlink_to("/run/systemd/resolve/stub-resolv.conf")
    return etc


def files_of(root: Path) -> Files:
    return Files(tree=root / "etc", bundle=root / "web" / "etc" / "node1.cms", key=root / "etc-key", record=root / "etc-key.sealed")


def open_bundle(bundle: Path, key: str, out: Path) -> subprocess.CompletedProcess[str]:
    command = [OPENSSL, "cms", "-decrypt", "-binary", "-inform", "DER", "-secretkey", key, "-secretkeyid", KEY_ID_HEX, "-in", str(bundle), "-out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def seal_once(root: Path) -> tuple[Files, str]:
    files = files_of(root)
    outcome, key = plan(files)
    apply(outcome, key, files, OPENSSL)
    return files, key


def test_archive_is_deterministic_and_keeps_modes_owners_and_links(tmp_path: Path) -> None:
    etc = make_tree(tmp_path)
    first, entries = archive(etc)
    assert first == archive(etc)[0]
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert list(members) == sorted(members)
    assert members["./ssh/ssh_host_ed25519_key"].mode == 0o600
    assert members["./shadow"].mode == 0o640
    assert members["./resolv.conf"].issym() and members["./resolv.conf"].linkname == "/run/systemd/resolve/stub-resolv.conf"
    assert all(member.uname == "" and member.uid == os.getuid() for member in members.values())
    assert [entry.path for entry in entries] == list(members)


def test_first_run_makes_a_private_key_and_a_bundle_only_that_key_opens(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, key = seal_once(tmp_path)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600 and files.key.read_text() == f"{key}\n"
    assert stat.S_IMODE(files.record.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.bundle.stat().st_mode) == 0o644
    sealed = files.bundle.read_bytes()
    assert b"PRIVATE KEY OF node1" not in sealed and b"$6$salt$hash" not in sealed and b"node1\n" not in sealed
    opened = open_bundle(files.bundle, key, tmp_path / "out.tar")
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "out.tar").read_bytes() == archive(files.tree)[0]


def test_a_wrong_key_or_a_changed_byte_does_not_open(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, key = seal_once(tmp_path)
    assert open_bundle(files.bundle, "0" * 64, tmp_path / "wrong.tar").returncode != 0
    damaged = bytearray(files.bundle.read_bytes())
    damaged[-20] ^= 0x01
    (tmp_path / "damaged.cms").write_bytes(bytes(damaged))
    assert open_bundle(tmp_path / "damaged.cms", key, tmp_path / "damaged.tar").returncode != 0


def test_unchanged_tree_is_not_sealed_again_and_a_change_is(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, key = seal_once(tmp_path)
    outcome, same_key = plan(files)
    assert (outcome.changed, outcome.key_created, same_key) == (False, False, key)
    (files.tree / "hostname").write_text("node1-renamed\n")
    outcome, _key = plan(files)
    assert outcome.changed and not outcome.key_created
    before, after = changed_lines(outcome)
    assert "-0644" in before and "./hostname (content changed)" in after
    assert "node1-renamed" not in before + after and "PRIVATE KEY" not in before + after


def test_a_replaced_bundle_or_a_new_key_is_sealed_again(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, _key = seal_once(tmp_path)
    files.bundle.write_bytes(b"something else")
    assert plan(files)[0].changed
    files, key = seal_once(tmp_path)
    files.key.write_text("f" * 64 + "\n")
    outcome, new = plan(files)
    assert outcome.changed and new == "f" * 64 != key


def test_bad_key_file_and_special_files_are_refused(tmp_path: Path) -> None:
    etc = make_tree(tmp_path)
    files = files_of(tmp_path)
    files.key.write_text("not a key\n")
    with pytest.raises(SealError, match=r"key_path=.*etc-key: is not a key"):
        plan(files)
    files.key.unlink()
    os.mkfifo(etc / "fifo")
    with pytest.raises(SealError, match="fifo is neither a file"):
        plan(files)
    with pytest.raises(SealError, match="no such directory"):
        plan(Files(tree=tmp_path / "missing", bundle=files.bundle, key=files.key, record=files.record))
