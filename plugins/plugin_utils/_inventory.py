# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The datacenter inventory model: one place that reads, validates and normalises the `dc_*` variables.

Every layer playbook reads the normalised model (see `build_model`), never the raw variables, so all
roles agree on addresses, VLANs and reservations. `validate` collects EVERY problem before failing,
each naming the host, the field and the offending value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import is_dns_label, is_dns_name
from ansible_collections.diskless.datacenter.plugins.plugin_utils._boot_values import kernel_params_problem, one_line_problem
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory_values import (
    InventoryError,
    Problems,
    Vlan,
    as_address,
    as_network,
    is_int,
    is_ip,
    normalise_mac,
    usable,
)

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the callers with missing_required_lib
    HAS_NETADDR = False

GROUPS = ("rds", "boot_servers", "dpus", "diskless_hosts")
VLAN_ID_RANGE = range(1, 4095)
VLAN_ROLES = ("mgmt", "boot", "control", "storage")
GLOBAL_GROUP = "global"

# Keys a user may set, per scope. Anything else starting with `dc_` is reported as a typo.
GLOBAL_KEYS = frozenset(
    {
        "dc_domain",
        "dc_supernet",
        "dc_vlans",
        "dc_vlan_roles",
        "dc_dns_servers",
        "dc_ntp_servers",
    }
)
HOST_KEYS = frozenset(
    {
        "dc_macs",
        "dc_host_octet",
        "dc_networks",
        "dc_addresses",
        "dc_dpu",
        "dc_rshim",
        "dc_boot_image",
        "dc_kernel_params",
        "dc_rds_port",
        "dc_host",
        "dc_ports",
        "dc_nvme_exports",
        "dc_routeros",
        "dc_description",
    }
)
VLAN_KEYS = frozenset({"id", "name", "subnet", "gateway", "dhcp_range", "mtu", "description"})
DPU_PORT_KEYS = frozenset({"uplink", "host"})
NVME_EXPORT_KEYS = frozenset({"slot", "file_path", "size", "port", "nqn", "allowed_hosts"})
ROUTEROS_KEYS = frozenset({"bridge", "username", "password", "port", "tls", "validate_certs", "ca_path", "uplink_ports"})


class ModelBuilder:
    """Reads the raw variables of every host and builds the normalised model."""

    def __init__(self, hostvars: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Sequence[str]]) -> None:
        self.hostvars = hostvars
        self.groups = {name: list(groups.get(name, [])) for name in GROUPS}
        self.problems = Problems()
        self.globals = self._global_vars()
        self.vlans: dict[int, Vlan] = {}
        self.vlan_roles: dict[str, int] = {}

    # ---- global part -------------------------------------------------------------------------
    def _global_vars(self) -> dict[str, Any]:
        """Global keys come from group_vars/all: take them from any host (they are the same everywhere)."""
        merged: dict[str, Any] = {}
        for vars_ in self.hostvars.values():
            for key in GLOBAL_KEYS:
                if key in vars_ and key not in merged:
                    merged[key] = vars_[key]
        return merged

    def _supernet(self) -> netaddr.IPNetwork | None:
        raw = self.globals.get("dc_supernet")
        if raw in (None, ""):
            return None
        supernet = as_network(raw)
        if supernet is None:
            self.problems.add(GLOBAL_GROUP, "dc_supernet", raw, "not an IPv4 network in CIDR form (e.g. 10.42.64.0/18)")
        return supernet

    def _vlan_subnet(self, where: str, raw: Mapping[str, Any], vlan_id: int, supernet: netaddr.IPNetwork | None) -> netaddr.IPNetwork | None:
        if "subnet" in raw:
            subnet = as_network(raw["subnet"])
            if subnet is None:
                self.problems.add(where, "subnet", raw["subnet"], "not an IPv4 network in CIDR form with host bits zero")
            elif supernet is not None and subnet not in supernet:
                self.problems.add(where, "subnet", raw["subnet"], f"outside the supernet {supernet}")
            return subnet
        if supernet is None:
            self.problems.add(where, "subnet", None, "missing: give a subnet or set dc_supernet (VLAN ID = third octet)")
            return None
        derived = self._subnet_from_third_octet(supernet, vlan_id)
        if derived is None:
            self.problems.add(where, "id", vlan_id, f"VLAN ID = third octet gives no /24 inside the supernet {supernet}")
        return derived

    @staticmethod
    def _subnet_from_third_octet(supernet: netaddr.IPNetwork, vlan_id: int) -> netaddr.IPNetwork | None:
        if vlan_id > 255:
            return None
        octets = str(supernet.network).split(".")
        candidate = netaddr.IPNetwork(f"{octets[0]}.{octets[1]}.{vlan_id}.0/24")
        return candidate if candidate in supernet else None

    def _vlan_gateway(self, where: str, raw: Mapping[str, Any], subnet: netaddr.IPNetwork) -> netaddr.IPAddress:
        if "gateway" not in raw:
            return netaddr.IPAddress(subnet.first + 1)
        gateway = as_address(raw["gateway"])
        if gateway is None or not usable(subnet, gateway):
            self.problems.add(where, "gateway", raw["gateway"], f"not a usable address of {subnet}")
            return netaddr.IPAddress(subnet.first + 1)
        return gateway

    def _vlan_dhcp_range(self, where: str, raw: Mapping[str, Any], subnet: netaddr.IPNetwork) -> tuple[netaddr.IPAddress, netaddr.IPAddress] | None:
        value = raw.get("dhcp_range")
        if value is None:
            return None
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
            self.problems.add(where, "dhcp_range", value, "must be a list of two addresses (or host octets): [first, last]")
            return None
        bounds = [self._address_in(subnet, item) for item in value]
        if bounds[0] is None or bounds[1] is None or bounds[0] > bounds[1]:
            self.problems.add(where, "dhcp_range", value, f"must be two usable addresses of {subnet}, first <= last")
            return None
        return bounds[0], bounds[1]

    @staticmethod
    def _address_in(subnet: netaddr.IPNetwork, item: Any) -> netaddr.IPAddress | None:
        if is_int(item):
            if not 0 < item < subnet.size - 1:
                return None
            return netaddr.IPAddress(subnet.first + item)
        address = as_address(item)
        return address if address is not None and usable(subnet, address) else None

    def _build_vlans(self) -> None:
        supernet = self._supernet()
        raw_vlans = self.globals.get("dc_vlans", [])
        if not isinstance(raw_vlans, list):
            self.problems.add(GLOBAL_GROUP, "dc_vlans", raw_vlans, "must be a list of VLAN definitions")
            return
        for index, raw in enumerate(raw_vlans):
            self._build_vlan(index, raw, supernet)
        self._check_overlaps()
        self._build_vlan_roles()

    def _build_vlan(self, index: int, raw: Any, supernet: netaddr.IPNetwork | None) -> None:
        where = f"dc_vlans[{index}]"
        if not isinstance(raw, Mapping):
            self.problems.add(where, "dc_vlans", raw, "each VLAN must be a mapping with at least id and name")
            return
        for key in sorted(set(raw) - VLAN_KEYS):
            self.problems.add(where, key, raw[key], f"unknown key (allowed: {', '.join(sorted(VLAN_KEYS))})")
        raw_id = raw.get("id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool) or raw_id not in VLAN_ID_RANGE:
            self.problems.add(where, "id", raw_id, "VLAN ID must be an integer from 1 to 4094")
            return
        vlan_id = raw_id
        where = f"dc_vlans[{index}] (VLAN {vlan_id})"
        if vlan_id in self.vlans:
            self.problems.add(where, "id", vlan_id, "VLAN ID used twice")
            return
        name = raw.get("name")
        if not isinstance(name, str) or not is_dns_label(name):
            self.problems.add(where, "name", name, "must be a short lowercase name (letters, digits, dashes)")
            name = f"vlan{vlan_id}"
        elif any(v.name == name for v in self.vlans.values()):
            self.problems.add(where, "name", name, "VLAN name used twice")
        subnet = self._vlan_subnet(where, raw, vlan_id, supernet)
        if subnet is None:
            return
        mtu = raw.get("mtu")
        if mtu is not None and (not is_int(mtu) or not 576 <= mtu <= 9216):
            self.problems.add(where, "mtu", mtu, "must be an integer from 576 to 9216")
            mtu = None
        self.vlans[vlan_id] = Vlan(
            id=vlan_id,
            name=name,
            subnet=subnet,
            gateway=self._vlan_gateway(where, raw, subnet),
            dhcp_range=self._vlan_dhcp_range(where, raw, subnet),
            mtu=mtu,
            description=str(raw.get("description", "")),
        )

    def _check_overlaps(self) -> None:
        ordered = sorted(self.vlans.values(), key=lambda v: v.id)
        for position, first in enumerate(ordered):
            for second in ordered[position + 1 :]:
                if first.subnet in second.subnet or second.subnet in first.subnet:
                    self.problems.add(f"dc_vlans (VLAN {second.id})", "subnet", str(second.subnet), f"overlaps VLAN {first.id} ({first.subnet})")

    def _build_vlan_roles(self) -> None:
        raw = self.globals.get("dc_vlan_roles", {})
        if not isinstance(raw, Mapping):
            self.problems.add(GLOBAL_GROUP, "dc_vlan_roles", raw, f"must be a mapping of {', '.join(VLAN_ROLES)} to VLAN IDs")
            return
        for role, vlan_id in raw.items():
            if role not in VLAN_ROLES:
                self.problems.add(GLOBAL_GROUP, f"dc_vlan_roles.{role}", vlan_id, f"unknown VLAN role (allowed: {', '.join(VLAN_ROLES)})")
            elif vlan_id not in self.vlans:
                self.problems.add(GLOBAL_GROUP, f"dc_vlan_roles.{role}", vlan_id, "not a VLAN defined in dc_vlans")
            else:
                self.vlan_roles[role] = vlan_id
        for role in ("mgmt", "boot"):
            if role not in raw:
                self.problems.add(GLOBAL_GROUP, f"dc_vlan_roles.{role}", None, "missing: every datacenter needs a management and a boot VLAN")

    # ---- hosts -------------------------------------------------------------------------------
    def _group_of(self, host: str) -> str | None:
        for group in GROUPS:
            if host in self.groups[group]:
                return group
        return None

    def _check_unknown_keys(self, host: str, vars_: Mapping[str, Any]) -> None:
        for key in sorted(vars_):
            if key.startswith("dc_") and key not in HOST_KEYS and key not in GLOBAL_KEYS:
                self.problems.add(host, key, vars_[key], "unknown inventory key (typo?)")

    def _host_macs(self, host: str, vars_: Mapping[str, Any], needs_mac: bool) -> list[str]:
        raw = vars_.get("dc_macs")
        if raw is None:
            if needs_mac:
                self.problems.add(host, "dc_macs", None, "missing: this host boots or gets a lease and needs at least one MAC")
            return []
        if isinstance(raw, str) or not isinstance(raw, Sequence) or (needs_mac and not raw):
            self.problems.add(host, "dc_macs", raw, "must be a non-empty list of MAC addresses")
            return []
        macs = []
        for item in raw:
            mac = normalise_mac(item)
            if mac is None:
                self.problems.add(host, "dc_macs", item, "malformed MAC address (expected six hex pairs like 52:54:00:12:34:56)")
            else:
                macs.append(mac)
        return macs

    def _host_networks(self, host: str, vars_: Mapping[str, Any], group: str | None) -> list[int]:
        default = {"diskless_hosts": ["boot"], "dpus": ["mgmt"], "boot_servers": ["boot"]}.get(group or "", [])
        raw = vars_.get("dc_networks")
        if raw is None and group == "rds":
            return sorted(self.vlans)
        if raw is None:
            explicit = vars_.get("dc_addresses") or {}
            roles = [self.vlan_roles[r] for r in default if r in self.vlan_roles]
            return sorted(set(roles) | {k for k in explicit if is_int(k)})
        if isinstance(raw, str) or not isinstance(raw, Sequence):
            self.problems.add(host, "dc_networks", raw, "must be a list of VLAN IDs")
            return []
        result = []
        for item in raw:
            if item not in self.vlans:
                self.problems.add(host, "dc_networks", item, "not a VLAN defined in dc_vlans")
            else:
                result.append(item)
        return result

    def _host_addresses(self, host: str, vars_: Mapping[str, Any], networks: list[int], is_router: bool) -> dict[int, str]:
        """Addresses per VLAN: explicit ones first, then subnet + host octet; the RDS defaults to each gateway."""
        octet = vars_.get("dc_host_octet")
        explicit = vars_.get("dc_addresses") or {}
        if not isinstance(explicit, Mapping):
            self.problems.add(host, "dc_addresses", explicit, "must be a mapping of VLAN ID to address")
            explicit = {}
        addresses: dict[int, str] = {}
        for vlan_id, raw in explicit.items():
            vlan = self.vlans.get(vlan_id) if is_int(vlan_id) else None
            if vlan is None:
                self.problems.add(host, f"dc_addresses.{vlan_id}", raw, f"VLAN {vlan_id} is not defined in dc_vlans")
                continue
            address = as_address(raw)
            if address is None:
                self.problems.add(host, f"dc_addresses.{vlan_id}", raw, "not an IPv4 address")
            elif not usable(vlan.subnet, address):
                self.problems.add(host, f"dc_addresses.{vlan_id}", raw, f"outside VLAN {vlan_id}'s subnet {vlan.subnet} (or its network/broadcast)")
            else:
                addresses[vlan_id] = str(address)
        for vlan_id in networks:
            if vlan_id in addresses:
                continue
            if is_router and octet is None:
                addresses[vlan_id] = str(self.vlans[vlan_id].gateway)
                continue
            derived = self._address_from_octet(host, octet, self.vlans[vlan_id])
            if derived is not None:
                addresses[vlan_id] = derived
        return addresses

    def _address_from_octet(self, host: str, octet: Any, vlan: Vlan) -> str | None:
        if octet is None:
            self.problems.add(host, "dc_host_octet", None, f"missing: needed for an address on VLAN {vlan.id} (or set dc_addresses.{vlan.id})")
            return None
        address = self._address_in(vlan.subnet, octet)
        if address is None:
            self.problems.add(host, "dc_host_octet", octet, f"out of range for VLAN {vlan.id} ({vlan.subnet}): must be 1-{vlan.subnet.size - 2}")
            return None
        if address == vlan.gateway:
            self.problems.add(host, "dc_host_octet", octet, f"gives {address}, the gateway of VLAN {vlan.id}")
            return None
        return str(address)

    def _kernel_params(self, host: str, vars_: Mapping[str, Any]) -> str:
        raw = vars_.get("dc_kernel_params", "")
        if isinstance(raw, str):
            params = raw.strip(" ")
        elif isinstance(raw, Sequence) and all(isinstance(p, str) for p in raw):
            params = " ".join(p.strip(" ") for p in raw)
        else:
            self.problems.add(host, "dc_kernel_params", raw, "must be a string or a list of strings")
            return ""
        why = kernel_params_problem(params)
        if why:
            self.problems.add(host, "dc_kernel_params", raw, why)
            return ""
        return params

    def _dpu_ports(self, host: str, vars_: Mapping[str, Any]) -> dict[str, str]:
        raw = vars_.get("dc_ports", {})
        if not isinstance(raw, Mapping):
            self.problems.add(host, "dc_ports", raw, "must be a mapping with uplink and host port names")
            return {"uplink": "p0", "host": "pf0hpf"}
        for key in sorted(set(raw) - DPU_PORT_KEYS):
            self.problems.add(host, f"dc_ports.{key}", raw[key], "unknown key (allowed: host, uplink)")
        return {"uplink": str(raw.get("uplink", "p0")), "host": str(raw.get("host", "pf0hpf"))}

    def _build_host(self, host: str) -> dict[str, Any]:
        vars_ = self.hostvars.get(host, {})
        group = self._group_of(host)
        self._check_unknown_keys(host, vars_)
        needs_mac = group in ("diskless_hosts", "dpus")
        networks = self._host_networks(host, vars_, group)
        record: dict[str, Any] = {
            "name": host,
            "group": group,
            "hostname": host.split(".", maxsplit=1)[0],
            "macs": self._host_macs(host, vars_, needs_mac),
            "addresses": self._host_addresses(host, vars_, networks, is_router=group == "rds"),
            "rds_port": vars_.get("dc_rds_port"),
            "description": str(vars_.get("dc_description", "")),
        }
        if not is_dns_label(record["hostname"]):
            self.problems.add(host, "inventory_hostname", host, "not usable as a DNS host name (lowercase letters, digits, dashes)")
        elif not is_dns_name(host):
            self.problems.add(host, "inventory_hostname", host, "not a DNS name (dot-separated labels of lowercase letters, digits, dashes)")
        if why := one_line_problem(record["description"]):
            self.problems.add(host, "dc_description", record["description"], why)
        if group == "diskless_hosts":
            record.update(
                dpu=vars_.get("dc_dpu"),
                rshim=vars_.get("dc_rshim"),
                boot_image=vars_.get("dc_boot_image", "default"),
                kernel_params=self._kernel_params(host, vars_),
            )
        if group == "dpus":
            record.update(host=vars_.get("dc_host"), ports=self._dpu_ports(host, vars_))
        return record

    # ---- cross checks ------------------------------------------------------------------------
    def _check_duplicates(self, hosts: list[dict[str, Any]]) -> None:
        seen_macs: dict[str, str] = {}
        seen_ips: dict[str, str] = {}
        for host in hosts:
            for mac in host["macs"]:
                if mac in seen_macs:
                    self.problems.add(host["name"], "dc_macs", mac, f"duplicate MAC: also used by {seen_macs[mac]}")
                else:
                    seen_macs[mac] = host["name"]
            for vlan_id, address in host["addresses"].items():
                if address in seen_ips:
                    self.problems.add(host["name"], f"address on VLAN {vlan_id}", address, f"duplicate IP: also used by {seen_ips[address]}")
                else:
                    seen_ips[address] = host["name"]
                if address == str(self.vlans[vlan_id].gateway) and host["group"] != "rds":
                    self.problems.add(host["name"], f"address on VLAN {vlan_id}", address, "is the VLAN's gateway")

    def _check_dpu_links(self, by_name: Mapping[str, dict[str, Any]]) -> None:
        for name, host in by_name.items():
            if host["group"] == "dpus":
                target = host.get("host")
                if target is None:
                    self.problems.add(name, "dc_host", None, "missing: the diskless host this DPU sits in")
                elif by_name.get(target, {}).get("group") != "diskless_hosts":
                    self.problems.add(name, "dc_host", target, "unknown host: not in group diskless_hosts")
            if host["group"] == "diskless_hosts" and host.get("dpu") is not None:
                dpu = host["dpu"]
                if by_name.get(dpu, {}).get("group") != "dpus":
                    self.problems.add(name, "dc_dpu", dpu, "unknown DPU: not in group dpus")
                elif by_name[dpu].get("host") not in (None, name):
                    self.problems.add(name, "dc_dpu", dpu, f"that DPU says it sits in {by_name[dpu]['host']}")

    def _check_dhcp_ranges(self, hosts: list[dict[str, Any]]) -> None:
        for vlan in self.vlans.values():
            if vlan.dhcp_range is None:
                continue
            first, last = vlan.dhcp_range
            for host in hosts:
                address = host["addresses"].get(vlan.id)
                if address is not None and first <= netaddr.IPAddress(address) <= last:
                    self.problems.add(host["name"], f"address on VLAN {vlan.id}", address, f"inside the dynamic DHCP range {first}-{last}")

    def _nvme_exports(self, by_name: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
        exports: list[dict[str, Any]] = []
        for rds in self.groups["rds"]:
            raw = self.hostvars.get(rds, {}).get("dc_nvme_exports", [])
            if not isinstance(raw, list):
                self.problems.add(rds, "dc_nvme_exports", raw, "must be a list of exports")
                continue
            for index, item in enumerate(raw):
                export = self._nvme_export(f"{rds}: dc_nvme_exports[{index}]", item, by_name)
                if export is not None:
                    exports.append(export)
        return exports

    def _nvme_export(self, where: str, raw: Any, by_name: Mapping[str, dict[str, Any]]) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.problems.add(where, "export", raw, "must be a mapping")
            return None
        for key in sorted(set(raw) - NVME_EXPORT_KEYS):
            self.problems.add(where, key, raw[key], f"unknown key (allowed: {', '.join(sorted(NVME_EXPORT_KEYS))})")
        slot = raw.get("slot")
        if not isinstance(slot, str) or not slot:
            self.problems.add(where, "slot", slot, "missing or not a string")
            return None
        port = raw.get("port", 4420)
        if not is_int(port) or not 1 <= port <= 65535:
            self.problems.add(where, "port", port, "must be a TCP port number")
        allowed = raw.get("allowed_hosts", [])
        for name in allowed if isinstance(allowed, list) else [allowed]:
            if name not in by_name:
                self.problems.add(where, "allowed_hosts", name, "unknown host")
        return {
            "slot": slot,
            "file_path": raw.get("file_path", f"{slot}.img"),
            "size": raw.get("size"),
            "port": port,
            "nqn": raw.get("nqn", f"nqn.2000-02.com.mikrotik:{slot}"),
            "allowed_hosts": list(allowed) if isinstance(allowed, list) else [allowed],
        }

    # ---- the model ---------------------------------------------------------------------------
    def _check_globals(self) -> None:
        """The global values the roles write into config files: dnsmasq's domain=/server=, etcd's cluster token, paths."""
        domain = self.globals.get("dc_domain", "dc.internal")
        if not isinstance(domain, str) or not is_dns_name(domain):
            self.problems.add(GLOBAL_GROUP, "dc_domain", domain, "not a DNS name (dot-separated labels of lowercase letters, digits, dashes)")
        for key in ("dc_dns_servers", "dc_ntp_servers"):
            raw = self.globals.get(key, [])
            if isinstance(raw, str) or not isinstance(raw, Sequence):
                self.problems.add(GLOBAL_GROUP, key, raw, "must be a list of addresses")
                continue
            for item in raw:
                if key == "dc_dns_servers" and not is_ip(item):
                    self.problems.add(GLOBAL_GROUP, key, item, "not an IP address")
                elif key == "dc_ntp_servers" and not is_ip(item) and not (isinstance(item, str) and is_dns_name(item, ignore_case=True)):
                    self.problems.add(GLOBAL_GROUP, key, item, "not an IP address or a DNS name")

    def build(self) -> dict[str, Any]:
        self._check_globals()
        self._build_vlans()
        names = sorted({h for group in GROUPS for h in self.groups[group]})
        hosts = [self._build_host(name) for name in names]
        by_name = {h["name"]: h for h in hosts}
        self._check_duplicates(hosts)
        self._check_dpu_links(by_name)
        self._check_dhcp_ranges(hosts)
        exports = self._nvme_exports(by_name)
        if self.problems:
            raise InventoryError(self.problems)
        return self._model(hosts, exports)

    def _model(self, hosts: list[dict[str, Any]], exports: list[dict[str, Any]]) -> dict[str, Any]:
        boot_vlan = self.vlan_roles["boot"]
        reservations = [
            {
                "name": h["name"],
                "hostname": h["hostname"],
                "mac": h["macs"][0],
                "macs": h["macs"],
                "ip": h["addresses"][boot_vlan],
                "tags": ["diskless"] if h["group"] == "diskless_hosts" else [],
                "boot_image": h.get("boot_image"),
                "kernel_params": h.get("kernel_params", ""),
            }
            for h in hosts
            if h["macs"] and boot_vlan in h["addresses"]
        ]
        reserved = {r["name"] for r in reservations}
        dns_records = [{"name": h["hostname"], "ip": h["addresses"][boot_vlan]} for h in hosts if boot_vlan in h["addresses"] and h["name"] not in reserved]
        return {
            "domain": self.globals.get("dc_domain", "dc.internal"),
            "dns_servers": list(self.globals.get("dc_dns_servers", [])),
            "ntp_servers": list(self.globals.get("dc_ntp_servers", [])),
            "vlans": [v.as_dict() for v in sorted(self.vlans.values(), key=lambda v: v.id)],
            "vlan_roles": dict(self.vlan_roles),
            "boot_vlan": self.vlans[boot_vlan].as_dict(),
            "hosts": {h["name"]: {**h, "addresses": {str(k): v for k, v in h["addresses"].items()}} for h in hosts},
            "groups": {g: sorted(self.groups[g]) for g in GROUPS},
            "boot_reservations": reservations,
            "boot_dns_records": dns_records,
            "nvme_exports": exports,
        }


def build_model(hostvars: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Validate the whole inventory and return the normalised model; raise InventoryError listing every problem."""
    if not HAS_NETADDR:
        raise RuntimeError("the Python library netaddr is required on the controller (pip install netaddr)")
    return ModelBuilder(hostvars, groups).build()
