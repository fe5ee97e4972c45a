"""Replies the router gives as ``!trap`` (optionally several) or ``!fatal``."""

from __future__ import annotations

# Trap categories from MikroTik's API manual.
MISSING_ITEM_OR_COMMAND = 0
ARGUMENT_VALUE = 1
INTERRUPTED = 2
SCRIPTING = 3
GENERAL = 4
API = 5
TTY = 6
RETURN_VALUE = 7


class ApiError(Exception):
    """One or more ``!trap`` replies; each is (message, category or None)."""

    def __init__(self, message: str, category: int | None = None, *more: tuple[str, int | None]) -> None:
        super().__init__(message)
        self.traps: list[tuple[str, int | None]] = [(message, category), *more]


class FatalError(Exception):
    """``!fatal`` with a reason, then the connection closes."""
