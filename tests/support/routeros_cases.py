"""The RouterOS module tests' reference cases: module names, the test bridge and VLANs, and each module's arguments.

Shared by tests/functional/routeros/test_routeros_modules.py and test_routeros_sentences.py. Against a real router
the names, VLANs (3064-3066) and networks (10.199.64.0/22) are chosen to be unlikely to exist there; NVMe/TCP
volumes go to ROUTEROS_TEST_DISK_DIR (default disk1).
"""

from __future__ import annotations

import os
from typing import Any

VLAN = "diskless.datacenter.routeros_vlan"
NETBOOT = "diskless.datacenter.routeros_netboot"
NVME = "diskless.datacenter.routeros_nvme_export"
INFO = "diskless.datacenter.routeros_info"

BRIDGE = "br-test"
MGMT_VLAN, PXE_VLAN, STORAGE_VLAN = 3064, 3065, 3066
MGMT_ADDRESS = "10.199.64.1/24"
PXE_INTERFACE = "vlan3065"
DISK_DIR = os.environ.get("ROUTEROS_TEST_DISK_DIR", "disk1")  # a mounted disk of a real ROSE router
VOLUME_FILE = f"{DISK_DIR}/test-pvc-1.img"


def vlan_args(routeros: Any, port_names: list[str], **overrides: Any) -> dict[str, Any]:
    """The reference shape: management on a tagged uplink, PXE untagged to a host, storage tagged."""
    uplink, host, storage = port_names
    args: dict[str, Any] = {
        **routeros.connection_args(),
        "bridge": {"name": BRIDGE},
        "management_vlan": MGMT_VLAN,
        "management_address": MGMT_ADDRESS,
        "management_port": uplink,
        "ports": [
            {"interface": uplink, "frame_types": "admit-only-vlan-tagged"},
            {"interface": host, "pvid": PXE_VLAN},
            {"interface": storage, "pvid": 1},
        ],
        "vlans": [
            {"vlan_ids": MGMT_VLAN, "tagged": [BRIDGE, uplink]},
            {"vlan_ids": str(PXE_VLAN), "tagged": [uplink, BRIDGE], "untagged": [host]},
            {"vlan_ids": [STORAGE_VLAN], "tagged": [BRIDGE, uplink, storage]},
        ],
        "interfaces": [
            {"name": "vlan3064", "vlan_id": MGMT_VLAN, "addresses": [MGMT_ADDRESS]},
            {"name": PXE_INTERFACE, "vlan_id": PXE_VLAN, "addresses": ["10.199.65.1/24"]},
            {"name": "vlan3066", "vlan_id": STORAGE_VLAN, "addresses": ["10.199.66.1/24"]},
        ],
    }
    args.update(overrides)
    return args


def make_pxe_vlan(api: Any) -> None:
    """A bridge with the PXE VLAN interface and its address, made directly through the API."""
    api.path("interface", "bridge").add(name=BRIDGE)
    api.path("interface", "vlan").add(name=PXE_INTERFACE, interface=BRIDGE, **{"vlan-id": PXE_VLAN})
    api.path("ip", "address").add(address="10.199.65.1/24", interface=PXE_INTERFACE)


def netboot_args(routeros: Any, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        **routeros.connection_args(),
        "interface": PXE_INTERFACE,
        "server_name": "dhcp-test",
        "lease_time": "1h",
        "pool": {"name": "pool-test", "ranges": ["10.199.65.100-10.199.65.199"]},
        "network": {
            "address": "10.199.65.0/24",
            "gateway": "10.199.65.1",
            "dns_servers": ["10.199.65.1"],
            "next_server": "10.199.65.1",
            "boot_file_name": "snp.efi",
        },
        "leases": [
            {"mac": "00:e0:66:59:89:84", "address": "10.199.65.92", "hostname": "test-c4140"},
            {"mac": "00:e0:66:59:88:8b", "address": "10.199.65.82", "hostname": "test-r640"},
            {"mac": "00:e0:66:59:8c:50", "address": "10.199.65.42", "hostname": "test-r740xd", "comment": "storage node"},
        ],
        "tftp": [{"req_filename": "test-snp\\.efi", "real_filename": "tftp/snp.efi", "allow": True, "read_only": True, "ip_addresses": ["10.199.65.0/24"]}],
    }
    args.update(overrides)
    return args


def nvme_args(routeros: Any, **overrides: Any) -> dict[str, Any]:
    return {
        **routeros.connection_args(),
        "slot": "test-pvc-1",
        "file_path": VOLUME_FILE,
        "file_size": "1G",
        "nvme_port": 4420,
        "nqn": "nqn.2000-02.com.mikrotik:test-pvc-1",
        **overrides,
    }
