# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attribute descriptions shared by every module of the collection.

A module lists the fragments it needs and states only its own ``support`` (and ``details`` where the
support is partial or the behaviour needs a word); the wording of each attribute lives here once.
"""

from __future__ import annotations


class ModuleDocFragment:
    # check_mode, diff_mode and idempotent: every module of the collection has all three.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the target.
  diff_mode:
    description: Returns the state before and after the change when run with C(--diff).
  idempotent:
    description: A second run with the same arguments reports no change.
"""

    # Modules that also run as action plugins on the controller.
    ACTION = r"""
options: {}
attributes:
  action:
    description: Implemented as an action plugin that runs on the controller.
    support: full
"""

    ACTION_GROUP_ROUTEROS = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/diskless.datacenter.routeros) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - diskless.datacenter.routeros
"""

    ACTION_GROUP_OVS = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/diskless.datacenter.ovs) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - diskless.datacenter.ovs
"""
