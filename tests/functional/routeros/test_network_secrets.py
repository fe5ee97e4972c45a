"""playbooks/network.yml never shows the RouterOS password: at -vvv, in check and diff mode, and in failing runs.

Each run uses Ansible's default callback at -vvv (what a person debugging sees) and writes Ansible's log file;
the password must be in neither the output nor the log. The failing runs carry the password into the failure:
a wrong password (the router refuses the login) and an inventory the validation refuses (a bad port next to
the password). Against a real router this applies the whole reference plan (ROUTEROS_ALLOW_FULL_PLAN=1).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.playbook import REPO, VENV_BIN, ansible_env
from tests.support.routeros import RouterOSTarget, network_override


def network_run(tmp_path: Path, override: Path, *extra: str) -> tuple[int, str]:
    """network.yml at -vvv with the default callback; its exit status and everything it printed or logged."""
    log = tmp_path / f"ansible-{len(list(tmp_path.glob('ansible-*.log')))}.log"
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_LOG_PATH=str(log))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-vvv", "-i", "inventories/example", "playbooks/network.yml", "-e", f"@{override}", *extra],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr + (log.read_text(errors="replace") if log.exists() else "")


def test_password_in_no_output_of_check_apply_and_rerun(routeros_full_plan: RouterOSTarget, tmp_path: Path) -> None:
    override = network_override(routeros_full_plan, tmp_path)
    for extra in (("--check", "--diff"), ("--diff",), ()):
        status, output = network_run(tmp_path, override, *extra)
        assert status == 0, output[-3000:]
        assert "ESTABLISH LOCAL CONNECTION" in output or "<localhost>" in output or "<rds1>" in output, "not a -vvv run"
        assert routeros_full_plan.password not in output, f"the password is shown by a run with {extra}"


def test_password_in_no_output_of_a_refused_login(routeros_full_plan: RouterOSTarget, tmp_path: Path) -> None:
    wrong = f"canary-{routeros_full_plan.password}-wrong"
    status, output = network_run(tmp_path, network_override(routeros_full_plan, tmp_path, password=wrong))
    assert status != 0
    assert "rds1" in output and "failed" in output.lower()
    assert wrong not in output


def test_password_in_no_output_of_a_refused_inventory(routeros_full_plan: RouterOSTarget, tmp_path: Path) -> None:
    status, output = network_run(tmp_path, network_override(routeros_full_plan, tmp_path, port="not-a-port"))
    assert status != 0
    assert "not-a-port" in output, output[-3000:]
    assert routeros_full_plan.password not in output
