# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests ``mac_address``, ``dns_label`` and ``dns_name``: the patterns of module_utils/_patterns.py for the roles.

A preflight or a template asks ``x is diskless.datacenter.mac_address`` instead of keeping a regex of its
own, so it accepts exactly what the inventory validation accepts. Each test is documented in the YAML
file of its name next to this one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import DNS_LABEL, DNS_NAME, MAC


def _fullmatch(pattern: str, value: Any, ignore_case: bool) -> bool:
    """Whether PATTERN matches the whole text of VALUE (no trailing newline, no NUL).

    Like the builtin ``match`` test that the roles used before, a value that is not a string is tested as its
    text (``to_text``), so ``8 is dns_label`` stays true.
    """
    text = to_text(value, errors="surrogate_or_strict")
    return re.fullmatch(pattern, text, re.IGNORECASE if ignore_case else 0) is not None


def mac_address(value: Any, ignore_case: bool = False) -> bool:
    return _fullmatch(MAC, value, ignore_case)


def dns_label(value: Any, ignore_case: bool = False) -> bool:
    return _fullmatch(DNS_LABEL, value, ignore_case)


def dns_name(value: Any, ignore_case: bool = False) -> bool:
    return _fullmatch(DNS_NAME, value, ignore_case)


class TestModule:
    def tests(self) -> dict[str, Callable[..., bool]]:
        return {"mac_address": mac_address, "dns_label": dns_label, "dns_name": dns_name}
