# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain: ROSE file-backed disks exported over NVMe/TCP (routeros_nvme_export)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Change, Outcome, Reader, Row, drop_none, owned_rows, plan_path
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError, RouterOSError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import (
    EXPORT_STATE,
    FILE_PATH,
    NAMES,
    SIZE,
    IntKind,
    optional_input,
    parse_input,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import DISK, FILE, PACKAGE

ROSE_STORAGE_PACKAGE = "rose-storage"


@dataclass
class NvmeRequest:
    slot: str
    state: str
    file_path: str | None
    file_size: int | None
    export: dict[str, Any]
    remove_file: bool

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> NvmeRequest:
        slot = str(params["slot"]).strip()
        if not slot or any(character.isspace() for character in slot):
            raise InputError("slot", params["slot"], "must be a non-empty name without spaces")
        file_path = optional_input(FILE_PATH, "file_path", params.get("file_path"))
        if file_path == "":
            raise InputError("file_path", params.get("file_path"), "is empty")
        file_size = optional_input(SIZE, "file_size", params.get("file_size"))
        if file_size is not None and file_size <= 0:
            raise InputError("file_size", params.get("file_size"), "must be larger than zero")
        nqn = params.get("nqn")
        if nqn is not None and not str(nqn).startswith("nqn."):
            raise InputError("nqn", nqn, "is not an NVMe qualified name (starts with 'nqn.')")
        export = drop_none(
            {
                "nvme-tcp-export": True,
                "nvme-tcp-server-port": optional_input(IntKind(1, 65535), "nvme_port", params.get("nvme_port")),
                "nvme-tcp-server-nqn": None if nqn is None else str(nqn),
                "nvme-tcp-server-allow-host-name": None if params.get("allowed_hosts") is None else NAMES.parse(params.get("allowed_hosts")),
            }
        )
        return cls(slot, parse_input(EXPORT_STATE, "state", params.get("state") or "present"), file_path, file_size, export, bool(params.get("remove_file")))


def rose_storage_installed(reader: Reader) -> bool:
    return any(row.values["name"] == ROSE_STORAGE_PACKAGE and not row.values["disabled"] for row in reader.read(PACKAGE))


def nvme_exports_state(reader: Reader) -> list[dict[str, Any]]:
    return sorted((_export_output(row) for row in owned_rows(reader.read(DISK)) if _is_file_export(row)), key=lambda item: str(item["slot"]))


def _is_file_export(row: Row) -> bool:
    return row.values["type"] == "file" and row.values["nvme-tcp-export"] is True


def _export_output(row: Row) -> dict[str, Any]:
    values = row.values
    return drop_none(
        {
            "slot": values["slot"],
            "file_path": values["file-path"],
            "file_size": values["file-size"],
            "nvme_port": values["nvme-tcp-server-port"],
            "nqn": values["nvme-tcp-server-nqn"] or None,
            "allowed_hosts": NAMES.to_output(values["nvme-tcp-server-allow-host-name"]),
        }
    )


def _slot_state(rows: Sequence[Row], slot: str) -> dict[str, Any]:
    found = [row for row in owned_rows(rows) if row.values["slot"] == slot and row.values["type"] == "file"]
    return _export_output(found[0]) if found else {}


def plan_nvme_export(reader: Reader, request: NvmeRequest) -> Outcome:
    """One file-backed /disk slot exported over NVMe/TCP; shrinking and re-pointing are refused."""
    disk_rows = reader.read(DISK)
    current = [row for row in owned_rows(disk_rows) if row.values["slot"] == request.slot]
    if current and current[0].values["type"] != "file":
        raise InputError(
            "slot", request.slot, f"is a {current[0].values['type'] or 'non-file'} disk on the router, not a file-backed volume; refusing to touch it"
        )
    changes: list[Change] = []
    if request.state == "absent":
        if current:
            changes.append(Change(DISK, "remove", (request.slot,), current[0].id, {}, dict(current[0].values)))
            if request.remove_file:
                changes += _file_removal(reader, str(current[0].values["file-path"]))
        return Outcome.of(reader, changes, lambda state_reader: _slot_state(state_reader.read(DISK), request.slot))

    if not current:
        _require_rose_storage(reader)
        for name, value in (("file_path", request.file_path), ("file_size", request.file_size)):
            if value is None:
                raise InputError(name, value, f"is required to create slot {request.slot}")
        entry = {"slot": request.slot, "type": "file", "file-path": request.file_path, "file-size": request.file_size, **request.export}
        changes = plan_path(DISK, [entry], disk_rows).in_order()
    else:
        row = current[0]
        if request.file_path is not None and row.values["file-path"] != request.file_path:
            raise InputError(
                "file_path", request.file_path, f"differs from the file of slot {request.slot} ({row.values['file-path']}); remove the export first"
            )
        size = row.values["file-size"]
        if request.file_size is not None and isinstance(size, int) and request.file_size < size:
            raise InputError("file_size", request.file_size, f"is smaller than the current size of slot {request.slot} ({size} bytes); shrinking is refused")
        entry = drop_none({"slot": request.slot, "file-size": request.file_size, **request.export})
        changes = plan_path(DISK, [entry], disk_rows).in_order()
        if changes:
            _require_rose_storage(reader)
    return Outcome.of(reader, changes, lambda state_reader: _slot_state(state_reader.read(DISK), request.slot))


def _require_rose_storage(reader: Reader) -> None:
    """Checked (one read of /system/package) only when an export is to be created or changed."""
    if not rose_storage_installed(reader):
        raise RouterOSError(f"the {ROSE_STORAGE_PACKAGE} package is not installed or is disabled on the router: NVMe/TCP exports need it")


def _file_removal(reader: Reader, file_path: str) -> list[Change]:
    rows = reader.query(FILE, {"name": file_path})
    return [Change(FILE, "remove", (file_path,), row.id, {}, dict(row.values)) for row in rows if row.values["name"] == file_path]
