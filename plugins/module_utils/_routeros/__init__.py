# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private RouterOS API layer of diskless.datacenter: one engine, many thin modules.

The engine reads every RouterOS path it needs once (one ``print`` per path), turns the router's values and
the user's values into one canonical form per property kind, matches desired entries with current ones by
primary keys, never touches dynamic, builtin or default entries, and writes remove/set/add in the order a
domain planner chose. Domain planners live here too, so that ``routeros_info`` reports state in exactly the
shape the other modules take as input, and so that planning is unit-tested without a router.

Imports go one way: ``errors`` <- ``kinds`` <- ``engine`` <- ``paths`` <- the domains (``vlan``, ``netboot``,
``nvme``, then ``info``); ``session`` (librouteros) needs only ``engine``; ``runner``, the only part that
imports Ansible, joins a session to a planner. Import from the submodule that defines a name.
"""
