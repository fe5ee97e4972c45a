"""Value kinds (plugins/module_utils/_routeros/kinds.py): normalisation of user and router spellings, input errors."""

from __future__ import annotations

import re

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import (
    AUTHORITATIVE,
    BOOL,
    FRAME_TYPES,
    INTERFACE_ADDRESS,
    IP_LIST,
    MAC,
    NAMES,
    NETWORK,
    NETWORKS,
    POOL_RANGES,
    format_duration,
    format_size,
    format_vlan_ids,
    parse_duration,
    parse_input,
    parse_mac,
    parse_size,
    parse_vlan_ids,
)


@pytest.mark.parametrize("spelling", ["yes", "true", "True", "YES", True])
def test_booleans_true_in_any_spelling(spelling: object) -> None:
    assert BOOL.parse(spelling) is True


@pytest.mark.parametrize("spelling", ["no", "false", "False", False])
def test_booleans_false_in_any_spelling(spelling: object) -> None:
    assert BOOL.parse(spelling) is False


def test_boolean_rejects_other_words() -> None:
    with pytest.raises(ValueError, match=re.escape("not a boolean")):
        BOOL.parse("maybe")


def test_unordered_lists_compare_as_sets() -> None:
    assert NAMES.parse("b,a") == NAMES.parse("a, b") == NAMES.parse(["a", "b"])
    assert NAMES.parse(None) == NAMES.parse("") == frozenset()
    assert NAMES.to_api(frozenset({"b", "a"})) == "a,b"


def test_ordered_lists_keep_order() -> None:
    assert IP_LIST.parse("10.0.0.2,10.0.0.1") != IP_LIST.parse(["10.0.0.1", "10.0.0.2"])
    assert IP_LIST.parse("10.0.0.1, 10.0.0.2") == IP_LIST.parse(["10.0.0.1", "10.0.0.2"])


@pytest.mark.parametrize("spelling", ["10-12,20", "10,11,12,20", "20,10-12", [10, 11, "12", 20], ["10-12", 20]])
def test_vlan_id_ranges_and_lists_are_the_same_set(spelling: object) -> None:
    assert parse_vlan_ids(spelling) == frozenset({10, 11, 12, 20})


def test_vlan_ids_format_as_ranges() -> None:
    assert format_vlan_ids({64, 65, 66, 67, 68, 69, 70, 71, 80}) == "64-71,80"
    assert format_vlan_ids({5}) == "5"
    assert parse_vlan_ids(64) == frozenset({64})


@pytest.mark.parametrize(
    ("spelling", "reason"), [("0", "outside 1-4094"), ("4095", "outside 1-4094"), ("20-10", "reversed"), ("ten", "not a number"), ("", "no VLAN id")]
)
def test_bad_vlan_ids_say_why(spelling: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_vlan_ids(spelling)


@pytest.mark.parametrize("spelling", ["00:e0:66:59:89:84", "00-E0-66-59-89-84", "00E066598984", "0:e0:66:59:89:84"])
def test_mac_case_and_separators(spelling: str) -> None:
    assert parse_mac(spelling) == "00:E0:66:59:89:84"


@pytest.mark.parametrize("spelling", ["00:e0:66:59:89", "00:e0:66:59:89:zz", "00:e0:66:59:89:84:11", ""])
def test_malformed_mac_is_refused(spelling: str) -> None:
    with pytest.raises(ValueError, match=re.escape("not a MAC address")):
        parse_mac(spelling)


@pytest.mark.parametrize("spelling", ["10G", "10g", "10GiB", "10.0GiB", "10737418240", 10737418240, "10 737 418 240"])
def test_sizes_in_units_and_bytes_are_equal(spelling: object) -> None:
    assert parse_size(spelling) == 10 * 1024**3


def test_sizes_format_in_the_largest_exact_unit() -> None:
    assert format_size(10 * 1024**3) == "10G"
    assert format_size(1536 * 1024) == "1536K"
    assert format_size(1000) == "1000"
    with pytest.raises(ValueError, match=re.escape("not a size")):
        parse_size("ten gigs")


@pytest.mark.parametrize(
    ("spelling", "milliseconds"),
    [
        ("10m", 600_000),
        ("00:10:00", 600_000),
        (600, 600_000),
        ("600", 600_000),
        ("1d2h", 93_600_000),
        ("1d02:00:00", 93_600_000),
        ("1w", 604_800_000),
        ("500ms", 500),
        ("0s", 0),
    ],
)
def test_durations(spelling: object, milliseconds: int) -> None:
    assert parse_duration(spelling) == milliseconds


def test_durations_format_like_routeros() -> None:
    assert format_duration(93_600_000) == "1d2h"
    assert format_duration(0) == "0s"
    assert format_duration(parse_duration("00:30:00")) == "30m"
    with pytest.raises(ValueError, match=re.escape("not a duration")):
        parse_duration("30 minutes")


def test_interface_addresses_need_a_prefix() -> None:
    assert INTERFACE_ADDRESS.parse("10.42.64.1/24") == "10.42.64.1/24"
    with pytest.raises(ValueError, match=re.escape("CIDR")):
        INTERFACE_ADDRESS.parse("10.42.64.1")


def test_networks_must_have_zero_host_bits() -> None:
    assert NETWORK.parse("10.42.65.0/24") == "10.42.65.0/24"
    with pytest.raises(ValueError, match=r"did you mean 10\.42\.65\.0/24"):
        NETWORK.parse("10.42.65.1/24")
    with pytest.raises(ValueError, match=re.escape("CIDR")):
        NETWORK.parse("10.42.65.0")


def test_pool_ranges_and_network_sets() -> None:
    assert POOL_RANGES.parse("10.42.65.100-10.42.65.199, 10.42.65.7") == frozenset({"10.42.65.100-10.42.65.199", "10.42.65.7"})
    with pytest.raises(ValueError, match=re.escape("end is before its start")):
        POOL_RANGES.parse("10.42.65.9-10.42.65.1")
    assert NETWORKS.parse("10.42.65.0/24,10.42.66.7") == NETWORKS.parse(["10.42.66.7/32", "10.42.65.0/24"])


def test_enum_aliases_map_router_spellings() -> None:
    assert AUTHORITATIVE.parse("true") == "yes"
    with pytest.raises(ValueError, match=re.escape("not one of")):
        FRAME_TYPES.parse("admit-some")


def test_input_errors_name_field_and_value() -> None:
    with pytest.raises(InputError) as caught:
        parse_input(MAC, "leases[3].mac", "00:11:22")
    assert str(caught.value) == "leases[3].mac: '00:11:22' is not a MAC address (six hex octets like 00:E0:66:59:89:84)"
    assert caught.value.field_name == "leases[3].mac"
