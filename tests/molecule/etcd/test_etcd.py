"""Verify the etcd cluster from outside, as its clients see it, and a rolling restart under writes.

Cluster-wide tests run on this machine with its own etcdctl and curl, against the members' addresses
on the scenario's podman network, using the CA and client certificate from the controller's PKI
(which Molecule keeps in the scenario's ephemeral directory). Per-member tests use testinfra's host.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MEMBERS = ("dc-molecule-etcd1", "dc-molecule-etcd2", "dc-molecule-etcd3")
# testinfra talks to the members with podman exec: much quicker than through Ansible, one call per check.
testinfra_hosts = [f"podman://{name}" for name in MEMBERS]
PKI = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "etcd-pki"
SCENARIO = Path(__file__).resolve().parents[3] / "extensions" / "molecule" / Path(__file__).parent.name
CONVERGE = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", SCENARIO)) / "converge.yml"
BACKUP = "/var/backups/etcd/molecule-rolling.db"
REPLACED = MEMBERS[2]


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def member_address(name: str) -> str:
    return podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)


@pytest.fixture(scope="module")
def endpoints() -> dict[str, str]:
    return {name: f"https://{member_address(name)}:2379" for name in MEMBERS}


def etcdctl(endpoints: list[str], *args: str, certificate: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {"ETCDCTL_API": "3", "ETCDCTL_ENDPOINTS": ",".join(endpoints), "ETCDCTL_CACERT": str(PKI / "ca.crt"), "PATH": os.environ["PATH"]}
    if certificate:
        env |= {"ETCDCTL_CERT": str(PKI / "client.crt"), "ETCDCTL_KEY": str(PKI / "client.key")}
    return subprocess.run(["etcdctl", *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def unit_times(name: str) -> dict[str, int]:
    """Monotonic timestamps of etcd's last start and stop (one kernel clock, comparable across containers)."""
    out = podman("exec", name, "systemctl", "show", "etcd", "-p", "ActiveEnterTimestampMonotonic", "-p", "ActiveExitTimestampMonotonic")
    return {key: int(value) for key, value in (line.split("=", 1) for line in out.splitlines())}


# ---- per member ----------------------------------------------------------------------------------
def test_member_runs_our_unit_and_is_enabled(host: Any) -> None:
    service = host.service("etcd")
    assert service.is_running
    assert service.is_enabled
    assert host.run("systemctl show etcd -p FragmentPath").stdout.strip() == "FragmentPath=/etc/systemd/system/etcd.service"


def test_member_secrets_are_private(host: Any) -> None:
    member_key = host.file("/etc/etcd/pki/member.key")
    assert (member_key.user, member_key.mode) == ("etcd", 0o600)
    client_key = host.file("/etc/etcd/pki/client.key")
    assert (client_key.user, client_key.mode) == ("root", 0o600)
    data = host.file("/var/lib/etcd/cluster")
    assert (data.user, data.mode) == ("etcd", 0o700)


def test_member_settings_are_sized_for_a_dpu(host: Any) -> None:
    settings = dict(line.split("=", 1) for line in host.file("/etc/etcd/etcd.env").content_string.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["ETCD_HEARTBEAT_INTERVAL"] == "250"
    assert settings["ETCD_ELECTION_TIMEOUT"] == "5000"
    assert settings["ETCD_QUOTA_BACKEND_BYTES"] == str(2 * 1024**3)
    assert settings["ETCD_AUTO_COMPACTION_MODE"] == "periodic"
    assert settings["ETCD_CLIENT_CERT_AUTH"] == settings["ETCD_PEER_CLIENT_CERT_AUTH"] == "true"


# ---- the cluster, from a client ------------------------------------------------------------------
def test_cluster_is_healthy_with_three_named_members(endpoints: dict[str, str]) -> None:
    health = etcdctl(list(endpoints.values()), "endpoint", "health")
    assert health.returncode == 0, health.stdout + health.stderr
    members = json.loads(etcdctl([endpoints[MEMBERS[0]]], "member", "list", "--write-out=json").stdout)["members"]
    assert sorted(m["name"] for m in members) == sorted(MEMBERS)
    assert sorted(url for m in members for url in m["clientURLs"]) == sorted(endpoints.values())


def test_write_through_one_member_read_through_another(endpoints: dict[str, str]) -> None:
    put = etcdctl([endpoints[MEMBERS[0]]], "put", "/molecule/handover", "written-via-etcd1")
    assert put.returncode == 0, put.stderr
    get = etcdctl([endpoints[MEMBERS[2]]], "get", "--print-value-only", "/molecule/handover")
    assert get.returncode == 0, get.stderr
    assert get.stdout.strip() == "written-via-etcd1"


def get_health(address: str, *, certificate: bool) -> str:
    """GET /health over TLS, verifying the member against the cluster's CA; optionally with the client certificate."""
    context = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    if certificate:
        context.load_cert_chain(PKI / "client.crt", PKI / "client.key")
    connection = http.client.HTTPSConnection(address, 2379, context=context, timeout=10)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_client_without_certificate_is_refused(endpoints: dict[str, str]) -> None:
    address = member_address(MEMBERS[1])
    assert '"health":"true"' in get_health(address, certificate=True)
    # TLS 1.3: the member ends the session with a certificate_required alert (or a reset) instead of answering.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        get_health(address, certificate=False)
    refused = etcdctl([endpoints[MEMBERS[1]]], "get", "/molecule/handover", certificate=False, timeout=30)
    assert refused.returncode != 0
    assert "written-via-etcd1" not in refused.stdout


# ---- a changed setting rolls through the members while a client keeps writing --------------------
# Two things make a single write fail without anything being wrong with the cluster, and a client library
# sends such a write once more (the writer's puts are idempotent: key n = value n):
# - while leadership moves (once per roll: the leader restarts last, after handing over), raft drops the
#   proposals in flight: the leader answers "raft proposal dropped", a follower that forwarded one never
#   hears back and its client times out;
# - the member the call went to is stopping or starting: connection refused or reset, or etcd 3.4's
#   HTTP front answering before its gRPC service is there ("transport: missing content-type field").
# A write that fails again, or fails with any other error, is a failed write: with quorum lost, the
# resend times out too.
IN_FLIGHT_DURING_LEADER_CHANGE = ("raft proposal dropped", "context deadline exceeded", "leader changed")
MEMBER_RESTARTING = ("transport:", "connection refused", "connection reset", "code = Unavailable")


@dataclass
class Writer:
    """Writes /molecule/writer/<n> through all three endpoints, one etcdctl call after another."""

    endpoints: list[str]
    written: int = 0
    resent: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def put(self) -> subprocess.CompletedProcess[str]:
        return etcdctl(self.endpoints, "put", f"/molecule/writer/{self.written:06d}", str(self.written))

    def run(self) -> None:
        while not self.stop.is_set():
            result = self.put()
            if result.returncode != 0 and any(reason in result.stderr for reason in IN_FLIGHT_DURING_LEADER_CHANGE + MEMBER_RESTARTING):
                self.resent += 1
                result = self.put()
            if result.returncode == 0:
                self.written += 1
            else:
                self.failures.append(f"write {self.written}: {result.stderr.strip()[-300:]}")
                self.written += 1


@dataclass
class RollingRun:
    playbook: subprocess.CompletedProcess[str]
    writer: Writer
    snapshot_count: int
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]


def replace_member(endpoints: dict[str, str], name: str) -> None:
    """Take a member out as after a disk failure: removed from the cluster, stopped, data wiped."""
    members = json.loads(etcdctl([endpoints[MEMBERS[0]]], "member", "list", "--write-out=json").stdout)["members"]
    member_id = next(member["ID"] for member in members if member["name"] == name)
    removed = etcdctl([endpoints[MEMBERS[0]]], "member", "remove", f"{member_id:x}")
    assert removed.returncode == 0, removed.stderr
    podman("exec", name, "systemctl", "stop", "etcd")
    podman("exec", name, "rm", "-rf", "/var/lib/etcd/cluster/member")


def wait_for_leader(endpoints: list[str], deadline_s: float = 90) -> None:
    """Wait until the given members agree on a leader among themselves and accept a write.

    Removing the member that happened to lead starts an election (5 to 10 s with the DPU-sized
    election timeout), longer than etcdctl's 5 s command timeout: that is the set-up of the test,
    not the rolling restart it measures, so the writer starts only once the cluster has a leader.
    """
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        status = etcdctl(endpoints, "endpoint", "status", "--write-out=json")
        if status.returncode == 0:
            reports = json.loads(status.stdout)
            leaders = {report["Status"]["leader"] for report in reports}
            members = {report["Status"]["header"]["member_id"] for report in reports}
            if len(leaders) == 1 and leaders <= members and etcdctl(endpoints, "put", "/molecule/leader-probe", "1").returncode == 0:
                return
        time.sleep(1)
    pytest.fail(f"no leader among {endpoints} after {deadline_s} s: {status.stdout} {status.stderr}")


@pytest.fixture(scope="module")
def rolling(endpoints: dict[str, str]) -> Iterator[RollingRun]:
    """Replace a member and change a setting, then converge while a writer writes; ask for a snapshot on the way.

    The run must add the replaced member back (etcdctl member add, start, wait) and restart the
    others one at a time for the new setting.
    """
    before = {name: unit_times(name) for name in MEMBERS}
    replace_member(endpoints, REPLACED)
    wait_for_leader([address for name, address in endpoints.items() if name != REPLACED])
    # Any value other than the current one (verify may run more than once on the same members).
    current = podman("exec", MEMBERS[0], "sed", "-n", "s/^ETCD_SNAPSHOT_COUNT=//p", "/etc/etcd/etcd.env")
    snapshot_count = 20000 if current != "20000" else 20001
    writer = Writer(list(endpoints.values()))
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    extra = {"etcd_snapshot_count": snapshot_count, "etcd_backup": True, "etcd_backup_path": BACKUP}
    try:
        playbook = subprocess.run(
            # The configuration phases only: installing is not what this run is about.
            ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(CONVERGE), "-e", json.dumps(extra), "--tags", "etcd_configure,etcd_backup"],
            capture_output=True,
            text=True,
            timeout=420,
            check=False,
        )
    finally:
        writer.stop.set()
        thread.join(timeout=60)
    yield RollingRun(playbook, writer, snapshot_count, before, {name: unit_times(name) for name in MEMBERS})


def test_rolling_converge_succeeds(rolling: RollingRun) -> None:
    assert rolling.playbook.returncode == 0, rolling.playbook.stdout[-4000:] + rolling.playbook.stderr[-2000:]


def test_no_write_failed_during_the_restarts(rolling: RollingRun, endpoints: dict[str, str]) -> None:
    writer = rolling.writer
    assert writer.written > 0
    assert writer.failures == [], f"{writer.written} writes, {writer.resent} resent"
    # Per member: its own restart under a call, and at most one leadership change per roll.
    assert writer.resent <= 2 * len(MEMBERS), f"{writer.written} writes, {writer.resent} resent"
    stored = etcdctl(list(endpoints.values()), "get", "--prefix", "--limit=1", "--write-out=json", "/molecule/writer/")
    assert json.loads(stored.stdout)["count"] == writer.written, stored.stdout[:500]


def test_every_member_restarted_and_never_two_at_once(rolling: RollingRun) -> None:
    for name in MEMBERS:
        assert rolling.after[name]["ActiveEnterTimestampMonotonic"] > rolling.before[name]["ActiveEnterTimestampMonotonic"], name
    order = sorted(MEMBERS, key=lambda name: rolling.after[name]["ActiveExitTimestampMonotonic"])
    for current, following in itertools.pairwise(order):
        # `current` was serving again before `following` began to stop.
        assert rolling.after[current]["ActiveEnterTimestampMonotonic"] < rolling.after[following]["ActiveExitTimestampMonotonic"], (current, following)


def test_replaced_member_joined_the_running_cluster(rolling: RollingRun, endpoints: dict[str, str]) -> None:
    members = json.loads(etcdctl([endpoints[MEMBERS[0]]], "member", "list", "--write-out=json").stdout)["members"]
    assert sorted(member["name"] for member in members) == sorted(MEMBERS)
    bootstrap = podman("exec", REPLACED, "cat", "/etc/etcd/bootstrap.env").splitlines()
    assert "ETCD_INITIAL_CLUSTER_STATE=existing" in bootstrap
    assert "Join | Announce the new member to the cluster" in rolling.playbook.stdout
    # Data written before the replacement reaches the new member.
    get = etcdctl([endpoints[REPLACED]], "get", "--print-value-only", "--consistency=s", "/molecule/handover")
    assert get.stdout.strip() == "written-via-etcd1", get.stderr


def test_setting_reached_every_member(rolling: RollingRun) -> None:
    for name in MEMBERS:
        assert f"ETCD_SNAPSHOT_COUNT={rolling.snapshot_count}" in podman("exec", name, "cat", "/etc/etcd/etcd.env").splitlines()


def test_backup_snapshot_was_saved(rolling: RollingRun) -> None:
    holders = [name for name in MEMBERS if subprocess.run(["podman", "exec", name, "test", "-s", BACKUP], check=False).returncode == 0]
    assert len(holders) == 1, holders
    status = podman("exec", "-e", "ETCDCTL_API=3", holders[0], "etcdctl", "snapshot", "status", BACKUP, "--write-out=json")
    assert json.loads(status)["totalKey"] > 0
    assert podman("exec", holders[0], "stat", "-c", "%a %U", BACKUP) == "600 root"
