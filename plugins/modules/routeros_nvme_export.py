#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: routeros_nvme_export
short_description: File-backed volumes exported over NVMe/TCP by a MikroTik ROSE data server
version_added: 0.1.0
description:
  - Manages one file-backed disk of the RouterOS ROSE storage package (C(/disk) entry of C(type=file)), keyed by
    its slot, and its NVMe/TCP export (TCP port, NQN, allowed host NQNs).
  - The C(rose-storage) package must be installed and enabled to create or change an export (C(/system/package)
    is read only then).
  - Reads C(/disk) once (and C(/file) for O(remove_file=true)); nothing is read back after the changes, so a run
    with nothing to change sends one C(print).
  - Refuses, before any change, to shrink a volume, to point an existing slot at another file, or to touch a slot
    that is not a file-backed disk (a drive, a partition, a RAID array).
  - O(state=absent) removes the C(/disk) entry and so the export; the backing file stays unless O(remove_file=true).
  - Sizes compare in bytes with binary units - V(10G), V(10GiB), V(10.0GiB) and V(10737418240) are the same size.
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
    details: The before and after state are those of the slot.
  idempotent:
    support: full
options:
  slot:
    description:
      - Slot name of the disk (the key), also the default NVMe subsystem name RouterOS derives the NQN from.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the file-backed disk and exports it; V(absent) removes the disk entry.
    type: str
    choices: [present, absent]
    default: present
  file_path:
    description:
      - Backing file on the router (V(disk1/pvc-1.img)); a leading V(/) is ignored.
      - Required to create the slot; must match the existing file otherwise.
    type: str
  file_size:
    description:
      - Size of the backing file - bytes, or a number with a binary unit (V(10G), V(512M), V(10GiB)).
      - Required to create the slot. Growing is applied, shrinking is refused.
    type: str
  nvme_port:
    description:
      - TCP port of the NVMe/TCP target (RouterOS' default is 4420). Left as is when omitted.
      - Not to be confused with O(port), the port of the RouterOS API.
    type: int
  nqn:
    description:
      - NVMe qualified name of the export (V(nqn.2000-02.com.mikrotik:pvc-1)). Left as is when omitted.
    type: str
  allowed_hosts:
    description:
      - Host NQNs allowed to connect (C(nvme-tcp-server-allow-host-name)); an empty list allows any host.
      - Left as is when omitted.
    type: list
    elements: str
  remove_file:
    description:
      - With O(state=absent), also remove the backing file (its data is lost).
    type: bool
    default: false
seealso:
  - module: diskless.datacenter.routeros_info
  - name: RouterOS NVMe over TCP
    description: MikroTik's manual on exporting disks and files over NVMe/TCP.
    link: https://help.mikrotik.com/docs/display/ROS/NVMe+over+TCP
"""

EXAMPLES = r"""
- name: Persistent volume for a K3s agent's /var, exported on the storage VLAN
  diskless.datacenter.routeros_nvme_export:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    slot: pvc-c4140-var
    file_path: disk1/pvc-c4140-var.img
    file_size: 100G
    nvme_port: 4420
    nqn: nqn.2000-02.com.mikrotik:pvc-c4140-var

- name: Remove the export and its data
  diskless.datacenter.routeros_nvme_export:
    hostname: 10.42.64.1
    username: ansible
    password: "{{ routeros_password }}"
    slot: pvc-c4140-var
    state: absent
    remove_file: true
"""

RETURN = r"""
changes:
  description: The API commands the run made (or, in check mode, would make), in order.
  returned: always
  type: list
  elements: str
  sample:
    - "/disk/add slot=pvc-1 type=file file-path=disk1/pvc-1.img file-size=10G nvme-tcp-export=yes"
applied:
  description: The commands actually sent (empty in check mode). On failure, those sent before the failure.
  returned: always
  type: list
  elements: str
state:
  description:
    - The slot after the run (empty when absent), in the shape of this module's options.
    - Computed from the state read before the run with the changes applied, in check mode and in a real run
      alike (the router is not read again; the same as the C(--diff) after state). Values the router fills in
      itself on a new disk and the task does not set (for example O(nvme_port) when omitted) are not shown.
  returned: success
  type: dict
  sample: {slot: pvc-1, file_path: disk1/pvc-1.img, file_size: 10737418240, nvme_port: 4420, nqn: "nqn.2000-02.com.mikrotik:pvc-1", allowed_hosts: []}
path:
  description: On failure, the RouterOS menu the failing command was for.
  returned: failure
  type: str
  sample: /disk
entry:
  description: On failure, the primary keys of the entry the failing command was for.
  returned: failure
  type: str
  sample: slot=pvc-1
router_message:
  description: On failure, the router's own message.
  returned: failure
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import EXPORT_STATE
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.nvme import NvmeRequest, plan_nvme_export
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.runner import run_planner
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import CONNECTION_ARGUMENT_SPEC

ARGUMENT_SPEC: dict[str, Any] = {
    **CONNECTION_ARGUMENT_SPEC,
    "slot": {"type": "str", "required": True},
    "state": {"type": "str", "choices": list(EXPORT_STATE.choices), "default": "present"},
    "file_path": {"type": "str"},
    "file_size": {"type": "str"},
    "nvme_port": {"type": "int"},
    "nqn": {"type": "str"},
    "allowed_hosts": {"type": "list", "elements": "str"},
    "remove_file": {"type": "bool", "default": False},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_planner(module, NvmeRequest.from_params, plan_nvme_export)


if __name__ == "__main__":
    main()
