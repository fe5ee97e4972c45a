"""Secrets stay out of the output: every task whose arguments carry one has ``no_log: true``.

A static walk over every playbook and every role's task files (blocks included). A task "carries a
secret" when its arguments (its module arguments, loop and vars, not its name) mention one of the
variables below, which hold RouterOS credentials, K3s tokens, password hashes or bf.cfg contents.
Modules that declare the argument ``no_log`` themselves (bfb_install's config) are allowed without.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO

SECRETS = re.compile(
    r"dc_routeros|__routeros\b|rds_api\.password|password_hash|__k3s_server_token_value|__k3s_server_agent_token_value"
    r"|__k3s_server_settings|__k3s_agent_settings|__dpu_flash_bfcfg|ansible\.builtin\.password"
)
# Module argument that the module itself declares no_log (its value is masked in the result).
MASKED_BY_MODULE = {("diskless.datacenter.bfb_install", "config")}
NOT_ARGUMENTS = {"name", "when", "tags", "no_log", "register", "notify", "loop_control", "changed_when", "failed_when"}
FILES = sorted([*REPO.glob("playbooks/*.yml"), *REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("roles/*/handlers/*.yml")])


def tasks_of(items: Any) -> Iterator[dict[str, Any]]:
    for item in items or []:
        if not isinstance(item, dict):
            continue
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            if isinstance(item.get(key), list):
                yield from tasks_of(item[key])
        if "block" not in item and "hosts" not in item:
            yield item


def secret_arguments(task: dict[str, Any]) -> list[str]:
    found = []
    for key, value in task.items():
        if key in NOT_ARGUMENTS:
            continue
        parts = [(key, sub, subvalue) for sub, subvalue in value.items()] if isinstance(value, dict) else [(key, "", value)]
        for module, sub, subvalue in parts:
            if (module, sub) in MASKED_BY_MODULE:
                continue
            if SECRETS.search(yaml.safe_dump({sub: subvalue})):
                found.append(f"{module}.{sub}" if sub else module)
    return found


def test_the_walk_finds_the_secret_tasks() -> None:
    """Guard against a walk that sees nothing: the known secret tasks are among those checked."""
    names = {task.get("name") for path in FILES for task in tasks_of(yaml.safe_load(path.read_text())) if secret_arguments(task)}
    assert "Read the RouterOS API settings (they hold the password)" in names
    assert "Token | Read the tokens" in names
    assert "Etc | Set root's password in each host's /etc/shadow" in names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_tasks_with_secrets_have_no_log(path: Path) -> None:
    leaking = [
        f"{task.get('name', '?')}: {', '.join(args)}"
        for task in tasks_of(yaml.safe_load(path.read_text()))
        if (args := secret_arguments(task)) and task.get("no_log") is not True
    ]
    assert not leaking, f"{path.relative_to(REPO)}: tasks with secrets in their arguments and no no_log: true: {leaking}"
