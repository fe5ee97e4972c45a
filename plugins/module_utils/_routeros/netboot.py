# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain: netboot on one VLAN (routeros_netboot): pool, DHCP server and network, options, leases, TFTP."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import is_dns_name
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import (
    Change,
    Outcome,
    PathPlan,
    Reader,
    Row,
    drop_none,
    owned_rows,
    plan_path,
    predict,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import (
    AUTHORITATIVE,
    DURATION,
    HOSTNAME_MODE,
    IP,
    IP_LIST,
    MAC,
    NAMES,
    NETWORK,
    NETWORKS,
    POOL_RANGES,
    IntKind,
    optional_input,
    parse_input,
    pool_range_addresses,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import (
    DHCP_LEASE,
    DHCP_NETWORK,
    DHCP_OPTION,
    DHCP_SERVER,
    IP_ADDRESS,
    IP_POOL,
    TFTP,
    interface_names,
    require_interface,
)

HOSTNAME_OPTION_PREFIX = "hostname-"


def hostname_option_name(hostname: str) -> str:
    return f"{HOSTNAME_OPTION_PREFIX}{hostname}"


def quote_option_text(text: str) -> str:
    """A DHCP option value holding text, in RouterOS syntax (``'client0'``)."""
    return "'" + text.replace("'", "\\'") + "'"


@dataclass
class NetbootRequest:
    """routeros_netboot's parameters, validated and canonical (API property names).

    Only what the task gives is managed (and read from the router): the DHCP server and its pool when
    ``interface`` is given, the DHCP network when ``network`` is given, option definitions when options are
    given or used, leases when listed or purged, TFTP rules when listed or purged.
    """

    interface: str | None
    server_name: str
    server: dict[str, Any] | None
    pool: dict[str, Any] | None
    network: dict[str, Any] | None
    options: list[dict[str, Any]]
    leases: list[dict[str, Any]]
    tftp: list[dict[str, Any]]
    hostname_mode: str
    purge_leases: bool
    purge_tftp: bool
    # In check mode the VLAN interface may be one that an earlier task of the same run would create.
    interface_may_be_pending: bool = False

    @property
    def manages_leases(self) -> bool:
        return bool(self.leases) or self.purge_leases

    @property
    def manages_tftp(self) -> bool:
        return bool(self.tftp) or self.purge_tftp

    @property
    def user_option_names(self) -> list[str]:
        return [option["name"] for option in self.options if not option["name"].startswith(HOSTNAME_OPTION_PREFIX)]

    @property
    def network_option_names(self) -> frozenset[str] | None:
        return None if self.network is None else self.network.get("dhcp-option")

    @property
    def reads_options(self) -> bool:
        """Option definitions are read when the task defines options or names some for the network."""
        return bool(self.options) or self.network_option_names is not None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> NetbootRequest:
        interface = None if params.get("interface") is None else str(params["interface"])
        server_name = params.get("server_name") or (f"dhcp-{interface}" if interface is not None else None)
        if server_name is None:
            raise InputError("server_name", None, "is required when interface is left out (the leases of which DHCP server?)")
        if interface is None:
            for name in ("lease_time", "authoritative", "pool"):
                if params.get(name) is not None:
                    raise InputError(name, params[name], "needs interface: it is a setting of the DHCP server, which is managed only when interface is given")
        network_params = params.get("network")
        network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
        network_entry: dict[str, Any] | None = None
        if network_params is not None:
            network_address = parse_input(NETWORK, "network.address", network_params["address"])
            network = ipaddress.ip_network(network_address)
            network_entry = _network_entry(network_address, network_params)
        if params.get("pool") and network is None:
            raise InputError("pool", params["pool"], "needs network (its ranges must lie inside network.address)")
        pool = _pool_entry(params.get("pool"), str(interface), network) if network is not None else None
        server = None
        if interface is not None:
            server = drop_none(
                {
                    "name": server_name,
                    "interface": interface,
                    "address-pool": pool["name"] if pool else "static-only",
                    "lease-time": optional_input(DURATION, "lease_time", params.get("lease_time")),
                    "authoritative": optional_input(AUTHORITATIVE, "authoritative", params.get("authoritative")),
                    "disabled": False,
                }
            )
        hostname_mode = parse_input(HOSTNAME_MODE, "hostname_mode", params.get("hostname_mode") or "comment")
        leases, hostnames = _lease_entries(params.get("leases") or [], server_name, network, hostname_mode)
        options = [_option_entry(index, option) for index, option in enumerate(params.get("dhcp_options") or [])]
        options += [{"name": hostname_option_name(name), "code": 12, "value": quote_option_text(name)} for name in sorted(hostnames)]
        tftp = [_tftp_entry(index, rule) for index, rule in enumerate(params.get("tftp") or [])]
        return cls(
            interface,
            str(server_name),
            server,
            pool,
            network_entry,
            options,
            leases,
            tftp,
            hostname_mode,
            bool(params.get("purge_leases")),
            bool(params.get("purge_tftp")),
        )


def _network_entry(address: str, network_params: Mapping[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "address": address,
            "gateway": optional_input(IP, "network.gateway", network_params.get("gateway")),
            "dns-server": optional_input(IP_LIST, "network.dns_servers", network_params.get("dns_servers")),
            "domain": network_params.get("domain"),
            "next-server": optional_input(IP, "network.next_server", network_params.get("next_server")),
            "boot-file-name": network_params.get("boot_file_name"),
            "dhcp-option": None if network_params.get("dhcp_options") is None else NAMES.parse(network_params.get("dhcp_options")),
        }
    )


def _pool_entry(pool: Mapping[str, Any] | None, interface: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict[str, Any] | None:
    if not pool:
        return None
    ranges = parse_input(POOL_RANGES, "pool.ranges", pool["ranges"])
    if not ranges:
        raise InputError("pool.ranges", pool["ranges"], "is empty (leave pool out for static leases only)")
    for item in sorted(ranges):
        first, last = pool_range_addresses(item)
        if first not in network or last not in network:
            raise InputError("pool.ranges", item, f"is not inside network.address {network}")
    return drop_none({"name": pool.get("name") or f"pool-{interface}", "ranges": ranges, "comment": pool.get("comment")})


def _lease_entries(
    leases: Sequence[Mapping[str, Any]], server: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network | None, hostname_mode: str
) -> tuple[list[dict[str, Any]], set[str]]:
    """Lease entries; addresses are checked against the network only when the task gives it."""
    entries: list[dict[str, Any]] = []
    hostnames: set[str] = set()
    macs: dict[str, int] = {}
    addresses: dict[str, int] = {}
    for index, lease in enumerate(leases):
        where = f"leases[{index}]"
        mac = parse_input(MAC, f"{where}.mac", lease["mac"])
        address = parse_input(IP, f"{where}.address", lease["address"])
        if network is not None and ipaddress.ip_address(address) not in network:
            raise InputError(f"{where}.address", lease["address"], f"is not inside network.address {network}")
        if network is not None and network.num_addresses > 2 and ipaddress.ip_address(address) in (network.network_address, network.broadcast_address):
            raise InputError(f"{where}.address", lease["address"], f"is the network or broadcast address of {network}")
        if mac in macs:
            raise InputError(f"{where}.mac", lease["mac"], f"is already used by leases[{macs[mac]}]")
        if address in addresses:
            raise InputError(f"{where}.address", lease["address"], f"is already used by leases[{addresses[address]}]")
        macs[mac] = index
        addresses[address] = index
        hostname = lease.get("hostname")
        if hostname is not None and not is_dns_name(str(hostname), ignore_case=True):
            raise InputError(f"{where}.hostname", hostname, "is not a valid host name (letters, digits, hyphens; dot-separated labels)")
        comment = lease.get("comment")
        options: frozenset[str] = frozenset()
        if hostname is not None and hostname_mode == "option":
            options = frozenset({hostname_option_name(str(hostname))})
            hostnames.add(str(hostname))
        elif hostname is not None:
            comment = f"{hostname}: {comment}" if comment else str(hostname)
        entries.append({"server": server, "mac-address": mac, "address": address, "comment": comment or "", "dhcp-option": options, "disabled": False})
    return entries, hostnames


def _option_entry(index: int, option: Mapping[str, Any]) -> dict[str, Any]:
    where = f"dhcp_options[{index}]"
    name = str(option["name"])
    if name.startswith(HOSTNAME_OPTION_PREFIX):
        raise InputError(f"{where}.name", name, f"uses the prefix {HOSTNAME_OPTION_PREFIX!r}, reserved for hostname_mode=option")
    return {"name": name, "code": parse_input(IntKind(1, 254), f"{where}.code", option["code"]), "value": str(option["value"])}


def _tftp_entry(index: int, rule: Mapping[str, Any]) -> dict[str, Any]:
    where = f"tftp[{index}]"
    try:
        re.compile(str(rule["req_filename"]))
    except re.error as exc:
        raise InputError(f"{where}.req_filename", rule["req_filename"], f"is not a valid regular expression ({exc})") from None
    return drop_none(
        {
            "req-filename": str(rule["req_filename"]),
            "real-filename": rule.get("real_filename"),
            "allow": rule.get("allow"),
            "read-only": rule.get("read_only"),
            "ip-addresses": optional_input(NETWORKS, f"{where}.ip_addresses", rule.get("ip_addresses")),
            "disabled": False,
        }
    )


NETBOOT_SECTIONS = frozenset({"server", "pool", "network", "dhcp_options", "leases"})


def netboot_state(
    reader: Reader,
    server_name: str,
    network_address: str | None = None,
    option_names: Iterable[str] = (),
    sections: frozenset[str] = NETBOOT_SECTIONS,
) -> dict[str, Any]:
    """One DHCP server as routeros_netboot takes it, limited to ``sections`` (only their paths are read).

    ``server`` (interface, lease time, authoritative; {} when the server does not exist) and ``pool`` read the
    server and its pool; ``network`` reads the DHCP network at ``network_address``, or without one the network
    holding an address of the server's interface; ``dhcp_options`` lists the options the network uses plus
    ``option_names``; ``leases`` gives the static leases and the hostname mode they use.
    """
    result: dict[str, Any] = {"server_name": server_name}
    interface: str | None = None
    if "server" in sections:
        servers = [row for row in owned_rows(reader.read(DHCP_SERVER)) if row.values["name"] == server_name]
        if not servers:
            return {}
        server = servers[0].values
        interface = str(server["interface"])
        result.update(
            interface=interface,
            lease_time=DURATION.to_output(server["lease-time"]) if isinstance(server["lease-time"], int) else None,
            authoritative=server["authoritative"],
        )
        if "pool" in sections:
            pool_name = str(server["address-pool"])
            pools = [row.values for row in owned_rows(reader.read(IP_POOL)) if row.values["name"] == pool_name]
            result["pool"] = {"name": pool_name, "ranges": POOL_RANGES.to_output(pools[0]["ranges"])} if pools else None
    network: Mapping[str, Any] | None = None
    if "network" in sections and (network_address or interface is not None):
        networks = [
            row.values
            for row in owned_rows(reader.read(DHCP_NETWORK))
            if (row.values["address"] == network_address if network_address else _network_on_interface(reader, row.values["address"], str(interface)))
        ]
        network = networks[0] if networks else None
        result["network"] = _network_output(network) if network else None
    if "dhcp_options" in sections:
        options = {str(row.values["name"]): row.values for row in owned_rows(reader.read(DHCP_OPTION))}
        referenced = (set(network["dhcp-option"]) if network else set()) | set(option_names)
        result["dhcp_options"] = [
            {"name": name, "code": options[name]["code"], "value": options[name]["value"]} for name in sorted(referenced) if name in options
        ]
    if "leases" in sections:
        leases = [row.values for row in owned_rows(reader.read(DHCP_LEASE)) if row.values["server"] == server_name]
        uses_options = any(name.startswith(HOSTNAME_OPTION_PREFIX) for lease in leases for name in lease["dhcp-option"])
        result["hostname_mode"] = "option" if uses_options else "comment"
        result["leases"] = sorted((_lease_output(lease) for lease in leases), key=lambda lease: str(lease["mac"]))
    return drop_none(result)


def _network_on_interface(reader: Reader, network: object, interface: str) -> bool:
    """A DHCP network belongs to the server whose interface has an address inside it."""
    try:
        subnet = ipaddress.ip_network(str(network))
    except ValueError:
        return False
    for row in owned_rows(reader.read(IP_ADDRESS)):
        if row.values["interface"] == interface:
            try:
                if ipaddress.ip_interface(str(row.values["address"])).ip in subnet:
                    return True
            except ValueError:
                continue
    return False


def _network_output(network: Mapping[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "address": network["address"],
            "gateway": network["gateway"],
            "dns_servers": IP_LIST.to_output(network["dns-server"]) or None,
            "domain": network["domain"] or None,
            "next_server": network["next-server"],
            "boot_file_name": network["boot-file-name"] or None,
            "dhcp_options": NAMES.to_output(network["dhcp-option"]) or None,
        }
    )


def _lease_output(lease: Mapping[str, Any]) -> dict[str, Any]:
    hostnames = [name[len(HOSTNAME_OPTION_PREFIX) :] for name in sorted(lease["dhcp-option"]) if name.startswith(HOSTNAME_OPTION_PREFIX)]
    return drop_none(
        {
            "mac": lease["mac-address"],
            "address": lease["address"],
            "hostname": hostnames[0] if hostnames else None,
            "comment": lease["comment"] or None,
        }
    )


def tftp_state(reader: Reader) -> list[dict[str, Any]]:
    return [
        drop_none(
            {
                "req_filename": row.values["req-filename"],
                "real_filename": row.values["real-filename"] or None,
                "allow": row.values["allow"],
                "read_only": row.values["read-only"],
                "ip_addresses": NETWORKS.to_output(row.values["ip-addresses"]) or None,
            }
        )
        for row in owned_rows(reader.read(TFTP))
    ]


def plan_netboot(reader: Reader, request: NetbootRequest) -> Outcome:
    """Pool, options, DHCP server, network, static leases and TFTP rules, each only when the task manages it."""
    warnings = _check_netboot_interface(reader, request)
    _require_options_known(reader, request)
    server_name = request.server_name

    pools = plan_path(IP_POOL, [request.pool], reader.read(IP_POOL)) if request.pool else PathPlan(IP_POOL)
    options = plan_path(DHCP_OPTION, request.options, reader.read(DHCP_OPTION)) if request.options else PathPlan(DHCP_OPTION)
    servers = plan_path(DHCP_SERVER, [request.server], reader.read(DHCP_SERVER)) if request.server else PathPlan(DHCP_SERVER)
    networks = plan_path(DHCP_NETWORK, [request.network], reader.read(DHCP_NETWORK)) if request.network else PathPlan(DHCP_NETWORK)
    leases = PathPlan(DHCP_LEASE)
    stale_options: list[Change] = []
    if request.manages_leases:
        lease_rows = reader.read(DHCP_LEASE)
        leases = plan_path(DHCP_LEASE, request.leases, lease_rows, purge=request.purge_leases, in_scope=lambda row: row.values["server"] == server_name)
        stale_options = _stale_hostname_options(reader, predict(DHCP_LEASE, lease_rows, leases.in_order()), lease_rows, server_name)
    tftp = plan_path(TFTP, request.tftp, reader.read(TFTP), purge=request.purge_tftp) if request.manages_tftp else PathPlan(TFTP)

    changes = [
        *pools.in_order(),
        *options.in_order("set", "add"),
        *servers.in_order(),
        *networks.in_order(),
        *leases.in_order(),
        *tftp.in_order(),
        *stale_options,
    ]
    return Outcome.of(reader, changes, lambda state_reader: netboot_managed_state(state_reader, request), warnings)


def netboot_managed_state(reader: Reader, request: NetbootRequest) -> dict[str, Any]:
    """The parts of the DHCP server and TFTP rules the task manages, in the module's input shape."""
    sections = {
        name
        for name, managed in (
            ("server", request.server is not None),
            ("pool", request.pool is not None),
            ("network", request.network is not None),
            ("dhcp_options", bool(request.user_option_names) or request.network_option_names is not None),
            ("leases", request.manages_leases),
        )
        if managed
    }
    network_address = None if request.network is None else str(request.network["address"])
    state = netboot_state(reader, request.server_name, network_address, request.user_option_names, frozenset(sections))
    if request.manages_tftp:
        state["tftp"] = tftp_state(reader)
    return state


def _check_netboot_interface(reader: Reader, request: NetbootRequest) -> list[str]:
    """The server's interface must exist; a server already on that interface shows it does (no /interface read)."""
    if request.interface is None:
        return []
    existing = [row for row in owned_rows(reader.read(DHCP_SERVER)) if row.values["name"] == request.server_name]
    if existing and existing[0].values["interface"] == request.interface:
        return []
    if request.interface_may_be_pending and request.interface not in interface_names(reader):
        return [f"interface {request.interface!r} does not exist yet: check mode assumes an earlier task creates it (a real run fails if not)"]
    require_interface(reader, "interface", request.interface)
    return []


def _require_options_known(reader: Reader, request: NetbootRequest) -> None:
    wanted = request.network_option_names
    if not wanted:
        return
    given = {option["name"] for option in request.options}
    if wanted <= given:
        return
    known = {str(row.values["name"]) for row in owned_rows(reader.read(DHCP_OPTION))} | given
    for name in sorted(wanted):
        if name not in known:
            raise InputError("network.dhcp_options", name, "is not a DHCP option of the router nor of dhcp_options")


def _stale_hostname_options(reader: Reader, leases_after: Sequence[Row], leases_before: Sequence[Row], server: str) -> list[Change]:
    """Hostname options our server's leases used and no lease uses any more (option definitions are read only then)."""
    used_after = {name for row in owned_rows(leases_after) for name in row.values["dhcp-option"]}
    used_before = {name for row in owned_rows(leases_before) if row.values["server"] == server for name in row.values["dhcp-option"]}
    stale = {name for name in used_before - used_after if name.startswith(HOSTNAME_OPTION_PREFIX)}
    if not stale:
        return []
    return [
        Change(DHCP_OPTION, "remove", row.key(DHCP_OPTION), row.id, {}, dict(row.values))
        for row in owned_rows(reader.read(DHCP_OPTION))
        if str(row.values["name"]) in stale
    ]
