#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: routeros_netboot
short_description: DHCP and TFTP for network boot on one VLAN of a MikroTik RouterOS device
version_added: 0.1.0
description:
  - Manages, for one interface (usually a VLAN interface), the pieces a network boot needs on RouterOS 7 -
    an IP pool, a DHCP server, its DHCP network (gateway, DNS, next server, boot file name, DHCP options),
    DHCP option definitions, static leases keyed by MAC address, and TFTP rules.
  - Manages, and reads from the router, only what the task gives - the DHCP server (and its pool) when
    O(interface) is given, the DHCP network when O(network) is given, option definitions when
    O(dhcp_options) or O(network.dhcp_options) are given, when O(hostname_mode=option) gives leases host
    names, or when a hostname option is to be removed, static
    leases when O(leases) is not empty or O(purge_leases=true), TFTP rules when O(tftp) is not empty or
    O(purge_tftp=true). Options left unset are not managed and their RouterOS menus are not read; for
    example O(server_name) with only O(leases) reads and writes C(/ip/dhcp-server/lease) alone.
  - Reads each RouterOS menu it manages once (one C(print)), compares normalised values (MAC case, V(30m)
    equals V(00:30:00), list order where it does not matter) and changes only what differs; a run with
    nothing to change sends nothing but those reads. Nothing is read back after the changes.
  - Static leases of this DHCP server that are not listed are removed only with O(purge_leases=true); dynamic
    leases are never touched. TFTP rules (global on RouterOS) that are not listed are removed only with
    O(purge_tftp=true).
  - Bad input (malformed MAC, address outside O(network.address), address not in CIDR form, unknown interface,
    duplicate MAC or address) fails with the field and value named, before anything is changed.
author:
  - Diskless Datacenter maintainers (@diskless-datacenter)
extends_documentation_fragment:
  - diskless.datacenter.routeros
  - diskless.datacenter.attributes
  - diskless.datacenter.attributes.action_group_routeros
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The before and after state are in the shape of this module's options.
  idempotent:
    support: full
options:
  interface:
    description:
      - Interface the DHCP server listens on; it must exist on the router (for example a VLAN interface made
        by M(diskless.datacenter.routeros_vlan)). Giving it makes the DHCP server itself managed (created when
        missing, its interface, pool, O(lease_time) and O(authoritative) kept as given).
      - Leave it out to manage only the leases (or network, options, TFTP rules) of an existing server named by
        O(server_name); the server is then neither read nor changed, and the router refuses leases for a
        server it does not have (check mode cannot tell).
      - In check mode a missing interface only gives a warning, so that a plan whose earlier task would create
        the interface can be previewed as a whole; a real run fails before any change.
      - One of O(interface) and O(server_name) is required.
    type: str
  server_name:
    description:
      - Name of the DHCP server. Defaults to V(dhcp-<interface>); required when O(interface) is left out.
    type: str
  lease_time:
    description:
      - Lease time of dynamic leases, in RouterOS syntax (V(30m), V(1d), V(00:30:00)). Left as is when omitted.
      - Needs O(interface).
    type: str
  authoritative:
    description:
      - Whether the server answers for addresses it does not know. Left as is when omitted.
      - Needs O(interface).
    type: str
    choices: ['yes', 'no', after-2sec-delay, after-10sec-delay]
  pool:
    description:
      - Dynamic address pool. Without it the server only serves static leases (C(address-pool=static-only)).
      - Needs O(interface) and O(network).
    type: dict
    suboptions:
      name:
        description: Name of the pool. Defaults to V(pool-<interface>).
        type: str
      ranges:
        description: Ranges (V(10.42.65.100-10.42.65.199)), addresses or networks, all inside O(network.address).
        type: list
        elements: str
        required: true
  network:
    description:
      - The DHCP network handed out, keyed by its address. Not managed (and not read) when omitted.
      - When given, O(leases[].address) and O(pool.ranges) must lie inside O(network.address).
    type: dict
    suboptions:
      address:
        description: Network in CIDR form with host bits zero (V(10.42.65.0/24)).
        type: str
        required: true
      gateway:
        description: Default gateway given to clients. Left as is when omitted.
        type: str
      dns_servers:
        description: DNS servers given to clients, in order. Left as is when omitted.
        type: list
        elements: str
      domain:
        description: DNS domain given to clients. Left as is when omitted.
        type: str
      next_server:
        description: Server clients fetch the boot file from (BOOTP C(siaddr)). Left as is when omitted.
        type: str
      boot_file_name:
        description: Boot file name (DHCP option 67 / BOOTP C(file)), for example V(snp.efi). Left as is when omitted.
        type: str
      dhcp_options:
        description: Names of DHCP options (from O(dhcp_options) or already on the router) sent to every client.
        type: list
        elements: str
  dhcp_options:
    description:
      - DHCP option definitions, keyed by name (for example an iPXE script URL).
      - Names starting with V(hostname-) are reserved for O(hostname_mode=option).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Option name.
        type: str
        required: true
      code:
        description: Option code, 1-254.
        type: int
        required: true
      value:
        description: Value in RouterOS syntax - V('text') for a string, V(0x0a0b) for hex, V(s'text') and so on.
        type: str
        required: true
  hostname_mode:
    description:
      - How O(leases[].hostname) reaches the router.
      - >-
        V(comment) writes it into the lease comment (V(<hostname>), or V(<hostname>: <comment>) when O(leases[].comment) is set);
        clients do not receive it.
      - V(option) creates a DHCP option V(hostname-<hostname>) (code 12, host name) and attaches it to the lease, so the
        client is told its name. A V(hostname-*) option that leases of this server stop using, and no other lease uses, is removed.
    type: str
    choices: [comment, option]
    default: comment
  leases:
    description:
      - Static leases of this server, keyed by MAC address. Left alone (and not read) when empty, unless
        O(purge_leases=true).
    type: list
    elements: dict
    default: []
    suboptions:
      mac:
        description: MAC address of the client, any case, V(:) or V(-) separated.
        type: str
        required: true
      address:
        description: IP address given to the client, inside O(network.address) when O(network) is given.
        type: str
        required: true
      hostname:
        description: Host name of the client (see O(hostname_mode)).
        type: str
      comment:
        description: Comment of the lease.
        type: str
  purge_leases:
    description:
      - Remove static leases of this DHCP server that are not in O(leases).
    type: bool
    default: false
  tftp:
    description:
      - TFTP rules (C(/ip/tftp)), keyed by O(tftp[].req_filename). RouterOS serves TFTP only when rules exist.
      - Left alone (and not read) when empty, unless O(purge_tftp=true).
    type: list
    elements: dict
    default: []
    suboptions:
      req_filename:
        description: Requested file name, a regular expression (for example V(snp\\.efi) or V(.*)).
        type: str
        required: true
      real_filename:
        description: File on the router to send (V(tftp/snp.efi)). Left as is when omitted.
        type: str
      allow:
        description: Allow the request. Left as is when omitted.
        type: bool
      read_only:
        description: Refuse writes. Left as is when omitted.
        type: bool
      ip_addresses:
        description: Client addresses or networks the rule applies to. Left as is when omitted.
        type: list
        elements: str
  purge_tftp:
    description:
      - Remove TFTP rules that are not in O(tftp). TFTP rules are global on RouterOS, so this affects other VLANs too.
    type: bool
    default: false
notes:
  - RouterOS has no static HTTP server; boot files beyond the first TFTP stage have to be served elsewhere.
seealso:
  - module: diskless.datacenter.routeros_vlan
  - module: diskless.datacenter.routeros_info
  - name: RouterOS DHCP
    description: MikroTik's manual on the DHCP server.
    link: https://help.mikrotik.com/docs/display/ROS/DHCP
"""

EXAMPLES = r"""
- name: PXE on VLAN 65 for the three Dell servers (iPXE over TFTP, the rest over HTTP)
  diskless.datacenter.routeros_netboot:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    interface: vlan65
    lease_time: 1h
    pool:
      ranges: [10.42.65.100-10.42.65.199]
    network:
      address: 10.42.65.0/24
      gateway: 10.42.65.1
      dns_servers: [10.42.65.1]
      next_server: 10.42.65.1
      boot_file_name: snp.efi
    hostname_mode: option
    leases:
      - {mac: "00:e0:66:59:89:84", address: 10.42.65.92, hostname: c4140}
      - {mac: "00:e0:66:59:88:8b", address: 10.42.65.82, hostname: r640}
      - {mac: "00:e0:66:59:8c:50", address: 10.42.65.42, hostname: r740xd, comment: storage node}
    purge_leases: true
    tftp:
      - req_filename: snp\.efi
        real_filename: tftp/snp.efi
        allow: true
        read_only: true
        ip_addresses: [10.42.65.0/24]

- name: Add static leases to an existing DHCP server (reads and writes only /ip/dhcp-server/lease)
  diskless.datacenter.routeros_netboot:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    server_name: dhcp-vlan72
    leases: "{{ bulk_leases }}"
"""

RETURN = r"""
changes:
  description: The API commands the run made (or, in check mode, would make), in order.
  returned: always
  type: list
  elements: str
  sample:
    - "/ip/dhcp-server/lease/add address=10.42.65.92 mac-address=00:E0:66:59:89:84 server=dhcp-vlan65 comment=c4140"
applied:
  description: The commands actually sent (empty in check mode). On failure, those sent before the failure.
  returned: always
  type: list
  elements: str
state:
  description:
    - The managed parts of the DHCP server after the run, in the shape of this module's options (only the
      keys the task manages; V(server_name) always), plus the TFTP rules as V(tftp) when they are managed.
    - Computed from the state read before the run with the changes applied, in check mode and in a real run
      alike (the router is not read again; the same as the C(--diff) after state). Properties the router
      fills in itself on new entries and the task does not set (for example the lease time of a new server
      when O(lease_time) is omitted) are not shown; router IDs are not part of it.
  returned: success
  type: dict
  sample:
    interface: vlan65
    server_name: dhcp-vlan65
    lease_time: 1h
    pool: {name: pool-vlan65, ranges: [10.42.65.100-10.42.65.199]}
    network: {address: 10.42.65.0/24, gateway: 10.42.65.1, next_server: 10.42.65.1, boot_file_name: snp.efi}
    dhcp_options: []
    hostname_mode: comment
    leases: [{mac: "00:E0:66:59:89:84", address: 10.42.65.92, comment: c4140}]
    tftp: [{req_filename: snp\.efi, real_filename: tftp/snp.efi, allow: true, read_only: true, ip_addresses: [10.42.65.0/24]}]
path:
  description: On failure, the RouterOS menu the failing command was for.
  returned: failure
  type: str
  sample: /ip/dhcp-server/lease
entry:
  description: On failure, the primary keys of the entry the failing command was for.
  returned: failure
  type: str
  sample: server=dhcp-vlan65 mac-address=00:E0:66:59:89:84
router_message:
  description: On failure, the router's own message.
  returned: failure
  type: str
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import AUTHORITATIVE, HOSTNAME_MODE
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.netboot import NetbootRequest, plan_netboot
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.runner import run_planner
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import CONNECTION_ARGUMENT_SPEC

ARGUMENT_SPEC: dict[str, Any] = {
    **CONNECTION_ARGUMENT_SPEC,
    "interface": {"type": "str"},
    "server_name": {"type": "str"},
    "lease_time": {"type": "str"},
    "authoritative": {"type": "str", "choices": list(AUTHORITATIVE.choices)},
    "pool": {
        "type": "dict",
        "options": {
            "name": {"type": "str"},
            "ranges": {"type": "list", "elements": "str", "required": True},
        },
    },
    "network": {
        "type": "dict",
        "options": {
            "address": {"type": "str", "required": True},
            "gateway": {"type": "str"},
            "dns_servers": {"type": "list", "elements": "str"},
            "domain": {"type": "str"},
            "next_server": {"type": "str"},
            "boot_file_name": {"type": "str"},
            "dhcp_options": {"type": "list", "elements": "str"},
        },
    },
    "dhcp_options": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "code": {"type": "int", "required": True},
            "value": {"type": "str", "required": True},
        },
    },
    "hostname_mode": {"type": "str", "choices": list(HOSTNAME_MODE.choices), "default": "comment"},
    "leases": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "mac": {"type": "str", "required": True},
            "address": {"type": "str", "required": True},
            "hostname": {"type": "str"},
            "comment": {"type": "str"},
        },
    },
    "purge_leases": {"type": "bool", "default": False},
    "tftp": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "req_filename": {"type": "str", "required": True},
            "real_filename": {"type": "str"},
            "allow": {"type": "bool"},
            "read_only": {"type": "bool"},
            "ip_addresses": {"type": "list", "elements": "str"},
        },
    },
    "purge_tftp": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[("interface", "server_name")], supports_check_mode=True)

    def request_of(params: Mapping[str, Any]) -> NetbootRequest:
        return dataclasses.replace(NetbootRequest.from_params(params), interface_may_be_pending=module.check_mode)

    run_planner(module, request_of, plan_netboot)


if __name__ == "__main__":
    main()
