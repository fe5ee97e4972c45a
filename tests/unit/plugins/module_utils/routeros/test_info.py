"""Information (plugins/module_utils/_routeros/info.py): what routeros_info reports, and that it feeds back as a no-op."""

from __future__ import annotations

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.info import gather_info

from tests.support.routeros_readers import CONFIGURED, EXPORTED, WITH_ROSE, StaticReader, configured_netboot, netboot_outcome, vlan_outcome


def test_info_output_fed_back_as_input_is_a_no_op() -> None:
    info = gather_info(StaticReader(CONFIGURED), ["vlan"])
    bridge_state = info["bridges"][0]
    params = {**bridge_state, "management_vlan": None, "management_address": None, "purge": True}
    assert vlan_outcome(CONFIGURED, params).changes == []


def test_netboot_info_round_trip_is_a_no_op() -> None:
    data = configured_netboot()
    info = gather_info(StaticReader(data), ["netboot"])
    state = next(item for item in info["netboot"] if item["server_name"] == "dhcp-vlan65")
    params = {**state, "tftp": info["tftp"], "purge_leases": True, "purge_tftp": True}
    assert netboot_outcome(data, params).changes == []


def test_info_reports_packages_and_exports() -> None:
    data = {**WITH_ROSE, **EXPORTED, "/system/resource": [{"version": "7.16.2 (stable)", "board-name": "RDS2216", "architecture-name": "arm64"}]}
    info = gather_info(StaticReader(data), ["all"])
    assert info["version"] == "7.16.2 (stable)"
    assert info["board"] == "RDS2216"
    assert info["rose_storage"] is True
    assert info["nvme_exports"] == [
        {
            "slot": "pvc-1",
            "file_path": "disk1/pvc-1.img",
            "file_size": 10 * 1024**3,
            "nvme_port": 4420,
            "nqn": "nqn.2000-02.com.mikrotik:pvc-1",
            "allowed_hosts": [],
        }
    ]
