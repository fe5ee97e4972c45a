#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative Open vSwitch bridge with its ports, applied in one ovs-vsctl transaction."""

from __future__ import annotations

DOCUMENTATION = r"""
module: ovs_bridge
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Manage an Open vSwitch bridge and its ports in one transaction
description:
  - Makes one Open vSwitch bridge and its ports look as described, with a single C(ovs-vsctl) transaction
    (commands separated by C(--)), so the bridge and all its ports change together or not at all.
  - Reads the current state with C(ovs-vsctl --format=json list Bridge/Port/Interface), compares it with the
    desired state and runs only the commands needed; nothing runs when nothing differs.
  - Adopts a bridge that already exists (for example one created by the OS network configuration or by
    C(mlnx_bf_configure)) without recreating it, and changes C(tag), C(trunks) and C(vlan_mode) of ports that
    already exist.
  - Map options (O(other_config), O(external_ids), O(ports[].options), O(ports[].external_ids)) are merged into
    what is there - listed keys are set, keys with the value V(null) are removed, keys not listed are left alone.
  - Input is validated before anything changes; every error names the field and the value.
options:
  name:
    description: Name of the bridge.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the bridge; V(absent) deletes it with all its ports.
    type: str
    choices: [present, absent]
    default: present
  datapath_type:
    description:
      - Datapath of the bridge, V(system) (kernel) or V(netdev) (userspace, also used with DPDK).
      - Left as it is when omitted; a new bridge then gets the Open vSwitch default (V(system)).
      - V(system) and the empty string are the same.
    type: str
  fail_mode:
    description: What the bridge does without an OpenFlow controller. Left as it is when omitted.
    type: str
    choices: [standalone, secure]
  other_config:
    description:
      - Keys of the bridge's C(other_config) column to set; a key with the value V(null) is removed.
      - Booleans are written as V(true)/V(false), numbers as their decimal text.
    type: dict
  external_ids:
    description: Keys of the bridge's C(external_ids) column to set; a key with the value V(null) is removed.
    type: dict
  ports:
    description:
      - Ports the bridge must have. When omitted, the ports are not looked at.
      - A port listed that sits on another bridge is moved to this one (it is deleted there and added here, so
        settings it had and that are not listed here go back to their defaults).
      - The port named like the bridge (its own internal port) may be listed to set its VLAN; it is never deleted.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the port and of its interface.
        type: str
        required: true
      type:
        description:
          - Interface type, for example V(system) (a network device such as V(p0) or V(pf0hpf)), V(internal),
            V(patch), V(dpdk), V(vxlan).
          - Left as it is when omitted; a new port then is a V(system) port.
        type: str
      tag:
        description:
          - VLAN of an access port, or the native VLAN with O(ports[].vlan_mode=native-untagged) or
            O(ports[].vlan_mode=native-tagged). 0-4095.
        type: int
      trunks:
        description:
          - VLANs the port carries (each 0-4095). An empty list means every VLAN.
        type: list
        elements: int
      vlan_mode:
        description:
          - V(trunk) carries the VLANs in O(ports[].trunks) tagged (no O(ports[].tag));
            V(access) carries only O(ports[].tag), untagged (no O(ports[].trunks));
            V(native-untagged) carries O(ports[].tag) untagged and O(ports[].trunks) tagged;
            V(native-tagged) carries all of them tagged but puts untagged frames that come in into O(ports[].tag).
          - O(ports[].tag), O(ports[].trunks) and O(ports[].vlan_mode) describe the VLAN setup of a port together.
            When any of them is given, the ones not given are cleared. When none is given, the VLAN setup of the
            port is left as it is.
          - Combinations Open vSwitch would silently ignore are refused, for example V(access) with trunks,
            V(trunk) with a tag, or a tag with trunks but no vlan_mode.
        type: str
        choices: [trunk, access, native-tagged, native-untagged]
      options:
        description:
          - Keys of the interface's C(options) column (for example C(peer) of a patch port); V(null) removes a key.
        type: dict
      external_ids:
        description:
          - Keys of the interface's C(external_ids) column; V(null) removes a key.
        type: dict
  purge_ports:
    description:
      - Delete the ports of the bridge that O(ports) does not list (never the bridge's own internal port).
      - Has no effect when O(ports) is omitted.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads the current state and reports the commands and the state it would produce, without running them.
  diff_mode:
    support: full
    details: Shows the bridge with its ports before and after.
  idempotent:
    support: full
notes:
  - Open vSwitch must be installed on the target and C(ovsdb-server) and C(ovs-vswitchd) must run; after a change
    C(ovs-vsctl) waits (up to O(timeout) seconds) until C(ovs-vswitchd) has applied it.
  - Errors C(ovs-vswitchd) reports for an interface (for example a missing network device) come back as warnings.
seealso:
  - module: diskless.datacenter.ovs_global
extends_documentation_fragment:
  - diskless.datacenter.attributes
  - diskless.datacenter.attributes.action_group_ovs
  - diskless.datacenter.ovs
"""

EXAMPLES = r"""
- name: BlueField uplink bridge - host gets VLAN 65 untagged and VLANs 67 and 68 tagged
  diskless.datacenter.ovs_bridge:
    name: ovsbr1
    datapath_type: netdev
    fail_mode: standalone
    ports:
      - name: p0
        vlan_mode: trunk
      - name: pf0hpf
        tag: 65
        trunks: [65, 67, 68]
        vlan_mode: native-untagged
      - name: pf0sf0

- name: Allow VLAN 69 to the host as well, keep everything else
  diskless.datacenter.ovs_bridge:
    name: ovsbr1
    ports:
      - name: pf0hpf
        tag: 65
        trunks: [65, 67, 68, 69]
        vlan_mode: native-untagged

- name: Exactly these ports, remove any other
  diskless.datacenter.ovs_bridge:
    name: ovsbr2
    ports:
      - name: p1
      - name: pf1hpf
    purge_ports: true

- name: Patch two bridges together
  diskless.datacenter.ovs_bridge:
    name: br-a
    ports:
      - name: patch-a-to-b
        type: patch
        options:
          peer: patch-b-to-a

- name: Remove a bridge
  diskless.datacenter.ovs_bridge:
    name: br-test
    state: absent
"""

RETURN = r"""
bridge:
  description: The bridge after the run (what it would be in check mode); empty when it does not exist.
  returned: always
  type: dict
  sample:
    name: ovsbr1
    datapath_type: netdev
    fail_mode: standalone
    other_config: {}
    external_ids: {}
    ports:
      ovsbr1: {tag: null, trunks: [], vlan_mode: null, type: internal, options: {}, external_ids: {}}
      p0: {tag: null, trunks: [], vlan_mode: trunk, type: system, options: {}, external_ids: {}}
      pf0hpf: {tag: 65, trunks: [65, 67, 68], vlan_mode: native-untagged, type: system, options: {}, external_ids: {}}
commands:
  description: The ovs-vsctl commands of the transaction (run together, separated by C(--)); empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - "set Port pf0hpf trunks=65,67,68,69"
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._module import ModuleProtocol
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs import (
    DEFAULT_TIMEOUT,
    Transaction,
    client_from_module,
    read_switch,
    run_module,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs_plan import (
    VLAN_MODES,
    bridge_removal,
    bridge_spec,
    bridge_transaction,
    desired_bridge,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "datapath_type": {"type": "str"},
    "fail_mode": {"type": "str", "choices": ["standalone", "secure"]},
    "other_config": {"type": "dict"},
    "external_ids": {"type": "dict"},
    "ports": {
        "type": "list",
        "elements": "dict",
        "options": {
            "name": {"type": "str", "required": True},
            "type": {"type": "str"},
            "tag": {"type": "int"},
            "trunks": {"type": "list", "elements": "int"},
            "vlan_mode": {"type": "str", "choices": list(VLAN_MODES)},
            "options": {"type": "dict"},
            "external_ids": {"type": "dict"},
        },
    },
    "purge_ports": {"type": "bool", "default": False},
    "ovs_vsctl": {"type": "path"},
    "db": {"type": "str"},
    "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
}


def run(module: ModuleProtocol) -> dict[str, Any]:
    params = module.params
    spec = bridge_spec(params)
    client = client_from_module(module, params["ovs_vsctl"], params["db"], params["timeout"])
    switch = read_switch(client)
    before = switch.bridges.get(spec.name)
    after = desired_bridge(spec, switch) if params["state"] == "present" else None
    transaction: Transaction = bridge_transaction(before, after, switch) if after is not None else bridge_removal(before, spec.name)
    if transaction.commands and not module.check_mode:
        client.apply(transaction)
        after = read_switch(client).bridges.get(spec.name)
    if after is not None:
        for warning in after.interface_errors():
            module.warn(warning)
    result: dict[str, Any] = {
        "changed": bool(transaction.commands),
        "commands": transaction.describe(),
        "bridge": after.as_dict() if after is not None else {},
    }
    if module._diff:
        result["diff"] = {
            "before": before.as_dict() if before is not None else {},
            "after": result["bridge"],
        }
    return result


def main() -> None:
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True), run)


if __name__ == "__main__":
    main()
