# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module glue, the only part that knows Ansible: validate, connect, plan, apply unless in check mode, report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol, TypeVar

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Outcome, Reader
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import RouterOSError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import LIBROUTEROS_IMPORT_ERROR, ConnectionOptions, Session

RequestT = TypeVar("RequestT")


class ModuleLike(Protocol):
    """The part of AnsibleModule the runner uses."""

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def check_mode(self) -> bool: ...

    @property
    def _diff(self) -> bool: ...

    def warn(self, warning: str) -> None: ...

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn: ...

    def exit_json(self, **kwargs: Any) -> NoReturn: ...


def run_planner(module: ModuleLike, make_request: Callable[[Mapping[str, Any]], RequestT], plan: Callable[[Reader, RequestT], Outcome]) -> NoReturn:
    """Validate input, connect, plan, apply unless in check mode, and report.

    Input is validated before connecting; router-dependent checks happen while planning; nothing is
    written before both passed. Every failure names the path, the entry and the router's message.
    Nothing is read back after the writes: the after state is the before state with the plan applied,
    the same in check mode and in a real run (the router accepted every write, or the run failed).
    """
    _require_librouteros(module)
    session: Session | None = None
    try:
        request = make_request(module.params)
        session = Session.connect(ConnectionOptions.from_params(module.params))
        outcome = plan(session, request)
        applied = [] if module.check_mode else session.apply(outcome.changes)
    except RouterOSError as exc:
        _fail(module, exc, changed=bool(exc.applied))
    finally:
        if session is not None:
            session.close()
    for warning in outcome.warnings:
        module.warn(warning)
    result: dict[str, Any] = {
        "changed": bool(outcome.changes),
        "changes": [change.describe() for change in outcome.changes],
        "applied": applied,
        "state": outcome.after,
    }
    if module._diff:
        result["diff"] = {"before": outcome.before, "after": outcome.after}
    module.exit_json(**result)


def run_reader(module: ModuleLike, read: Callable[[Reader], dict[str, Any]]) -> NoReturn:
    """Connect, read, report (for modules that change nothing)."""
    _require_librouteros(module)
    session: Session | None = None
    try:
        session = Session.connect(ConnectionOptions.from_params(module.params))
        result = read(session)
    except RouterOSError as exc:
        _fail(module, exc)
    finally:
        if session is not None:
            session.close()
    module.exit_json(changed=False, **result)


def _require_librouteros(module: ModuleLike) -> None:
    if LIBROUTEROS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("librouteros"), exception=LIBROUTEROS_IMPORT_ERROR)


def _fail(module: ModuleLike, error: RouterOSError, **extra: Any) -> NoReturn:
    """``fail_json`` with the path, entry, router message and applied commands the error knows."""
    module.fail_json(msg=error.message, **extra, **error.details())
