"""The role's checks and decisions on the controller, against rshim simulators started here.

Two ansible-playbook runs, one inventory host per case:
- in check mode: bad input (stopped with a message naming the variable and the value), rshim devices that are
  missing, busy or in drop mode, and how the version the DPU runs is learnt (given, asked from a DPU that answers,
  fails or is unreachable) and decides the flash. Nothing is pushed into any simulator;
- for real, one flash the simulated installer fails: the role re-applies the host's networking (the DPU was
  reset), then fails with the installer's error and the log's path, and shows the password hash nowhere.

These run on the controller against simulators only; the flash of a real DPU is what the converge step does
against the simulator in the container.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from lab.simulators.rshim.bfb import make_bfb
from lab.simulators.rshim.launcher import RshimSimulator
from tests.support.playbook import REPO, VENV_BIN, ansible_env

WANTED = "2.9.1-checks"
OLD = "2.8.0-checks"
HASH_SENTINEL = "$6$checks$ThisHashMustNeverBeShownAnywhereInTheOutput0123456789"
SIM_SPEED = 1000.0


class Case(NamedTuple):
    """A host of the check-mode run; it has either failure fragments or decision fragments."""

    scenario: str | None  # the rshim simulator's scenario, None: no device at all
    variables: dict[str, Any]  # role variables on top of base_vars()
    failure: list[str]  # fragments of the first failure message
    decision: list[str]  # fragments of the decision message


CASES: dict[str, Case] = {
    "given_old_version_flashes": Case("success", {"dpu_flash_current_version": OLD}, [], [f"runs {OLD} (given in dpu_flash_current_version)", ": flash"]),
    "given_wanted_version_does_nothing": Case("success", {"dpu_flash_current_version": WANTED}, [], [f"runs {WANTED}", "nothing to do"]),
    "force_flashes_without_asking": Case(
        "success",
        {"dpu_flash_current_version": "", "dpu_flash_force": True},
        [],
        ["runs an unknown version (not asked, dpu_flash_force is true)", "flash (dpu_flash_force)"],
    ),
    "dpu_answers_with_wanted_version": Case(
        "success",
        {"dpu_flash_current_version": "", "dpu_flash_dpu_host": "dpu-answers", "dpu_flash_version_command": f"echo {WANTED}"},
        [],
        [f"runs {WANTED} (reported by dpu-answers)", "nothing to do"],
    ),
    "dpu_command_fails_means_unknown": Case(
        "success",
        {"dpu_flash_current_version": "", "dpu_flash_dpu_host": "dpu-answers", "dpu_flash_version_command": "cat /nonexistent/mlnx-release"},
        [],
        ["runs an unknown version ('cat /nonexistent/mlnx-release' on dpu-answers failed with 1", ": flash"],
    ),
    "unreachable_dpu_means_unknown": Case(
        "success",
        {"dpu_flash_current_version": "", "dpu_flash_dpu_host": "dpu-unreachable"},
        [],
        ["runs an unknown version (dpu-unreachable is unreachable", ": flash"],
    ),
    "missing_device": Case(
        None, {"dpu_flash_current_version": WANTED}, ["dpu_flash_rshim_device=rshim0", "does not exist", "Is the rshim service running"], []
    ),
    "busy_device": Case(
        "busy", {"dpu_flash_current_version": OLD}, ["dpu_flash_rshim_device=rshim0", "cannot take a boot stream", "boot is held open by pid"], []
    ),
    "drop_mode_device": Case("drop", {"dpu_flash_current_version": OLD}, ["dpu_flash_rshim_device=rshim0", "in DROP_MODE 1", "DROP_MODE 0"], []),
    "drop_mode_but_up_to_date": Case("drop", {"dpu_flash_current_version": WANTED}, [], ["nothing to do"]),
    "no_bfb_path": Case("success", {"dpu_flash_bfb_path": ""}, ["dpu_flash_bfb_path is empty"], []),
    "bad_device_name": Case("success", {"dpu_flash_rshim_device": "rshim"}, ["dpu_flash_rshim_device=rshim: not an rshim device name"], []),
    "missing_bfb_src": Case(
        "success",
        {"dpu_flash_bfb_src": "/nonexistent/image.bfb"},
        ["dpu_flash_bfb_src=/nonexistent/image.bfb: no such file on the controller"],
        [],
    ),
    "no_version_wanted": Case("success", {"dpu_flash_bfb_version": ""}, ["dpu_flash_bfb_version is empty"], []),
    "no_way_to_learn_the_version": Case(
        "success",
        {"dpu_flash_current_version": ""},
        ["dpu_flash_current_version and dpu_flash_dpu_host are both empty: the role cannot tell which version the DPU runs"],
        [],
    ),
    "dpu_not_in_inventory": Case("success", {"dpu_flash_dpu_host": "no-such-dpu"}, ["dpu_flash_dpu_host=no-such-dpu: not a host of the inventory"], []),
    "ssh_wait_without_address": Case("success", {"dpu_flash_wait_for_ssh": True}, ["dpu_flash_dpu_address is empty but dpu_flash_wait_for_ssh is true"], []),
    "bad_ssh_port": Case(
        "success",
        {"dpu_flash_wait_for_ssh": True, "dpu_flash_dpu_address": "10.42.64.93", "dpu_flash_ssh_port": 70000},
        ["dpu_flash_ssh_port=70000: not a TCP port"],
        [],
    ),
    "bad_network_address": Case(
        "success",
        {"dpu_flash_network_addresses": ["10.42.67.300/24"]},
        ["dpu_flash_network_addresses[0]=10.42.67.300/24: not an IP address"],
        [],
    ),
    "bad_timeout": Case("success", {"dpu_flash_timeout": 0}, ["dpu_flash_timeout=0: must be a number of seconds greater than 0"], []),
    "bad_hostname_for_bf_cfg": Case("success", {"dpu_flash_hostname": "bad name"}, ['dpu_flash_hostname="bad name": not a valid host name'], []),
    "clear_text_password_refused": Case(
        "success",
        {"dpu_flash_ubuntu_password_hash": "clear-text-secret"},
        ["dpu_flash_ubuntu_password_hash: not a crypt hash", "a clear-text password is refused"],
        [],
    ),
    "every_problem_at_once": Case(
        "success",
        {"dpu_flash_bfb_path": "", "dpu_flash_poll_interval": -1},
        ["has 2 problem(s)", "dpu_flash_bfb_path is empty", "dpu_flash_poll_interval=-1: must be a number of seconds greater than 0"],
        [],
    ),
    "wrong_type_caught_by_the_argument_spec": Case("success", {"dpu_flash_force": "perhaps"}, ["dpu_flash_force"], []),
}


COPY_CASE = "would_copy_the_bfb"
REFUSED_FS_CASE = "bfb_on_a_refused_file_system"


def write_playbook(workdir: Path, inventory: dict[str, Any]) -> tuple[Path, Path]:
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = [{"name": "dpu_flash role checks", "hosts": "hosts_under_test", "gather_facts": False, "roles": ["diskless.datacenter.dpu_flash"]}]
    (workdir / "play.yml").write_text(yaml.safe_dump(play))
    return workdir / "inventory.yml", workdir / "play.yml"


def run_playbook(workdir: Path, inventory: dict[str, Any], *options: str) -> tuple[dict[str, Any], str]:
    """Run the role on the inventory's hosts_under_test; the JSON report and the whole output."""
    inventory_file, play = write_playbook(workdir, inventory)
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory_file), str(play), *options]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=ansible_env(ANSIBLE_FORKS="10", ANSIBLE_VERBOSE_TO_STDERR="1"), cwd=REPO, check=False, timeout=240
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}") from exc
    return report, proc.stdout + proc.stderr


def results_by_host(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """host -> task name -> result (the last result of a task name wins)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for task in report["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            found.setdefault(host, {})[task["task"]["name"]] = result
    return found


def first_failure(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return next((result for result in results.values() if result.get("failed")), {})


def task_result(results: dict[str, dict[str, Any]], fragment: str) -> dict[str, Any]:
    return next((result for name, result in results.items() if fragment in name), {})


def base_vars(workdir: Path, bfb: Path) -> dict[str, Any]:
    """Role variables every case starts from (a valid input for a host that is asked nothing)."""
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "dpu_flash_bfb_path": str(bfb),
        "dpu_flash_bfb_version": WANTED,
        "dpu_flash_current_version": OLD,
        "dpu_flash_log_path": str(workdir / "logs" / "{device}.log"),
        "dpu_flash_timeout": 30,
        "dpu_flash_poll_interval": 0.05,
        # Nothing on the controller's own network may be touched.
        "dpu_flash_network_service": "",
        "dpu_flash_wait_for_ssh": False,
    }


DPU_HOSTS = {
    "dpu-answers": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    # Nothing listens on port 1 of the loopback: ssh is refused at once.
    "dpu-unreachable": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody"},
}


@pytest.fixture(scope="module")
def bfb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bfb") / "image.bfb"
    path.write_bytes(make_bfb(WANTED))
    return path


@pytest.fixture(scope="module")
def simulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RshimSimulator]]:
    """One simulator per device scenario the cases use, stopped (and unmounted) afterwards."""
    started: dict[str, RshimSimulator] = {}
    try:
        for scenario in sorted({case.scenario for case in CASES.values() if case.scenario is not None}):
            simulator = RshimSimulator(tmp_path_factory.mktemp(f"sim-{scenario}"), scenario, speed=SIM_SPEED)
            started[scenario] = simulator
            simulator.start()
        yield started
    finally:
        for simulator in started.values():
            simulator.stop()


@pytest.fixture(scope="module")
def check_mode_results(tmp_path_factory: pytest.TempPathFactory, bfb: Path, simulators: dict[str, RshimSimulator]) -> dict[str, dict[str, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("checks")
    empty_root = workdir / "no-devices"
    empty_root.mkdir()
    hosts = {}
    for name, case in CASES.items():
        root = str(simulators[case.scenario].root) if case.scenario else str(empty_root)
        hosts[name] = {**base_vars(workdir, bfb), "dpu_flash_device_root": root, **case.variables}
    hosts[COPY_CASE] = {
        **base_vars(workdir, bfb),
        "dpu_flash_device_root": str(simulators["success"].root),
        "dpu_flash_bfb_src": str(bfb),
        "dpu_flash_bfb_path": str(workdir / "on-host" / "image.bfb"),
    }
    # Whatever holds the test's BFB stands for a network file system.
    bfb_fs = subprocess.run(["stat", "--file-system", "--format=%T", str(bfb)], capture_output=True, text=True, check=True).stdout.strip()
    hosts[REFUSED_FS_CASE] = {
        **base_vars(workdir, bfb),
        "dpu_flash_device_root": str(simulators["success"].root),
        "dpu_flash_refused_bfb_filesystems": ["nfs", bfb_fs],
    }
    inventory = {"all": {"children": {"hosts_under_test": {"hosts": hosts}, "dpus": {"hosts": DPU_HOSTS}}}}
    report = run_playbook(workdir, inventory, "--check", "--diff")[0]
    for simulator in simulators.values():
        state = simulator.state()
        assert state["streams"] == [], f"check mode pushed into the {simulator.scenario} simulator"
        assert [entry for entry in state["boot_opens"] if entry["pid"] != state["holder_pid"]] == []
    assert not (workdir / "logs").exists()
    return results_by_host(report)


@pytest.mark.parametrize("case", sorted(CASES))
def test_case(check_mode_results: dict[str, dict[str, dict[str, Any]]], case: str) -> None:
    failure, decision = CASES[case].failure, CASES[case].decision
    results = check_mode_results[case]
    failed = first_failure(results)
    if failure:
        assert failed, f"{case}: the role accepted it"
        for fragment in failure:
            assert fragment in str(failed.get("msg", failed)), failed.get("msg", failed)
        return
    assert not failed, failed.get("msg", failed)
    message = str(task_result(results, "Decide | Report the decision").get("msg"))
    for fragment in decision:
        assert fragment in message, message
    flash = task_result(results, "Push the BFB and bf.cfg")
    if "nothing to do" in message:
        assert flash.get("skipped") is True
    else:
        assert flash.get("changed") is True
        assert str(flash.get("msg", "")).startswith("would push image.bfb + bf.cfg"), flash
        assert "Check mode: would push" in str(task_result(results, "Say what a real run would do").get("msg"))


def test_check_mode_says_it_would_copy_the_bfb_and_copies_nothing(check_mode_results: dict[str, dict[str, dict[str, Any]]], bfb: Path) -> None:
    results = check_mode_results[COPY_CASE]
    assert not first_failure(results)
    message = str(task_result(results, "Say what a real run would do").get("msg"))
    target = Path(message.split(" to ", 1)[1].split(", then", 1)[0])
    assert message.startswith(f"Check mode: would copy {bfb} to {target}, then push {target} + bf.cfg"), message
    assert task_result(results, "Copy the BFB").get("changed") is True
    assert task_result(results, "Push the BFB and bf.cfg").get("skipped") is True
    assert not target.parent.exists()


def test_bfb_on_a_refused_file_system_is_not_flashed(check_mode_results: dict[str, dict[str, dict[str, Any]]], bfb: Path) -> None:
    failed = first_failure(check_mode_results[REFUSED_FS_CASE])
    assert f"dpu_flash_bfb_path={bfb} is on a" in failed.get("msg", ""), failed
    assert "Put the BFB on local storage or tmpfs" in failed["msg"]


def test_failed_flash_reapplies_networking_and_fails_with_the_installer_error(tmp_path: Path, bfb: Path) -> None:
    marker = tmp_path / "network-reapplied"
    with RshimSimulator(tmp_path / "sim", "error", speed=SIM_SPEED) as simulator:
        host = {
            **base_vars(tmp_path, bfb),
            "dpu_flash_device_root": str(simulator.root),
            "dpu_flash_ubuntu_password_hash": HASH_SENTINEL,
            "dpu_flash_network_commands": [f"touch {marker}"],
            "dpu_flash_network_addresses": ["127.0.0.1/8"],
        }
        inventory = {"all": {"children": {"hosts_under_test": {"hosts": {"failing": host}}}}}
        report, output = run_playbook(tmp_path, inventory, "-vvv")
        streams = simulator.state()["streams"]
    results = results_by_host(report)["failing"]
    assert task_result(results, "Push the BFB and bf.cfg").get("failed") is True
    failed = task_result(results, "Report the failed flash")
    assert "flashing rshim0 failed" in failed["msg"], failed
    assert "ERR[MISC]: Installation failed" in failed["msg"], failed["msg"]
    assert f"full log in {tmp_path / 'logs' / 'rshim0.log'} on the host" in failed["msg"]
    assert report["stats"]["failing"]["rescued"] == 1
    assert marker.exists(), "the host's networking was not re-applied after the failed flash"
    assert len(streams) == 1 and streams[0]["bf_cfg"] is True
    assert HASH_SENTINEL not in output
    assert HASH_SENTINEL not in (tmp_path / "logs" / "rshim0.log").read_text()
