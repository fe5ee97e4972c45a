# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests ``mac_address``, ``dns_label`` and ``dns_name``: the patterns of module_utils/_patterns.py for the roles.

A preflight or a template asks ``x is diskless.datacenter.mac_address`` instead of keeping a regex of its
own, so it accepts exactly what the inventory validation accepts. Each test is documented in the YAML
file of its name next to this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import is_dns_label, is_dns_name, is_mac


def _text(value: Any) -> str:
    """VALUE as the builtin ``match`` test (what the roles used before) sees it: ``8 is dns_label`` stays true."""
    text: str = to_text(value, errors="surrogate_or_strict")
    return text


def mac_address(value: Any, ignore_case: bool = False) -> bool:
    return is_mac(_text(value), ignore_case=ignore_case)


def dns_label(value: Any, ignore_case: bool = False) -> bool:
    return is_dns_label(_text(value), ignore_case=ignore_case)


def dns_name(value: Any, ignore_case: bool = False) -> bool:
    return is_dns_name(_text(value), ignore_case=ignore_case)


class TestModule:
    def tests(self) -> dict[str, Callable[..., bool]]:
        return {"mac_address": mac_address, "dns_label": dns_label, "dns_name": dns_name}
