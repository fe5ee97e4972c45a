#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the validate_inventory action plugin (it runs on the controller only)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: validate_inventory
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Check the whole datacenter inventory and report every problem at once
description:
  - Reads the C(dc_*) variables of every host in the groups C(rds), C(boot_servers), C(dpus) and C(diskless_hosts)
    and fails with ONE message that lists every problem, each naming the host, the field and the value.
  - Checks malformed and duplicate MAC addresses, duplicate IP addresses, addresses outside their VLAN's subnet,
    VLAN IDs outside 1-4094 or used twice, subnets that overlap or lie outside the supernet, host octets out of range,
    DPUs and hosts that point at unknown hosts, hosts without a MAC, and unknown C(dc_*) keys (typos).
  - The inventory model is documented in the collection's C(docs/inventory.md).
  - Runs on the controller; it contacts no host.
options: {}
attributes:
  check_mode:
    support: full
    details: Only reads the inventory.
  diff_mode:
    support: none
    details: Nothing to show a difference of.
  idempotent:
    support: full
    details: Never changes anything.
notes:
  - Needs the Python library netaddr on the controller.
extends_documentation_fragment:
  - diskless.datacenter.attributes
  - diskless.datacenter.attributes.action
"""

EXAMPLES = r"""
- name: Validate the datacenter inventory
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Stop here unless the inventory is valid
      diskless.datacenter.validate_inventory:
"""

RETURN = r"""
model:
  description: The normalised model, as returned by the C(diskless.datacenter.datacenter_model) filter.
  returned: success
  type: dict
problems:
  description: One line per problem, each naming host, field and value.
  returned: failure
  type: list
  elements: str
  sample:
    - "r640: dc_macs='aa:bb:cc:dd:ee': malformed MAC address (expected six hex pairs like 52:54:00:12:34:56)"
"""
