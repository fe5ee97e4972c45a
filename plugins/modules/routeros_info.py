#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: routeros_info
short_description: Version, packages and the datacenter state of a MikroTik RouterOS device
version_added: 0.1.0
description:
  - Reports the RouterOS version, board and installed packages (and whether C(rose-storage) is installed and enabled).
  - Reports the current state of what the other RouterOS modules of this collection manage, in the shape they take
    as input - bridges for M(diskless.datacenter.routeros_vlan), DHCP servers for
    M(diskless.datacenter.routeros_netboot), file-backed NVMe/TCP exports for M(diskless.datacenter.routeros_nvme_export).
  - Dynamic, builtin and default entries are left out, as the other modules never manage them.
author:
  - Diskless Datacenter maintainers (@diskless-datacenter)
extends_documentation_fragment:
  - diskless.datacenter.routeros
  - diskless.datacenter.attributes
  - diskless.datacenter.attributes.action_group_routeros
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    details: Nothing to show a difference of.
  idempotent:
    support: full
    details: Only reads.
options:
  gather_subset:
    description:
      - What to read. V(system) is version, board and packages; V(vlan) the bridges; V(netboot) the DHCP servers and
        TFTP rules; V(nvme) the NVMe/TCP exports; V(all) everything.
    type: list
    elements: str
    choices: [all, system, vlan, netboot, nvme]
    default: [all]
seealso:
  - module: diskless.datacenter.routeros_vlan
  - module: diskless.datacenter.routeros_netboot
  - module: diskless.datacenter.routeros_nvme_export
"""

EXAMPLES = r"""
- name: What does the RDS run, and does it have the storage package?
  diskless.datacenter.routeros_info:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    gather_subset: [system]
  register: rds

- name: Fail early without rose-storage
  ansible.builtin.assert:
    that: rds.rose_storage
    fail_msg: "RouterOS {{ rds.version }} on {{ rds.board }} lacks the rose-storage package"

- name: Read the bridge and feed it back unchanged (a no-op, by construction)
  diskless.datacenter.routeros_info:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    gather_subset: [vlan]
  register: current

- name: Re-apply what is there
  diskless.datacenter.routeros_vlan:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    bridge: "{{ current.bridges[0].bridge }}"
    ports: "{{ current.bridges[0].ports }}"
    vlans: "{{ current.bridges[0].vlans }}"
    interfaces: "{{ current.bridges[0].interfaces }}"
"""

RETURN = r"""
version:
  description: RouterOS version (C(/system/resource) C(version)).
  returned: when O(gather_subset) has V(system) or V(all)
  type: str
  sample: 7.16.2 (stable)
board:
  description: Board name.
  returned: when O(gather_subset) has V(system) or V(all)
  type: str
  sample: RDS2216
architecture:
  description: CPU architecture.
  returned: when O(gather_subset) has V(system) or V(all)
  type: str
  sample: arm64
packages:
  description: Installed packages.
  returned: when O(gather_subset) has V(system) or V(all)
  type: list
  elements: dict
  sample: [{name: routeros, version: 7.16.2, disabled: false}, {name: rose-storage, version: 7.16.2, disabled: false}]
rose_storage:
  description: Whether the C(rose-storage) package is installed and enabled.
  returned: when O(gather_subset) has V(system) or V(all)
  type: bool
bridges:
  description: Every bridge in the shape of M(diskless.datacenter.routeros_vlan)'s options (C(bridge), C(ports), C(vlans), C(interfaces)).
  returned: when O(gather_subset) has V(vlan) or V(all)
  type: list
  elements: dict
netboot:
  description: Every DHCP server in the shape of M(diskless.datacenter.routeros_netboot)'s options.
  returned: when O(gather_subset) has V(netboot) or V(all)
  type: list
  elements: dict
tftp:
  description: TFTP rules in the shape of M(diskless.datacenter.routeros_netboot)'s O(diskless.datacenter.routeros_netboot#module:tftp) option.
  returned: when O(gather_subset) has V(netboot) or V(all)
  type: list
  elements: dict
nvme_exports:
  description: File-backed disks exported over NVMe/TCP, in the shape of M(diskless.datacenter.routeros_nvme_export)'s options.
  returned: when O(gather_subset) has V(nvme) or V(all)
  type: list
  elements: dict
  sample: [{slot: pvc-1, file_path: disk1/pvc-1.img, file_size: 10737418240, nvme_port: 4420, nqn: "nqn.2000-02.com.mikrotik:pvc-1", allowed_hosts: []}]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.info import gather_info
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import GATHER_SUBSET
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.runner import run_reader
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import CONNECTION_ARGUMENT_SPEC

ARGUMENT_SPEC: dict[str, Any] = {
    **CONNECTION_ARGUMENT_SPEC,
    "gather_subset": {"type": "list", "elements": "str", "choices": list(GATHER_SUBSET.choices), "default": ["all"]},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_reader(module, lambda reader: gather_info(reader, module.params["gather_subset"]))


if __name__ == "__main__":
    main()
