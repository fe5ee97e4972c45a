"""The test plugins mac_address, dns_label and dns_name accept what the regexes they replace accepted.

Each old regex of the roles and of the inventory validation is kept here verbatim and asked the same
question as its replacement. Where the old regex was anchored with ``$`` (which also matches before a
trailing newline under ``re.match``), the trailing-newline case is the one deliberate difference and is
asserted on its own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import is_dns_label, is_dns_name, is_mac
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory_values import normalise_mac
from ansible_collections.diskless.datacenter.plugins.test import patterns
from ansible_collections.diskless.datacenter.plugins.test.patterns import dns_label, dns_name, mac_address

# The replaced regexes, as they stood.
NETBOOT_MAC = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z"
NETBOOT_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z"
NETBOOT_FQDN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\Z"
DNSMASQ_MAC = r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"
DNSMASQ_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
BFCFG_HOSTNAME = r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
BFCFG_MAC = r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"

LABEL_63 = "a" * 63
MACS = [
    "52:54:00:12:34:56",
    "52:54:00:AB:CD:EF",
    "52:54:00:ab:cd:ef",
    "52:54:00:12:34",
    "52:54:00:12:34:56:78",
    "52-54-00-12-34-56",
    "525400123456",
    "52:54:00:12:34:5g",
    "52:54:00:12:34:5",
    " 52:54:00:12:34:56",
    "52:54:00:12:34:56 ",
    "52:54:00:12:34:56\x00",
    "\x0052:54:00:12:34:56",
    "52:54:00:12:34:56\nx",
    "",
]
LABELS = [
    "node-01",
    "a",
    "0",
    LABEL_63,
    "a" * 64,
    "Node-01",
    "NODE",
    "node-",
    "-node",
    "no--de",
    "no_de",
    "no.de",
    "node\x00",
    "no\x00de",
    "node\nx",
    "",
]
NAMES = [
    *LABELS,
    "node-01.dc.example",
    "Node-01.DC.example",
    "node.",
    ".node",
    "a..b",
    "a.-b.c",
    "a.b-.c",
    ".".join([LABEL_63] * 3) + "." + "a" * 61,  # 253 characters
    ".".join([LABEL_63] * 3) + "." + "a" * 62,  # 254 characters
    ".".join([LABEL_63, "a" * 64]),
    "node.dc\x00",
    "node.dc\nx",
]


def old(pattern: str, value: str, flags: int = 0) -> bool:
    """What the builtin ``match`` test (re.match) said with the old regex."""
    return re.match(pattern, value, flags) is not None


def test_the_lengths_of_the_long_names_are_what_they_claim() -> None:
    assert [len(name) for name in NAMES if len(name) > 250] == [253, 254]


@pytest.mark.parametrize("value", MACS)
def test_mac_address_is_the_netboot_rule(value: str) -> None:
    assert mac_address(value) is old(NETBOOT_MAC, value)
    assert is_mac(value) is old(NETBOOT_MAC, value)


@pytest.mark.parametrize("value", MACS)
def test_mac_address_ignoring_case_is_the_dnsmasq_and_bf_cfg_rule(value: str) -> None:
    assert mac_address(value, ignore_case=True) is old(DNSMASQ_MAC, value) is old(BFCFG_MAC, value)


@pytest.mark.parametrize("value", LABELS)
def test_dns_label_is_the_netboot_and_dnsmasq_rule(value: str) -> None:
    assert dns_label(value) is old(NETBOOT_NAME, value) is old(DNSMASQ_NAME, value)
    assert is_dns_label(value) is old(NETBOOT_NAME, value)


@pytest.mark.parametrize("value", NAMES)
def test_dns_name_is_the_bf_cfg_rule_ignoring_case(value: str) -> None:
    assert dns_name(value, ignore_case=True) is old(BFCFG_HOSTNAME, value)


@pytest.mark.parametrize("value", NAMES)
def test_dns_name_is_the_netboot_rule_up_to_253_characters(value: str) -> None:
    expected = old(NETBOOT_FQDN, value) and len(value) <= 253
    assert dns_name(value) is expected
    assert is_dns_name(value) is expected


def test_a_trailing_newline_is_refused_where_the_old_dollar_anchor_let_it_through() -> None:
    assert old(DNSMASQ_NAME, "node\n") and not dns_label("node\n")
    assert old(DNSMASQ_MAC, "52:54:00:12:34:56\n") and not mac_address("52:54:00:12:34:56\n", ignore_case=True)
    assert old(BFCFG_HOSTNAME, "node.dc\n") and not dns_name("node.dc\n", ignore_case=True)
    assert not old(NETBOOT_FQDN, "node.dc\n") and not dns_name("node.dc\n")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(8, True), (True, False), (None, False), (["node"], False), ("node", True)],
)
def test_a_value_that_is_not_a_string_is_tested_as_its_text_like_match(value: Any, accepted: bool) -> None:
    assert dns_label(value) is accepted
    assert dns_label(value, ignore_case=True) is old(NETBOOT_NAME, str(value), re.IGNORECASE)


def test_the_inventory_normal_form_of_a_mac_is_a_mac_address() -> None:
    assert normalise_mac(" 52-54-00-AB-CD-EF\n") == "52:54:00:ab:cd:ef"
    assert mac_address(normalise_mac("52-54-00-AB-CD-EF"))
    assert normalise_mac("52:54:00:ab:cd:ef\x00") is None


def test_the_plugin_offers_the_three_tests() -> None:
    assert patterns.TestModule().tests() == {"mac_address": mac_address, "dns_label": dns_label, "dns_name": dns_name}
