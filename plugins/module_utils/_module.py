# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The part of AnsibleModule the collection's own modules use, as a Protocol.

ansible-core ships no type information, so an ``AnsibleModule`` is ``Any`` to mypy. Typing a module
object with this Protocol instead lets mypy check the calls and know that ``fail_json`` and
``exit_json`` do not return (so the code after a failure needs no ``unreachable`` guard).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Protocol


class ModuleProtocol(Protocol):
    """What the ovs, rshim and bfb modules call on their AnsibleModule."""

    params: dict[str, Any]
    check_mode: bool
    _diff: bool

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn: ...

    def exit_json(self, **kwargs: Any) -> NoReturn: ...

    def warn(self, warning: str) -> None: ...

    def get_bin_path(self, arg: str, required: bool = False, opt_dirs: Sequence[str] | None = None) -> str | None: ...

    def run_command(
        self,
        args: list[str],
        check_rc: bool = False,
        data: str | bytes | None = None,
        binary_data: bool = False,
        environ_update: Mapping[str, str] | None = None,
    ) -> tuple[int, str, str]: ...
