"""Router data and readers for the RouterOS engine tests (not a test module): fixed raw rows, as the router answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Outcome, PathSpec, Row, row_from_raw
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.netboot import NetbootRequest, plan_netboot
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.nvme import NvmeRequest, plan_nvme_export
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.vlan import VlanRequest, plan_vlan


class StaticReader:
    """Fixed raw rows per path (what the router would answer); for planning without a router."""

    def __init__(self, rows: Mapping[str, Sequence[Mapping[str, str]]], router_address: str | None = None) -> None:
        self._rows = rows
        self._router_address = router_address

    def read(self, spec: PathSpec) -> list[Row]:
        return [row_from_raw(spec, raw) for raw in self._rows.get(spec.path, [])]

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]:
        rows = self._rows.get(spec.path, [])
        return [row_from_raw(spec, raw) for raw in rows if all(raw.get(name) == value for name, value in equal.items())]

    @property
    def router_address(self) -> str | None:
        return self._router_address


class RecordingReader(StaticReader):
    """A StaticReader that remembers which menus were read (a Session caches them: one print per menu)."""

    def __init__(self, rows: Mapping[str, Sequence[Mapping[str, str]]]) -> None:
        super().__init__(rows)
        self.paths: list[str] = []

    def read(self, spec: PathSpec) -> list[Row]:
        self.paths.append(spec.path)
        return super().read(spec)

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]:
        self.paths.append(spec.path)
        return super().query(spec, equal)


def rows(spec: PathSpec, *raw: Mapping[str, str]) -> list[Row]:
    return [row_from_raw(spec, item) for item in raw]


ETHERNETS = [{".id": f"*{n}", "name": f"ether{n}", "type": "ether"} for n in range(1, 6)]


def vlan_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "bridge": {"name": "br1", "vlan_filtering": True},
        "ports": [{"interface": "ether1", "frame_types": "admit-only-vlan-tagged"}, {"interface": "ether2", "pvid": 65}],
        "vlans": [
            {"vlan_ids": 64, "tagged": ["br1", "ether1"], "untagged": []},
            {"vlan_ids": "65", "tagged": ["br1", "ether1"], "untagged": ["ether2"]},
        ],
        "interfaces": [{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}, {"name": "vlan65", "vlan_id": 65, "addresses": ["10.42.65.1/24"]}],
        "management_vlan": 64,
        "management_address": "10.42.64.1/24",
        "management_port": "ether1",
        "purge": False,
    }
    params.update(overrides)
    return params


CONFIGURED: dict[str, list[dict[str, str]]] = {
    "/interface": ETHERNETS,
    "/interface/bridge": [{".id": "*A", "name": "br1", "vlan-filtering": "true", "pvid": "1", "frame-types": "admit-all", "disabled": "false"}],
    "/interface/bridge/port": [
        {".id": "*B", "interface": "ether1", "bridge": "br1", "pvid": "1", "frame-types": "admit-only-vlan-tagged"},
        {".id": "*C", "interface": "ether2", "bridge": "br1", "pvid": "65", "frame-types": "admit-all"},
    ],
    "/interface/bridge/vlan": [
        {".id": "*D", "bridge": "br1", "vlan-ids": "64", "tagged": "ether1,br1"},
        {".id": "*E", "bridge": "br1", "vlan-ids": "65", "tagged": "br1,ether1", "untagged": "ether2"},
        {".id": "*F", "bridge": "br1", "vlan-ids": "1", "untagged": "br1,ether1", "dynamic": "true"},
    ],
    "/interface/vlan": [
        {".id": "*10", "name": "vlan64", "interface": "br1", "vlan-id": "64", "mtu": "1500"},
        {".id": "*11", "name": "vlan65", "interface": "br1", "vlan-id": "65", "mtu": "1500"},
    ],
    "/ip/address": [
        {".id": "*20", "address": "10.42.64.1/24", "interface": "vlan64", "network": "10.42.64.0"},
        {".id": "*21", "address": "10.42.65.1/24", "interface": "vlan65", "network": "10.42.65.0"},
    ],
}


def vlan_outcome(data: Mapping[str, Sequence[Mapping[str, str]]], params: Mapping[str, Any], router_address: str | None = None) -> Outcome:
    return plan_vlan(StaticReader(data, router_address), VlanRequest.from_params(params))


NETBOOT_ROUTER: dict[str, list[dict[str, str]]] = {
    "/interface": [{".id": "*1", "name": "vlan65", "type": "vlan"}],
    "/ip/address": [{".id": "*2", "address": "10.42.65.1/24", "interface": "vlan65"}],
}


def netboot_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "interface": "vlan65",
        "lease_time": "30m",
        "pool": {"ranges": ["10.42.65.100-10.42.65.199"]},
        "network": {"address": "10.42.65.0/24", "gateway": "10.42.65.1", "next_server": "10.42.65.1", "boot_file_name": "snp.efi"},
        "hostname_mode": "comment",
        "leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.92", "hostname": "c4140"}, {"mac": "00:e0:66:59:88:8b", "address": "10.42.65.82"}],
        "tftp": [{"req_filename": "snp\\.efi", "real_filename": "tftp/snp.efi", "allow": True, "read_only": True}],
    }
    params.update(overrides)
    return params


def netboot_outcome(data: Mapping[str, Sequence[Mapping[str, str]]], params: Mapping[str, Any]) -> Outcome:
    return plan_netboot(StaticReader(data), NetbootRequest.from_params(params))


def configured_netboot() -> dict[str, list[dict[str, str]]]:
    """What a router holds once netboot_params() was applied, spelled the router's way."""
    return {
        **NETBOOT_ROUTER,
        "/ip/pool": [{".id": "*3", "name": "pool-vlan65", "ranges": "10.42.65.100-10.42.65.199"}],
        "/ip/dhcp-server": [
            {".id": "*4", "name": "dhcp-vlan65", "interface": "vlan65", "address-pool": "pool-vlan65", "lease-time": "00:30:00", "disabled": "false"}
        ],
        "/ip/dhcp-server/network": [
            {".id": "*5", "address": "10.42.65.0/24", "gateway": "10.42.65.1", "next-server": "10.42.65.1", "boot-file-name": "snp.efi"}
        ],
        "/ip/dhcp-server/lease": [
            {".id": "*6", "server": "dhcp-vlan65", "mac-address": "00:E0:66:59:89:84", "address": "10.42.65.92", "comment": "c4140", "disabled": "false"},
            {".id": "*7", "server": "dhcp-vlan65", "mac-address": "00:E0:66:59:88:8B", "address": "10.42.65.82", "disabled": "false"},
            {".id": "*8", "server": "dhcp-vlan65", "mac-address": "52:54:00:00:00:01", "address": "10.42.65.150", "dynamic": "true"},
            {".id": "*9", "server": "dhcp-vlan66", "mac-address": "52:54:00:00:00:02", "address": "10.42.66.10"},
        ],
        "/ip/tftp": [{".id": "*A", "req-filename": "snp\\.efi", "real-filename": "tftp/snp.efi", "allow": "true", "read-only": "true"}],
    }


WITH_ROSE = {
    "/system/package": [{".id": "*1", "name": "routeros", "version": "7.16"}, {".id": "*2", "name": "rose-storage", "version": "7.16", "disabled": "false"}]
}


def nvme(data: Mapping[str, Sequence[Mapping[str, str]]], **params: Any) -> Outcome:
    return plan_nvme_export(StaticReader({**WITH_ROSE, **data}), NvmeRequest.from_params({"slot": "pvc-1", **params}))


EXPORTED = {
    "/disk": [
        {".id": "*1", "slot": "nvme1", "type": "hardware"},
        {
            ".id": "*2",
            "slot": "pvc-1",
            "type": "file",
            "file-path": "/disk1/pvc-1.img",
            "file-size": "10.0GiB",
            "nvme-tcp-export": "yes",
            "nvme-tcp-server-port": "4420",
            "nvme-tcp-server-nqn": "nqn.2000-02.com.mikrotik:pvc-1",
        },
    ],
    "/file": [{".id": "*F", "name": "disk1/pvc-1.img", "type": "file"}],
}
