#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: routeros_vlan
short_description: Bridge VLAN filtering on a MikroTik RouterOS switch, without cutting the management path
version_added: 0.1.0
description:
  - Manages one bridge with VLAN filtering on RouterOS 7 through the API - the bridge, its ports
    (PVID, frame types, ingress filtering), its VLAN table (tagged and untagged members) and the
    VLAN interfaces on the bridge with their IP addresses.
  - Reads each RouterOS menu it manages once (one C(print)), compares normalised values (V(b,a) equals V(a, b),
    V(10-12) equals V(10,11,12), booleans in any spelling) by primary keys, and changes only what differs; a run
    with nothing to change sends nothing but those reads. Nothing is read back after the changes.
  - Manages, and reads, only what the task gives - the bridge always; its ports when O(ports) is not empty, its
    VLAN table when O(vlans) is not empty, its VLAN interfaces and their addresses when O(interfaces) is not empty
    (each of the three also with O(purge=true)). Options left unset are not managed and their menus are not read.
    Two checks may read one more menu - C(/interface) for a port that is not yet a bridge port (does it exist?),
    and C(/interface/bridge/port) for a VLAN member not listed in O(ports) (is it a port of the bridge?).
  - Orders changes so the management path survives - a new bridge is created with filtering off,
    ports, VLAN entries, VLAN interfaces and addresses are added or changed first, unlisted entries
    are removed next (only with O(purge=true)), and C(vlan-filtering) with the bridge's PVID, frame
    types and ingress filtering are changed last. Turning filtering off happens first.
  - Refuses, before any change, a plan that would leave O(management_vlan) unreachable once filtering
    is on, and never removes the address the module is connected to.
  - Dynamic entries (such as the VLAN table entries RouterOS adds for every PVID) are never touched.
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
  bridge:
    description:
      - The bridge to manage.
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the bridge (created when missing).
        type: str
        required: true
      vlan_filtering:
        description:
          - Whether the bridge filters VLANs. Enabled as the last change of a run.
        type: bool
        default: true
      pvid:
        description: PVID of the bridge itself (the CPU port), 1-4094. Left as is when omitted.
        type: int
      frame_types:
        description: Frame types the bridge (CPU port) admits. Left as is when omitted.
        type: str
        choices: [admit-all, admit-only-untagged-and-priority-tagged, admit-only-vlan-tagged]
      ingress_filtering:
        description: Ingress filtering on the bridge (CPU port). Left as is when omitted.
        type: bool
      comment:
        description: Comment of the bridge. Left as is when omitted.
        type: str
  ports:
    description:
      - Ports of the bridge, keyed by O(ports[].interface). A port that is in another bridge is moved to this one.
      - Ports of this bridge that are not listed are removed only with O(purge=true).
    type: list
    elements: dict
    default: []
    suboptions:
      interface:
        description: Interface to make a port; it must exist on the router.
        type: str
        required: true
      pvid:
        description: VLAN given to untagged frames arriving on the port, 1-4094. Left as is when omitted.
        type: int
      frame_types:
        description: Frame types the port admits. Left as is when omitted.
        type: str
        choices: [admit-all, admit-only-untagged-and-priority-tagged, admit-only-vlan-tagged]
      ingress_filtering:
        description: Drop frames of VLANs the port is not a member of. Left as is when omitted.
        type: bool
      comment:
        description: Comment of the port. Left as is when omitted.
        type: str
  vlans:
    description:
      - Static entries of the bridge VLAN table, keyed by the bridge and the set of VLAN ids.
      - Entries of this bridge that are not listed are removed only with O(purge=true); dynamic entries never.
    type: list
    elements: dict
    default: []
    suboptions:
      vlan_ids:
        description:
          - VLAN ids of the entry, 1-4094 - an integer, a list, or a RouterOS range string such as V(64-71,80).
        type: raw
        required: true
      tagged:
        description:
          - Members that send the VLANs tagged. List the bridge itself for VLANs the router has a VLAN interface in.
          - Every member must be the bridge or one of its ports.
        type: list
        elements: str
        default: []
      untagged:
        description: Members that send the VLANs untagged (access ports).
        type: list
        elements: str
        default: []
      comment:
        description: Comment of the entry. Left as is when omitted.
        type: str
  interfaces:
    description:
      - VLAN interfaces on the bridge, keyed by the bridge and O(interfaces[].vlan_id) (renaming is a change of name).
      - VLAN interfaces on this bridge that are not listed are removed only with O(purge=true), with their addresses.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the VLAN interface.
        type: str
        required: true
      vlan_id:
        description: VLAN id, 1-4094.
        type: int
        required: true
      mtu:
        description: MTU of the VLAN interface. Left as is when omitted.
        type: int
      addresses:
        description:
          - IP addresses of the interface in CIDR form (V(10.42.64.2/24)).
          - Addresses of the interface that are not listed are removed only with O(purge=true).
        type: list
        elements: str
        default: []
      comment:
        description: Comment of the VLAN interface. Left as is when omitted.
        type: str
  management_vlan:
    description:
      - VLAN the router is managed through. When filtering is on, the plan is refused unless the bridge is a
        tagged member of this VLAN and a VLAN interface for it carries O(management_address).
    type: int
  management_address:
    description:
      - Address (CIDR form) the router is managed at, on the VLAN interface of O(management_vlan).
    type: str
  management_port:
    description:
      - Port the management network arrives on. The plan is refused unless the port stays in O(ports) and carries
        O(management_vlan) either tagged, or untagged with its PVID set to that VLAN, with coherent frame types.
    type: str
  purge:
    description:
      - Remove ports, static VLAN entries, VLAN interfaces (on this bridge) and addresses (on its VLAN interfaces)
        that are not listed. Never removes the address this module is connected to.
    type: bool
    default: false
notes:
  - The bridge's own addresses and other bridges are left alone.
seealso:
  - module: diskless.datacenter.routeros_info
  - name: RouterOS bridge VLAN table
    description: MikroTik's manual on bridge VLAN filtering.
    link: https://help.mikrotik.com/docs/display/ROS/Bridge+VLAN+Table
"""

EXAMPLES = r"""
- name: Switch VLANs of the diskless datacenter (management on VLAN 64)
  module_defaults:
    group/diskless.datacenter.routeros:
      hostname: 10.42.64.1
      username: ansible
      password: "{{ routeros_password }}"
      tls: true
      ca_path: files/rds-ca.pem
  diskless.datacenter.routeros_vlan:
    bridge:
      name: bridge1
    management_vlan: 64
    management_address: 10.42.64.1/24
    management_port: sfp-sfpplus1
    ports:
      - interface: sfp-sfpplus1      # uplink, trunk
        frame_types: admit-only-vlan-tagged
      - interface: sfp28-1           # DPU of the c4140: PXE untagged, control plane and storage tagged
        pvid: 65
    vlans:
      - vlan_ids: 64
        tagged: [bridge1, sfp-sfpplus1]
      - vlan_ids: 65
        tagged: [bridge1, sfp-sfpplus1]
        untagged: [sfp28-1]
      - vlan_ids: "67-68"
        tagged: [bridge1, sfp-sfpplus1, sfp28-1]
    interfaces:
      - name: vlan64
        vlan_id: 64
        addresses: [10.42.64.1/24]
      - name: vlan65
        vlan_id: 65
        addresses: [10.42.65.1/24]
      - name: vlan68
        vlan_id: 68
        addresses: [10.42.68.1/24]

- name: Same, and remove whatever else is on the bridge
  diskless.datacenter.routeros_vlan:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    bridge:
      name: bridge1
    management_vlan: 64
    management_address: 10.42.64.1/24
    purge: true
    vlans:
      - vlan_ids: 64
        tagged: [bridge1]
    interfaces:
      - name: vlan64
        vlan_id: 64
        addresses: [10.42.64.1/24]
"""

RETURN = r"""
changes:
  description: The API commands the run made (or, in check mode, would make), in order.
  returned: always
  type: list
  elements: str
  sample:
    - "/interface/bridge/vlan/add bridge=bridge1 tagged=bridge1,sfp-sfpplus1 vlan-ids=64"
    - "/interface/bridge/set name=bridge1: vlan-filtering=yes"
applied:
  description: The commands actually sent (empty in check mode). On failure, those sent before the failure.
  returned: always
  type: list
  elements: str
state:
  description:
    - The bridge after the run, in the shape of this module's options; V(ports), V(vlans) and V(interfaces) only
      when the task manages them.
    - Computed from the state read before the run with the changes applied, in check mode and in a real run
      alike (the router is not read again; the same as the C(--diff) after state). Properties the router fills
      in itself on new entries and the task does not set (for example ingress filtering of a new port) are not
      shown; router IDs are not part of it.
  returned: success
  type: dict
  contains:
    bridge:
      description: The bridge's settings.
      type: dict
    ports:
      description: Ports of the bridge (when managed).
      type: list
      elements: dict
    vlans:
      description: Static VLAN table entries of the bridge (V(vlan_ids) as a RouterOS range string; when managed).
      type: list
      elements: dict
    interfaces:
      description: VLAN interfaces on the bridge with their addresses (when managed).
      type: list
      elements: dict
  sample:
    bridge: {name: bridge1, vlan_filtering: true, pvid: 1, frame_types: admit-all}
    ports: [{interface: ether2, pvid: 65, frame_types: admit-all}]
    vlans: [{vlan_ids: "64", tagged: [bridge1, ether2], untagged: []}]
    interfaces: [{name: vlan64, vlan_id: 64, addresses: [10.42.64.1/24]}]
path:
  description: On failure, the RouterOS menu the failing command was for.
  returned: failure
  type: str
  sample: /interface/bridge/vlan
entry:
  description: On failure, the primary keys of the entry the failing command was for.
  returned: failure
  type: str
  sample: bridge=bridge1 vlan-ids=64
router_message:
  description: On failure, the router's own message.
  returned: failure
  type: str
  sample: "failure: already have such entry"
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import FRAME_TYPES
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.runner import run_planner
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import CONNECTION_ARGUMENT_SPEC
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.vlan import VlanRequest, plan_vlan

# bridge and ports share the filtering settings a bridge port has (the bridge's own are its CPU port's).
_FILTERING: dict[str, Any] = {
    "pvid": {"type": "int"},
    "frame_types": {"type": "str", "choices": list(FRAME_TYPES.choices)},
    "ingress_filtering": {"type": "bool"},
    "comment": {"type": "str"},
}

ARGUMENT_SPEC: dict[str, Any] = {
    **CONNECTION_ARGUMENT_SPEC,
    "bridge": {
        "type": "dict",
        "required": True,
        "options": {"name": {"type": "str", "required": True}, "vlan_filtering": {"type": "bool", "default": True}, **_FILTERING},
    },
    "ports": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {"interface": {"type": "str", "required": True}, **_FILTERING},
    },
    "vlans": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "vlan_ids": {"type": "raw", "required": True},
            "tagged": {"type": "list", "elements": "str", "default": []},
            "untagged": {"type": "list", "elements": "str", "default": []},
            "comment": {"type": "str"},
        },
    },
    "interfaces": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "vlan_id": {"type": "int", "required": True},
            "mtu": {"type": "int"},
            "addresses": {"type": "list", "elements": "str", "default": []},
            "comment": {"type": "str"},
        },
    },
    "management_vlan": {"type": "int"},
    "management_address": {"type": "str"},
    "management_port": {"type": "str"},
    "purge": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_together=[("management_vlan", "management_address")],
        required_by={"management_port": ("management_vlan",)},
    )
    run_planner(module, VlanRequest.from_params, plan_vlan)


if __name__ == "__main__":
    main()
