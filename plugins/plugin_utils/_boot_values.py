# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for values that are written into boot scripts and one-line config directives.

Shared by the inventory validation (`_inventory.py`) and, through the filters of
plugins/filter/datacenter_model.py, by the netboot role's preflight and templates: one definition.
"""

from __future__ import annotations

import unicodedata
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
