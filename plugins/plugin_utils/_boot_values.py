# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for values that are written into boot scripts and one-line config directives.

Shared by the inventory validation (`_inventory.py`) and, through the filters of
plugins/filter/datacenter_model.py, by the netboot role's preflight and templates: one definition.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any

# Kernel parameters are written into iPXE scripts (`kernel ... PARAMS`) and pxelinux menus
# (`APPEND PARAMS`), one directive per line. Allowlist: printable ASCII (space to ~) without
# control characters (newline, CR, NUL, tab), quotes, and the shell/iPXE/pxelinux metacharacters
# " # $ & ' ; < > \ ` |. The same rule is used by the netboot role's preflight, through the filter
# diskless.datacenter.kernel_params_problem (plugins/filter/datacenter_model.py).
KERNEL_PARAMS_ALLOWED = " !%()*+,-./0123456789:=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{}~"
KERNEL_PARAMS_FORBIDDEN = "\"#$&';<>\\`|"
# The x86 kernel command line is at most 2048 bytes (COMMAND_LINE_SIZE), terminating NUL included.
KERNEL_CMDLINE_MAX = 2047


def kernel_params_problem(value: Any, max_length: int = KERNEL_CMDLINE_MAX) -> str:
    """Why VALUE may not be written into a boot script as kernel parameters; '' when it may."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > max_length:
        return f"too long: {len(value)} characters, at most {max_length} (the kernel command line is limited to 2048 bytes)"
    bad = sorted({c for c in value if c not in KERNEL_PARAMS_ALLOWED})
    if bad:
        shown = " ".join(repr(c) for c in bad[:8])
        return (
            f"characters not allowed: {shown} (only printable ASCII without control characters, quotes "
            f"or the shell/iPXE/pxelinux characters {KERNEL_PARAMS_FORBIDDEN})"
        )
    return ""


def one_line_problem(value: str) -> str:
    """Why VALUE cannot be templated into one line of a boot script or config; '' when it can.

    Refuses every control character (newline, CR, NUL, tab, DEL...) and Unicode line/paragraph separators.
    """
    bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")})
    if bad:
        return "control characters or line breaks not allowed: " + " ".join(repr(c) for c in bad[:8])
    return ""


# Values templated into one field of a config file, a unit or a shell script (dnsmasq options, NFS
# exports, Ganesha blocks, systemd units, environment files, bf.cfg, the rootfs build scripts). The rule
# is one_line_problem (no control character, no line break), a length limit and, per file format, the
# characters that would end the field there (FIELD_FORBIDDEN). `config_value_problems` reports every
# problem of a mapping of variable names to values (lists and mappings walked), each naming the variable
# and the JSON-quoted value; the roles' preflights reach it through the filter
# diskless.datacenter.config_value_problems (plugins/filter/datacenter_model.py).
CONFIG_VALUE_MAX = 1024
FIELD_FORBIDDEN = {
    # dnsmasq: one option per line; ',' separates an option's fields, '#' starts a comment, '/' separates domains in local=/…/.
    "dnsmasq": ",#",
    # /etc/exports: a path is double-quoted, a client and its options end at a space; '#' starts a comment.
    "exports": '"# ()\\',
    # Ganesha: double-quoted strings, ';' ends a value, braces open/close blocks, '#' starts a comment.
    "ganesha": '"#;{}\\',
    # systemd units and EnvironmentFile= lines: quotes, the escape character, '%' specifiers and whitespace.
    "systemd": "\"'\\% ",
    # A shell word the template writes unquoted (or inside a comment line / here-document).
    "shell": "\"'\\`$;&|<>(){}#* ",
    # Text in a comment line or a here-document: only the line break matters (one_line_problem).
    "line": "",
}


def config_value_problem(value: Any, forbidden: str = "", max_length: int = CONFIG_VALUE_MAX, ascii_only: bool = False) -> str:
    """Why VALUE cannot be written as one field of a config file or script; '' when it can."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return ""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > max_length:
        return f"too long: {len(value)} characters, at most {max_length}"
    why = one_line_problem(value)
    if why:
        return why
    if ascii_only and not value.isascii():
        bad = sorted({c for c in value if not c.isascii()})
        return "only ASCII characters allowed, not " + " ".join(repr(c) for c in bad[:8])
    bad = sorted({c for c in value if c in forbidden})
    if bad:
        return "characters not allowed here: " + " ".join(repr(c) for c in bad[:8])
    return ""


def config_value_problems(values: Any, forbidden: str = "", max_length: int = CONFIG_VALUE_MAX, ascii_only: bool = False, where: str = "") -> list[str]:
    """Every problem of the values of VALUES (name -> value; lists and mappings walked): 'NAME=JSON: why'."""
    out: list[str] = []
    chars = FIELD_FORBIDDEN.get(forbidden, forbidden)

    def walk(name: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if why := config_value_problem(key, chars, max_length, ascii_only):
                    out.append(f"{name} key {json.dumps(key, ensure_ascii=True)}: {why}")
                walk(f"{name}.{key}", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{name}[{index}]", item)
        elif why := config_value_problem(value, chars, max_length, ascii_only):
            shown = value if not isinstance(value, str) or len(value) <= 80 else value[:80] + "…"
            out.append(f"{where}{name}={json.dumps(shown, ensure_ascii=True, default=str)}: {why}")

    if isinstance(values, Mapping):
        for name, value in values.items():
            walk(str(name), value)
    else:
        walk("value", values)
    return out
