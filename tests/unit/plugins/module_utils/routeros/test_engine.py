"""Rows, generic planning and prediction (plugins/module_utils/_routeros/engine.py) on the catalogue's paths."""

from __future__ import annotations

import re

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import plan_path, predict, row_from_raw
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import BRIDGE_PORT, BRIDGE_VLAN, INTERFACE, IP_POOL

from tests.support.routeros_readers import rows


def test_rows_take_router_defaults_for_absent_properties_and_flag_system_entries() -> None:
    row = row_from_raw(BRIDGE_PORT, {".id": "*1", "interface": "ether2", "bridge": "bridge1"})
    assert row.values["pvid"] == 1
    assert row.values["frame-types"] == "admit-all"
    assert row.values["disabled"] is False
    assert not row.system
    dynamic = row_from_raw(BRIDGE_VLAN, {".id": "*2", "bridge": "bridge1", "vlan-ids": "65", "dynamic": "true"})
    assert dynamic.system
    builtin = row_from_raw(INTERFACE, {".id": "*3", "name": "ether1", "builtin": "yes"})
    assert builtin.system


def test_values_the_engine_cannot_parse_stay_as_text() -> None:
    row = row_from_raw(BRIDGE_PORT, {".id": "*1", "interface": "ether2", "bridge": "bridge1", "pvid": "auto"})
    assert row.values["pvid"] == "auto"


def test_plan_matches_by_keys_and_sets_only_what_differs() -> None:
    current = rows(BRIDGE_VLAN, {".id": "*1", "bridge": "br", "vlan-ids": "10,11,12", "tagged": "b,a", "untagged": "c"})
    unchanged = plan_path(BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({10, 11, 12}), "tagged": frozenset({"a", "b"})}], current)
    assert unchanged.in_order() == []
    changed = plan_path(BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({10, 11, 12}), "untagged": frozenset()}], current)
    assert [change.describe() for change in changed.in_order()] == ["/interface/bridge/vlan/set bridge=br vlan-ids=10-12: untagged="]
    assert changed.sets[0].words() == {".id": "*1", "untagged": ""}


def test_plan_adds_missing_entries_without_empty_words() -> None:
    plan = plan_path(BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({64}), "tagged": frozenset({"br"}), "untagged": frozenset(), "comment": ""}], [])
    assert [change.action for change in plan.in_order()] == ["add"]
    assert plan.adds[0].words() == {"bridge": "br", "vlan-ids": "64", "tagged": "br"}


def test_plan_never_touches_dynamic_entries_and_purges_only_in_scope() -> None:
    current = rows(
        BRIDGE_VLAN,
        {".id": "*1", "bridge": "br", "vlan-ids": "65", "untagged": "ether2", "dynamic": "true"},
        {".id": "*2", "bridge": "br", "vlan-ids": "66", "tagged": "br"},
        {".id": "*3", "bridge": "other", "vlan-ids": "67", "tagged": "other"},
    )
    desired = [{"bridge": "br", "vlan-ids": frozenset({65}), "tagged": frozenset({"br"})}]
    without_purge = plan_path(BRIDGE_VLAN, desired, current)
    assert [change.action for change in without_purge.in_order()] == ["add"]
    with_purge = plan_path(BRIDGE_VLAN, desired, current, purge=True, in_scope=lambda row: row.values["bridge"] == "br")
    assert [(change.action, change.row_id) for change in with_purge.in_order()] == [("remove", "*2"), ("add", None)]


def test_plan_refuses_the_same_key_twice() -> None:
    with pytest.raises(InputError, match=re.escape("listed twice")):
        plan_path(IP_POOL, [{"name": "p"}, {"name": "p"}], [])


def test_predict_applies_changes_to_rows() -> None:
    current = rows(IP_POOL, {".id": "*1", "name": "a", "ranges": "10.0.0.1-10.0.0.9"}, {".id": "*2", "name": "b", "ranges": "10.0.1.1"})
    plan = plan_path(IP_POOL, [{"name": "a", "ranges": frozenset({"10.0.0.5"})}, {"name": "c", "ranges": frozenset({"10.0.2.1"})}], current, purge=True)
    after = predict(IP_POOL, current, plan.in_order())
    assert sorted((row.values["name"], tuple(row.values["ranges"])) for row in after) == [("a", ("10.0.0.5",)), ("c", ("10.0.2.1",))]
