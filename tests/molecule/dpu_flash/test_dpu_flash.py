"""Verify the dpu_flash role on the simulated host after converge and the idempotence run.

What is read: the log the role kept on the host, what the rshim simulator recorded about the boot stream it was
given (sim-state.json) and what its simulated installer took from bf.cfg (the DPU's /etc/bf.cfg and
/etc/mlnx-release), the host's interfaces, and the journal of the host's stand-ins and of systemd-networkd.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

testinfra_hosts = ["diskless_hosts"]

LOG = "/var/log/bfb_install_rshim0.log"
INTERFACE = "vlan67"


def sim_path(scenario: dict[str, Any], *parts: str) -> str:
    return os.path.join(scenario["scenario_sim_dir"], *parts)


@pytest.fixture(scope="module")
def sim_state(dpu_host: Any, scenario: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(dpu_host.file(sim_path(scenario, "sim-state.json")).content_string))


def journal(dpu_host: Any, *matches: str) -> list[tuple[int, str]]:
    """(monotonic microseconds, message) of the journal entries matching any of `matches` (journalctl syntax)."""
    selection = " + ".join(matches)
    lines = dpu_host.check_output(f"journalctl --no-pager -o json {selection}").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return [(int(entry["__MONOTONIC_TIMESTAMP"]), str(entry.get("MESSAGE", ""))) for entry in entries]


def test_flash_log_is_kept_on_the_host(dpu_host: Any, scenario: dict[str, Any]) -> None:
    log = dpu_host.file(LOG)
    assert log.is_file
    assert (log.user, log.mode) == ("root", 0o640)
    lines = log.content_string.splitlines()
    assert lines[0].startswith("# bfb_install ")
    assert f"# bfb {scenario['scenario_bfb_path']} version {scenario['scenario_bfb_version']}; bf.cfg yes" in lines
    assert "INFO[MISC]: Installation finished" in [line.strip() for line in lines]
    assert lines[-1].strip() == "INFO[MISC]: DPU is ready"
    assert scenario["scenario_password_hash"] not in log.content_string


def test_the_dpu_was_flashed_once_with_bfb_and_bf_cfg(sim_state: dict[str, Any], scenario: dict[str, Any]) -> None:
    """One complete stream with a bf.cfg after it: converge flashed, the idempotence run did not."""
    assert len(sim_state["boot_opens"]) == 1
    [stream] = sim_state["streams"]
    assert stream["complete"] is True
    assert stream["error"] is None
    assert stream["bf_cfg"] is True
    assert (sim_state["phase"], sim_state["installed_version"]) == ("ready", scenario["scenario_bfb_version"])
    assert (sim_state["display_level"], sim_state["clear_on_read"], sim_state["boot_mode"]) == (0, False, 1)


def test_the_bfb_was_copied_from_the_controller(dpu_host: Any, scenario: dict[str, Any], sim_state: dict[str, Any]) -> None:
    controller_copy = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "molecule.bfb").read_bytes()
    on_host = dpu_host.file(scenario["scenario_bfb_path"])
    assert on_host.sha256sum == hashlib.sha256(controller_copy).hexdigest()
    assert sim_state["streams"][0]["bytes"] > len(controller_copy)  # bf.cfg followed the BFB


def test_the_dpu_reports_the_wanted_version(dpu_host: Any, scenario: dict[str, Any]) -> None:
    release = dpu_host.file(sim_path(scenario, "dpu", "etc", "mlnx-release"))
    assert release.content_string.strip() == scenario["scenario_bfb_version"]


def test_bf_cfg_reached_the_installer(dpu_host: Any, scenario: dict[str, Any]) -> None:
    """The simulated installer keeps the bf.cfg it sourced; its settings changed what the installer did."""
    installed = dpu_host.file(sim_path(scenario, "dpu", "etc", "bf.cfg"))
    text = installed.content_string
    assert f"ubuntu_PASSWORD='{scenario['scenario_password_hash']}'" in text.splitlines()
    assert "UPDATE_ATF_UEFI=no" in text.splitlines()
    assert "\tprintf '%s\\n' c4140-dpu > /mnt/etc/hostname" in text.splitlines()
    assert "\techo molecule-modify-os > /mnt/etc/molecule-marker" in text.splitlines()
    assert dpu_host.run(f"bash -n {installed.path}").rc == 0
    log = [line.strip() for line in dpu_host.file(LOG).content_string.splitlines()]
    assert "INFO[MISC]: Found bf.cfg" in log
    assert "INFO[MISC]: Changing the default password for user ubuntu" in log
    assert "INFO[MISC]: Running bfb_modify_os from bf.cfg" in log


def test_the_password_hash_is_in_no_log_of_the_host(dpu_host: Any, scenario: dict[str, Any]) -> None:
    """Modules log their arguments to the journal; bfb_install's config (bf.cfg) must be masked there."""
    invocations = journal(dpu_host, "SYSLOG_IDENTIFIER=ansible-diskless.datacenter.bfb_install")
    assert invocations, "bfb_install left no trace in the journal"
    assert all(scenario["scenario_password_hash"] not in message for stamp, message in invocations)
    assert any("config=NOT_LOGGING_PARAMETER" in message for stamp, message in invocations)


def test_the_host_vlan_interface_vanished_and_came_back(dpu_host: Any, scenario: dict[str, Any]) -> None:
    """The stand-in removed vlan67 when the DPU reset; only the role's networkd restart can have made it again."""
    entries = journal(dpu_host, "_SYSTEMD_UNIT=host-standins.service", "UNIT=systemd-networkd.service")
    removed = [stamp for stamp, message in entries if message.startswith(f"DPU reset: host interface {INTERFACE} removed")]
    started = [stamp for stamp, message in entries if message.startswith("Started systemd-networkd")]
    assert len(removed) == 1, entries
    assert started and started[-1] > removed[0], entries
    assert scenario["scenario_host_address"] in dpu_host.check_output(f"ip -brief address show dev {INTERFACE}")


def test_the_reapply_command_ran_once(dpu_host: Any, scenario: dict[str, Any]) -> None:
    marker = dpu_host.file(scenario["scenario_reapply_marker"])
    assert marker.is_file
    assert len(marker.content_string.split()) == 1


def test_the_role_waited_for_the_dpu_ssh_server(dpu_host: Any) -> None:
    """A banner was sent after the DPU came back from the flash (the stand-in answers only while Linux runs)."""
    messages = [message for stamp, message in journal(dpu_host, "_SYSTEMD_UNIT=host-standins.service")]
    reset = next(index for index, message in enumerate(messages) if message.startswith("DPU reset"))
    after = messages[reset:]
    answering = next(index for index, message in enumerate(after) if message.startswith("DPU runs Linux"))
    assert any(message.startswith("SSH banner sent") for message in after[answering:]), messages
