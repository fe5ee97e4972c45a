#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotent keys of the Open_vSwitch table (other_config, external_ids), for example hw-offload."""

from __future__ import annotations

DOCUMENTATION = r"""
module: ovs_global
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Set switch-wide Open vSwitch settings such as hw-offload
description:
  - Sets keys of the C(other_config) and C(external_ids) columns of the single row of the C(Open_vSwitch) table,
    for example C(other_config:hw-offload=true) on a BlueField DPU, in one C(ovs-vsctl) transaction.
  - Compares key by key and runs nothing when every key already has its value.
  - Listed keys are set, keys with the value V(null) are removed, keys not listed are left alone.
  - Reports in RV(restart_required) whether a key changed that C(ovs-vswitchd) reads only when it starts
    (C(hw-offload), C(n-offload-threads), C(offload-rebalance), C(userspace-tso-enable), C(dpdk-init) and the
    DPDK memory and EAL keys, per C(ovs-vswitchd.conf.db(5))). Restarting is left to the playbook (a handler).
options:
  other_config:
    description:
      - Keys of C(other_config) to set; a key with the value V(null) is removed.
      - Booleans are written as V(true)/V(false) (Open vSwitch expects lower case), numbers as their decimal text.
    type: dict
  external_ids:
    description: Keys of C(external_ids) to set; a key with the value V(null) is removed.
    type: dict
attributes:
  check_mode:
    support: full
    details: Reports the commands, the resulting keys and RV(restart_required) without running anything.
  diff_mode:
    support: full
    details: Shows C(other_config) and C(external_ids) before and after.
  idempotent:
    support: full
notes:
  - RV(restart_required) reflects the changes of this run only. A value set earlier without a restart is not detected;
    notify the restart handler from the task that changed it.
seealso:
  - module: diskless.datacenter.ovs_bridge
extends_documentation_fragment:
  - diskless.datacenter.attributes
  - diskless.datacenter.attributes.action_group_ovs
  - diskless.datacenter.ovs
"""

EXAMPLES = r"""
- name: Enable hardware offload on the DPU
  diskless.datacenter.ovs_global:
    other_config:
      hw-offload: true
  register: ovs_global_result
  notify: Restart openvswitch-switch

- name: Restart at once when hw-offload changed
  ansible.builtin.service:
    name: openvswitch-switch
    state: restarted
  when: ovs_global_result.restart_required

- name: Remove a key
  diskless.datacenter.ovs_global:
    other_config:
      max-idle: null
"""

RETURN = r"""
other_config:
  description: C(other_config) of the Open_vSwitch row after the run (what it would be in check mode).
  returned: always
  type: dict
  sample: {hw-offload: "true"}
external_ids:
  description: C(external_ids) of the Open_vSwitch row after the run (what it would be in check mode).
  returned: always
  type: dict
  sample: {hostname: dpu1, system-id: 2c6d2b0e-7c41-4b6a-9a07-3d1b8c5c0e11}
restart_required:
  description: Whether a key changed that ovs-vswitchd only reads when it starts, such as C(hw-offload).
  returned: always
  type: bool
  sample: true
restart_keys:
  description: The changed keys that need an ovs-vswitchd restart.
  returned: always
  type: list
  elements: str
  sample: [hw-offload]
commands:
  description: The ovs-vsctl commands of the transaction; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - "set Open_vSwitch . 'other_config:\"hw-offload\"=\"true\"'"
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._module import ModuleProtocol
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs import (
    DEFAULT_TIMEOUT,
    client_from_module,
    read_global,
    run_module,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs_plan import (
    desired_global,
    global_transaction,
    restart_keys,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "other_config": {"type": "dict"},
    "external_ids": {"type": "dict"},
    "ovs_vsctl": {"type": "path"},
    "db": {"type": "str"},
    "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
}


def run(module: ModuleProtocol) -> dict[str, Any]:
    params = module.params
    client = client_from_module(module, params["ovs_vsctl"], params["db"], params["timeout"])
    before = read_global(client)
    after = desired_global(before, params["other_config"], params["external_ids"])
    transaction = global_transaction(before, after)
    keys = restart_keys(before, after)
    if transaction.commands and not module.check_mode:
        client.apply(transaction)
        after = read_global(client)
    result: dict[str, Any] = {
        "changed": bool(transaction.commands),
        "commands": transaction.describe(),
        "restart_required": bool(keys),
        "restart_keys": keys,
        **after.as_dict(),
    }
    if module._diff:
        result["diff"] = {"before": before.as_dict(), "after": after.as_dict()}
    return result


def main() -> None:
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True), run)


if __name__ == "__main__":
    main()
