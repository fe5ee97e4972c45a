"""Query words of print, with the examples and rules of MikroTik's API manual ("Queries" section)."""

from __future__ import annotations

import pytest

from lab.simulators.routeros.query import QueryError, matches, validate

INTERFACES = [
    {".id": "*1", "name": "ether1", "type": "ether", "mtu": "1500"},
    {".id": "*2", "name": "vlan10", "type": "vlan", "mtu": "1496", "comment": "uplink"},
    {".id": "*3", "name": "bridge1", "type": "bridge", "mtu": "9000", "comment": ""},
    {".id": "*4", "name": "ether2", "type": "ether", "mtu": "9000", "comment": "servers"},
]


def names(*query: str) -> list[str]:
    return [row["name"] for row in INTERFACES if matches(query, row)]


def test_manual_example_all_ethernet_and_vlan_interfaces() -> None:
    assert names("?type=ether", "?type=vlan", "?#|") == ["ether1", "vlan10", "ether2"]


def test_manual_example_interfaces_that_are_neither_ethernet_nor_vlan() -> None:
    assert names("?type=ether", "?type=vlan", "?#|!") == ["bridge1"]


def test_manual_example_items_with_a_non_empty_comment() -> None:
    assert names("?>comment=") == ["vlan10", "ether2"]


def test_without_operations_all_conditions_must_hold() -> None:
    assert names("?type=ether", "?mtu=9000") == ["ether2"]
    assert names("?=type=ether") == ["ether1", "ether2"]


def test_presence_and_absence() -> None:
    assert names("?comment") == ["vlan10", "bridge1", "ether2"]
    assert names("?-comment") == ["ether1"]


def test_less_and_greater_compare_numbers_as_numbers() -> None:
    assert names("?<mtu=1500") == ["vlan10"]
    assert names("?>mtu=1500") == ["bridge1", "ether2"]
    assert names("?>name=ether1") == ["vlan10", "ether2"]


def test_comparisons_on_a_missing_property_are_false() -> None:
    assert names("?comment=uplink") == ["vlan10"]
    assert names("?<comment=zzz") == ["vlan10", "bridge1", "ether2"]


def test_stack_starts_with_infinitely_many_true_values() -> None:
    row = INTERFACES[0]
    assert matches(["?#&"], row)  # two implicit 'true' values
    assert not matches(["?#!"], row)  # negating an implicit 'true' leaves a 'false'
    assert matches([], row)


def test_index_followed_by_another_character_pushes_a_copy() -> None:
    row = INTERFACES[0]  # after the two words the stack is [true (type), false (mtu)], top last
    assert not matches(["?type=ether", "?mtu=9000", "?#1!&"], row)  # push copy of true, negate, and: [true, false]
    assert matches(["?type=ether", "?mtu=9000", "?#0!|"], row)  # push copy of false, negate, or consumes it: [true, true]


def test_index_at_end_of_word_replaces_the_whole_stack() -> None:
    row = INTERFACES[0]
    assert matches(["?type=ether", "?mtu=9000", "?#1"], row)  # stack := value at index 1 (true)
    assert not matches(["?type=ether", "?mtu=9000", "?#0"], row)  # stack := value at index 0 (false)
    assert not matches(["?mtu=9000", "?#0", "?#&"], row)  # the replaced stack is 'false' all the way down


def test_dot_after_an_index_does_nothing() -> None:
    row = INTERFACES[0]
    # [false]; push copy of index 1 (an implicit true); '.' does nothing; or -> [true]
    assert matches(["?mtu=9000", "?#1.|"], row)


def test_dot_after_another_character_pushes_a_copy_of_the_top() -> None:
    row = INTERFACES[0]
    # [false, true]; '!!' leaves it; '.' copies true -> [false, true, true]; or -> [false, true]
    assert not matches(["?mtu=9000", "?type=ether", "?#!!.|"], row)


def test_unknown_operation_is_rejected_before_evaluation() -> None:
    with pytest.raises(QueryError):
        validate(["?#x"])


def test_boolean_query_values_are_read_as_booleans() -> None:
    row = {"name": "br0", "disabled": "false"}
    assert matches(["?disabled=no"], row)
    assert matches(["?disabled=false"], row)
    assert not matches(["?disabled=yes"], row)
