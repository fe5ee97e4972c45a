"""The lab's links on this machine: podman networks' bridges, the guests' tap devices, network namespaces."""

from __future__ import annotations

import json

from lab.host import podman, run


def bridge_of(network: str) -> str:
    """The Linux bridge behind a podman network (netavark creates it when the first container joins)."""
    return str(json.loads(podman("network", "inspect", network).stdout)[0]["network_interface"])


def add_tap(tap: str, bridge: str) -> None:
    """A tap device for a guest, up and enslaved to BRIDGE."""
    run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
    run(["ip", "link", "set", tap, "master", bridge])
    run(["ip", "link", "set", tap, "up"])


def remove_link(name: str) -> None:
    """Delete a link (tap, veth) if it exists."""
    run(["ip", "link", "del", name], check=False)


def network_namespaces() -> list[str]:
    """Names of this machine's network namespaces (`ip netns list`), read only."""
    result = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def podman_networks() -> list[str]:
    result = podman("network", "ls", "--format", "{{.Name}}", check=False)
    return [line for line in result.stdout.splitlines() if line.strip()]


def link_exists(name: str) -> bool:
    return run(["ip", "link", "show", "dev", name], check=False).returncode == 0
