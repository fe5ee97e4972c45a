"""The module glue (plugins/module_utils/_routeros/runner.py): failures reach fail_json with what the error knows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Outcome, Reader
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.runner import run_planner, run_reader

UNREACHABLE = {"hostname": "127.0.0.1", "username": "admin", "password": "s3cret", "port": 1, "timeout": 2}


class ModuleExitError(Exception):
    def __init__(self, failed: bool, result: dict[str, Any]) -> None:
        super().__init__(result)
        self.failed = failed
        self.result = result


class FakeModule:
    """Stands in for AnsibleModule: fail_json and exit_json end the run, as they do in a module."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.check_mode = False
        self._diff = False
        self.warnings: list[str] = []

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
        raise ModuleExitError(True, {"msg": msg, **kwargs})

    def exit_json(self, **kwargs: Any) -> NoReturn:
        raise ModuleExitError(False, kwargs)


def never_planned(reader: Reader, request: object) -> Outcome:
    raise AssertionError("planned although the input was refused")


def test_bad_input_fails_before_connecting() -> None:
    def refuse(params: Mapping[str, Any]) -> object:
        raise InputError("slot", "", "must be a non-empty name without spaces")

    with pytest.raises(ModuleExitError) as finished:
        run_planner(FakeModule({"hostname": "router.invalid"}), refuse, never_planned)
    assert finished.value.failed
    assert finished.value.result == {"msg": "slot: '' must be a non-empty name without spaces", "changed": False, "applied": []}


def test_reader_reports_a_connection_failure_without_the_password() -> None:
    with pytest.raises(ModuleExitError) as finished:
        run_reader(FakeModule(UNREACHABLE), lambda reader: {})
    assert finished.value.failed
    assert finished.value.result["msg"].startswith("connecting to admin@127.0.0.1:1: cannot reach the router API")
    assert "s3cret" not in str(finished.value.result)
