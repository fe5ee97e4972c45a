# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the Open vSwitch modules (action group ``diskless.datacenter.ovs``)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  ovs_vsctl:
    description: Path of the C(ovs-vsctl) program. Looked up in E(PATH) when omitted.
    type: path
  db:
    description:
      - Database to talk to, as C(ovs-vsctl --db) takes it, for example V(unix:/run/openvswitch/db.sock).
      - The C(ovs-vsctl) default when omitted.
    type: str
  timeout:
    description:
      - Seconds C(ovs-vsctl) may wait for the database and for C(ovs-vswitchd) to apply a change; V(0) waits forever.
    type: int
    default: 30
"""
