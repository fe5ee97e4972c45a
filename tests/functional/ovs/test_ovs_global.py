"""diskless.datacenter.ovs_global against a real Open vSwitch (the Open_vSwitch table of the private instance)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.ovs import OvsInstance

MODULE = "diskless.datacenter.ovs_global"
RunModule = Callable[..., dict[str, Any]]
TEST_KEYS = ("hw-offload", "max-idle")


@pytest.fixture
def clean_global(ovs: OvsInstance) -> Iterator[None]:
    """The Open_vSwitch row is shared by the session: remove the keys this test sets, before and after."""
    ovs.vsctl("remove", "Open_vSwitch", ".", "other_config", *TEST_KEYS, "--", "remove", "Open_vSwitch", ".", "external_ids", "rack")
    yield
    ovs.vsctl("remove", "Open_vSwitch", ".", "other_config", *TEST_KEYS, "--", "remove", "Open_vSwitch", ".", "external_ids", "rack")


def succeeded(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg", result)
    return result


@pytest.mark.usefixtures("clean_global")
def test_hw_offload_is_set_once_and_asks_for_a_restart(run_module: RunModule, ovs: OvsInstance) -> None:
    args = {"other_config": {"hw-offload": True, "max-idle": 30000}, "external_ids": {"rack": "r1"}, **ovs.module_args()}

    first = succeeded(run_module(MODULE, args, diff=True))

    assert first["changed"] is True
    assert first["restart_required"] is True
    assert first["restart_keys"] == ["hw-offload"]
    assert ovs.get("Open_vSwitch", ".", "other_config:hw-offload") == '"true"'
    assert ovs.get("Open_vSwitch", ".", "other_config:max-idle") == '"30000"'
    assert ovs.get("Open_vSwitch", ".", "external_ids:rack") == "r1"
    assert "hw-offload" not in first["diff"]["before"]["other_config"]
    assert first["diff"]["after"]["other_config"]["hw-offload"] == "true"
    assert first["other_config"]["max-idle"] == "30000"

    second = succeeded(run_module(MODULE, args))

    assert second["changed"] is False
    assert second["restart_required"] is False
    assert second["commands"] == []


@pytest.mark.usefixtures("clean_global")
def test_check_mode_and_key_removal(run_module: RunModule, ovs: OvsInstance) -> None:
    succeeded(run_module(MODULE, {"other_config": {"hw-offload": "true", "max-idle": "30000"}, **ovs.module_args()}))

    checked = succeeded(run_module(MODULE, {"other_config": {"hw-offload": False}, **ovs.module_args()}, check=True))
    assert checked["changed"] is True
    assert checked["restart_required"] is True
    assert checked["other_config"]["hw-offload"] == "false"
    assert ovs.get("Open_vSwitch", ".", "other_config:hw-offload") == '"true"'

    removed = succeeded(run_module(MODULE, {"other_config": {"max-idle": None}, **ovs.module_args()}))
    assert removed["changed"] is True
    assert removed["restart_required"] is False, "max-idle is applied by a running ovs-vswitchd"
    assert "max-idle" not in ovs.get("Open_vSwitch", ".", "other_config")
    assert ovs.get("Open_vSwitch", ".", "other_config:hw-offload") == '"true"'
