# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rshim device options shared by the BlueField modules (rshim_info, bfb_install)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  device:
    description:
      - Name of the rshim device directory, such as C(rshim0).
    type: str
    default: rshim0
  device_root:
    description:
      - Directory holding the rshim device directories.
      - Only tests change this (they point it at a simulator).
    type: path
    default: /dev
"""
