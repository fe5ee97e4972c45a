# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one definition of the name and address patterns every layer checks.

The inventory validation (plugin_utils/_inventory.py) uses the ``is_*`` helpers; roles and templates reach
the same strings through the collection's test plugins (``x is diskless.datacenter.mac_address``,
``dns_label``, ``dns_name``; plugins/test/patterns.py), so a preflight and the inventory model cannot disagree
on what a MAC or a host name is. The strings carry no anchors: ``fullmatch`` applies them.
"""

from __future__ import annotations

import re

# One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters; lower case, because
# the inventory keeps names in their normal form.
DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A DNS name: dot-separated labels, at most 253 characters in all.
DNS_NAME = rf"(?=.{{1,253}}\Z){DNS_LABEL}(?:\.{DNS_LABEL})*"
# A MAC address in the inventory's normal form: six lower-case hex octets separated by colons.
MAC = r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"

PATTERNS: dict[str, str] = {"dns_label": DNS_LABEL, "dns_name": DNS_NAME, "mac": MAC}


def _fullmatch(pattern: str, value: str, ignore_case: bool) -> bool:
    return re.fullmatch(pattern, value, re.IGNORECASE if ignore_case else 0) is not None


def is_dns_label(value: str, *, ignore_case: bool = False) -> bool:
    return _fullmatch(DNS_LABEL, value, ignore_case)


def is_dns_name(value: str, *, ignore_case: bool = False) -> bool:
    return _fullmatch(DNS_NAME, value, ignore_case)


def is_mac(value: str, *, ignore_case: bool = False) -> bool:
    return _fullmatch(MAC, value, ignore_case)
