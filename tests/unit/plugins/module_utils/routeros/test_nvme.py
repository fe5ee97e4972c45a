"""NVMe/TCP exports (plugins/module_utils/_routeros/nvme.py): creation, growth, refusals, what is read."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Outcome
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError, RouterOSError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.nvme import NvmeRequest, plan_nvme_export

from tests.support.routeros_readers import EXPORTED, WITH_ROSE, RecordingReader, StaticReader


def nvme(data: Mapping[str, Sequence[Mapping[str, str]]], **params: Any) -> Outcome:
    return plan_nvme_export(StaticReader({**WITH_ROSE, **data}), NvmeRequest.from_params({"slot": "pvc-1", **params}))


def test_nvme_export_created_with_documented_words() -> None:
    outcome = nvme({}, file_path="disk1/pvc-1.img", file_size="10G", nvme_port=4420)
    assert [change.words() for change in outcome.changes] == [
        {"slot": "pvc-1", "type": "file", "file-path": "disk1/pvc-1.img", "file-size": "10G", "nvme-tcp-export": "yes", "nvme-tcp-server-port": "4420"}
    ]
    assert outcome.after["file_size"] == 10 * 1024**3


def test_nvme_export_same_size_in_other_units_is_unchanged() -> None:
    assert nvme(EXPORTED, file_path="disk1/pvc-1.img", file_size=str(10 * 1024**3), nvme_port=4420, nqn="nqn.2000-02.com.mikrotik:pvc-1").changes == []


def test_nvme_export_grows_and_refuses_to_shrink_or_move() -> None:
    assert [change.describe() for change in nvme(EXPORTED, file_size="20G").changes] == ["/disk/set slot=pvc-1: file-size=20G"]
    with pytest.raises(InputError, match=re.escape("file_size: 5368709120 is smaller than the current size")):
        nvme(EXPORTED, file_size="5G")
    with pytest.raises(InputError, match=re.escape("file_path: 'disk2/pvc-1.img' differs")):
        nvme(EXPORTED, file_path="disk2/pvc-1.img")


def test_nvme_export_refuses_hardware_slots_and_missing_package() -> None:
    with pytest.raises(InputError, match=re.escape("slot: 'nvme1' is a hardware disk")):
        plan_nvme_export(StaticReader({**WITH_ROSE, **EXPORTED}), NvmeRequest.from_params({"slot": "nvme1", "file_size": "1G"}))
    with pytest.raises(RouterOSError, match=re.escape("rose-storage package is not installed")):
        plan_nvme_export(StaticReader({}), NvmeRequest.from_params({"slot": "pvc-1", "file_path": "a.img", "file_size": "1G"}))


def test_nvme_export_absent_keeps_the_file_unless_asked() -> None:
    assert [change.describe() for change in nvme(EXPORTED, state="absent").changes] == ["/disk/remove slot=pvc-1"]
    assert [change.describe() for change in nvme(EXPORTED, state="absent", remove_file=True).changes] == [
        "/disk/remove slot=pvc-1",
        "/file/remove name=disk1/pvc-1.img",
    ]
    assert nvme({}, state="absent").changes == []


def test_nvme_input_errors() -> None:
    with pytest.raises(InputError, match=re.escape("file_size: '-1G' is not a size")):
        NvmeRequest.from_params({"slot": "a", "file_size": "-1G"})
    with pytest.raises(InputError, match=re.escape("nqn: 'pvc-1' is not an NVMe qualified name")):
        NvmeRequest.from_params({"slot": "a", "nqn": "pvc-1"})
    with pytest.raises(InputError, match=re.escape("file_size: None is required to create slot pvc-1")):
        nvme({}, file_path="a.img")


def test_nvme_export_unchanged_reads_only_the_disks() -> None:
    reader = RecordingReader({**WITH_ROSE, **EXPORTED})
    request = NvmeRequest.from_params({"slot": "pvc-1", "file_path": "disk1/pvc-1.img", "file_size": "10G", "nvme_port": 4420})
    assert plan_nvme_export(reader, request).changes == []
    assert set(reader.paths) == {"/disk"}
    with pytest.raises(RouterOSError, match="rose-storage package is not installed"):
        plan_nvme_export(StaticReader(EXPORTED), NvmeRequest.from_params({"slot": "pvc-1", "file_size": "20G"}))
