# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors the RouterOS layer reports: what was being done, on which path and entry, and why."""

from __future__ import annotations

from typing import Any


class RouterOSError(Exception):
    """A failure to report to the user: what was being done, on which path and entry, and why."""

    def __init__(self, message: str, *, path: str | None = None, entry: str | None = None, router_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.entry = entry
        self.router_message = router_message
        self.applied: list[str] = []

    def details(self) -> dict[str, Any]:
        """Extra keys for ``fail_json`` (only those that are known)."""
        found = {"path": self.path, "entry": self.entry, "router_message": self.router_message}
        result: dict[str, Any] = {key: value for key, value in found.items() if value is not None}
        result["applied"] = list(self.applied)
        return result


class InputError(RouterOSError):
    """Bad input, detected before anything is changed on the router."""

    def __init__(self, field_name: str, value: object, reason: str) -> None:
        super().__init__(f"{field_name}: {value!r} {reason}")
        self.field_name = field_name
        self.value = value
