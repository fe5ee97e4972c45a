"""K3s for real: the etcd and k3s_server roles install and start K3s from airgap artifacts in a systemd container.

Runs when K3S_AIRGAP_DIR names a directory holding a K3s release for this machine's architecture:
the binary (`k3s` on amd64, `k3s-arm64`, `k3s-armhf`) and the images tarball
(`k3s-airgap-images-<arch>.tar.zst`), with the release's `sha256sum-<arch>.txt` when available
(otherwise the test hands the roles the sums of the files it was given). Skipped otherwise: K3s
cannot be downloaded on the development machines.

The container (privileged, systemd, its own podman network, volumes for the K3s state) runs one etcd
member from Debian's packages and one K3s server using it as its external datastore, as a DPU does.
The test waits for the node to be Ready, reads the API through the kubeconfig fetched to the
controller, and removes the container, its volumes and the network at the end, also on failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, VENV_BIN, ansible_env

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(platform.machine(), platform.machine())
BINARY = {"amd64": "k3s", "arm64": "k3s-arm64", "arm": "k3s-armhf"}.get(ARCH, f"k3s-{ARCH}")
IMAGES = f"k3s-airgap-images-{ARCH}.tar.zst"
AIRGAP = Path(os.environ.get("K3S_AIRGAP_DIR", ""))
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "tools/podman/containers.conf")}


def skip_reason() -> str | None:
    if not os.environ.get("K3S_AIRGAP_DIR"):
        return "K3S_AIRGAP_DIR is not set (a directory with a K3s release: binary and airgap images tarball)"
    missing = [name for name in (BINARY, IMAGES) if not (AIRGAP / name).is_file()]
    if missing:
        return f"K3S_AIRGAP_DIR={AIRGAP} lacks {', '.join(missing)} for this machine ({ARCH})"
    return None


pytestmark = [pytest.mark.real_device, pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")]


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=PODMAN_ENV, check=check, timeout=timeout)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def dpu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A systemd container on a network of its own, removed (with volumes and network) afterwards."""
    name = f"dc-k3s-real-{uuid.uuid4().hex[:6]}"
    podman("network", "create", name)
    try:
        podman(
            "run", "--detach", "--name", name, "--hostname", name, "--network", name, "--privileged", "--systemd=always",
            "--volume", "/var/lib/rancher", "--volume", "/var/lib/kubelet", "--volume", "/var/lib/etcd",
            "localhost/diskless-base:latest", "/sbin/init",
        )  # fmt: skip
        address = podman("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).stdout.strip()
        yield {"name": name, "address": address, "workdir": tmp_path_factory.mktemp("k3s-real")}
    finally:
        podman("rm", "--force", "--volumes", name, check=False)
        podman("network", "rm", "--force", name, check=False)


@pytest.fixture(scope="module")
def converged(dpu: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    workdir: Path = dpu["workdir"]
    inventory = {
        "all": {
            "children": {"dpus": {"hosts": {dpu["name"]: {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}}}}
        }
    }
    sums_file = AIRGAP / f"sha256sum-{ARCH}.txt"
    sums = {} if sums_file.is_file() else {"k3s_server_binary_sha256": sha256(AIRGAP / BINARY), "k3s_server_images_sha256": sha256(AIRGAP / IMAGES)}
    plays = [
        {
            "name": "etcd",
            "hosts": "dpus",
            "gather_facts": True,
            "roles": [{"role": "diskless.datacenter.etcd", "vars": {"etcd_pki_controller_dir": str(workdir / "etcd-pki")}}],
        },
        {
            "name": "K3s server",
            "hosts": "dpus",
            "gather_facts": True,
            "roles": [
                {
                    "role": "diskless.datacenter.k3s_server",
                    "vars": {
                        "k3s_server_airgap_dir": str(AIRGAP),
                        "k3s_server_datastore_endpoints": [f"https://{dpu['address']}:2379"],
                        "k3s_server_secrets_dir": str(workdir / "k3s"),
                        **sums,
                    },
                }
            ],
        },
    ]
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (workdir / "play.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", CONTAINERS_CONF=PODMAN_ENV["CONTAINERS_CONF"])
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=1200,
    )


def test_roles_install_and_start_k3s_on_the_etcd_cluster(converged: subprocess.CompletedProcess[str]) -> None:
    assert converged.returncode == 0, converged.stdout[-6000:] + converged.stderr[-3000:]


def test_node_is_ready(dpu: dict[str, Any], converged: subprocess.CompletedProcess[str]) -> None:
    assert converged.returncode == 0
    nodes = json.loads(podman("exec", dpu["name"], "k3s", "kubectl", "get", "nodes", "-o", "json").stdout)["items"]
    assert [node["metadata"]["name"] for node in nodes] == [dpu["name"]]
    conditions = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    # No CNI is deployed (flannel-backend none, Cilium comes later): the node may report NetworkUnavailable,
    # but the kubelet must have registered and report itself alive.
    assert conditions.get("MemoryPressure") == "False" and conditions.get("PIDPressure") == "False"


def test_state_lives_in_the_etcd_cluster(dpu: dict[str, Any], converged: subprocess.CompletedProcess[str]) -> None:
    assert converged.returncode == 0
    keys = podman(
        "exec", "-e", "ETCDCTL_API=3", "-e", f"ETCDCTL_ENDPOINTS=https://{dpu['address']}:2379", "-e", "ETCDCTL_CACERT=/etc/etcd/pki/ca.crt",
        "-e", "ETCDCTL_CERT=/etc/etcd/pki/client.crt", "-e", "ETCDCTL_KEY=/etc/etcd/pki/client.key",
        dpu["name"], "etcdctl", "get", "--prefix", "--keys-only", "/registry/minions/",
    )  # fmt: skip
    assert f"/registry/minions/{dpu['name']}" in keys.stdout.split()


def test_kubeconfig_on_the_controller_points_at_the_server(dpu: dict[str, Any], converged: subprocess.CompletedProcess[str]) -> None:
    assert converged.returncode == 0
    kubeconfig = dpu["workdir"] / "k3s" / "kubeconfig"
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == f"https://{dpu['address']}:6443"
    ready = subprocess.run(
        [str(AIRGAP / BINARY), "kubectl", "--kubeconfig", str(kubeconfig), "get", "--raw=/readyz"], capture_output=True, text=True, check=False, timeout=60
    )
    assert ready.stdout.strip() == "ok", ready.stderr
