#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report what a BlueField rshim device says about itself."""

from __future__ import annotations

DOCUMENTATION = r"""
module: rshim_info
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Read the state of a BlueField DPU through its rshim device
description:
  - Reads C(/dev/rshimN/misc) on the host that owns the DPU's rshim (rshim-user-space) and returns its fields
    as facts, for example C(DEV_NAME), C(DEV_INFO), C(BOOT_MODE), C(DROP_MODE), C(DISPLAY_LEVEL) and C(BOOT_TIMEOUT).
  - Tells whether another process holds the device's C(boot) file open (found by scanning C(/proc/*/fd)), which
    is what makes a boot stream push fail with EBUSY.
  - Does not fail when the device does not exist; RV(exists) is then false.
options:
  advanced:
    description:
      - Also return the DISPLAY_LEVEL 1 fields (C(PEER_MAC), C(PXE_ID), C(VLAN_ID), C(CLEAR_ON_READ), C(BOOT_RESET_SKIP)).
      - Switches DISPLAY_LEVEL to 1 for one read and back to its previous value. rshim asks the Arm side for its
        MAC address and waits up to one second for the answer.
    type: bool
    default: false
  log:
    description:
      - Also return the rshim log (the DISPLAY_LEVEL 2 section).
      - Switches DISPLAY_LEVEL to 2 for one read and back to its previous value.
      - When C(CLEAR_ON_READ) is 1 on the device, reading the log empties it, as with C(cat misc).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Only reads; O(advanced) and O(log) switch DISPLAY_LEVEL for one read and restore it, also in check mode.
  diff_mode:
    support: none
    details: Nothing to show a difference of.
  idempotent:
    support: full
    details: Never reports a change.
notes:
  - Run it on the host that runs the rshim service for the DPU (usually with C(become)).
seealso:
  - module: diskless.datacenter.bfb_install
extends_documentation_fragment:
  - diskless.datacenter.attributes
  - diskless.datacenter.rshim
"""

EXAMPLES = r"""
- name: Read the state of the first DPU
  diskless.datacenter.rshim_info:
    device: rshim0
  become: true
  register: dpu0

- name: Stop when another endpoint owns the device
  ansible.builtin.assert:
    that:
      - dpu0.exists
      - not dpu0.drop_mode
      - not dpu0.held
    fail_msg: "rshim0 cannot be used: {{ dpu0.msg }}"

- name: Show the last boot log of the DPU
  diskless.datacenter.rshim_info:
    device: rshim1
    log: true
  become: true
  register: dpu1_log
"""

RETURN = r"""
exists:
  description: Whether the device directory with its C(boot) and C(misc) files exists.
  returned: always
  type: bool
  sample: true
devices:
  description: rshim devices present under O(device_root).
  returned: always
  type: list
  elements: str
  sample: [rshim0, rshim1]
device:
  description: The device directory.
  returned: always
  type: str
  sample: /dev/rshim0
msg:
  description: What was found, in one sentence.
  returned: always
  type: str
  sample: rshim0 is a BlueField-2(Rev 1) at pcie-0000:03:00.2, boot mode emmc
misc:
  description: Every field of C(misc) as shown by rshim, without the legend in parentheses.
  returned: when exists
  type: dict
  sample: {"DISPLAY_LEVEL": "0", "BOOT_MODE": "1", "DEV_NAME": "pcie-0000:03:00.2", "DEV_INFO": "BlueField-2(Rev 1)"}
dev_name:
  description: C(DEV_NAME), the backend and address (C(pcie-BDF) or C(usb-...)).
  returned: when exists
  type: str
  sample: pcie-0000:03:00.2
dev_info:
  description: C(DEV_INFO), chip and revision.
  returned: when exists
  type: str
  sample: BlueField-2(Rev 1)
chip:
  description: The BlueField generation read from C(DEV_INFO).
  returned: when exists
  type: str
  sample: BlueField-2
revision:
  description: The chip revision read from C(DEV_INFO).
  returned: when exists
  type: int
  sample: 1
opn:
  description: C(OPN_STR), the ordering part number (BlueField-2 and later), C(N/A) when unknown.
  returned: when exists
  type: str
  sample: MBF2H332A-AEEOT
display_level:
  description: C(DISPLAY_LEVEL) (0 basic, 1 advanced, 2 log) as found, before any switch made by this module.
  returned: when exists
  type: int
  sample: 0
boot_mode:
  description: C(BOOT_MODE) (0 boot from rshim, 1 eMMC, 2 eMMC boot swap).
  returned: when exists
  type: int
  sample: 1
boot_mode_name:
  description: RV(boot_mode) as a word.
  returned: when exists
  type: str
  sample: emmc
boot_timeout:
  description: C(BOOT_TIMEOUT) in seconds, how long a boot stream write may wait for the Arm side.
  returned: when exists
  type: int
  sample: 300
usb_timeout:
  description: C(USB_TIMEOUT) in seconds.
  returned: when exists
  type: int
  sample: 40
drop_mode:
  description: C(DROP_MODE) is 1; rshim then ignores the device and refuses boot stream pushes.
  returned: when exists
  type: bool
  sample: false
bf_mode:
  description: C(BF_MODE) (BlueField-3), C(DPU mode) or C(NIC mode); null when not shown.
  returned: when exists
  type: str
  sample: DPU mode
secure_nic_mode:
  description: C(SECURE_NIC_MODE) (BlueField-3) is 1, the device is locked; null when not shown.
  returned: when exists
  type: bool
  sample: false
up_time:
  description: C(UP_TIME) in seconds (BlueField-3); null when not shown.
  returned: when exists
  type: int
  sample: 179752
held:
  description: Another process holds C(boot) open.
  returned: when exists
  type: bool
  sample: false
holders:
  description: The processes holding C(boot) open.
  returned: when exists
  type: list
  elements: dict
  sample: [{"pid": 4242, "command": "cat"}]
advanced:
  description: The DISPLAY_LEVEL 1 fields.
  returned: when O(advanced) is true and exists
  type: dict
  sample: {"PEER_MAC": "00:1a:ca:ff:ff:01", "PXE_ID": "0x00000000", "VLAN_ID": "0 0", "CLEAR_ON_READ": "0", "BOOT_RESET_SKIP": "0"}
log:
  description: The rshim log lines, oldest first.
  returned: when O(log) is true and exists
  type: list
  elements: str
  sample: ["INFO[BL2]: start", "INFO[MISC]: Linux up", "INFO[MISC]: DPU is ready"]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._rshim import (
    Misc,
    RshimDevice,
    RshimError,
    boot_mode_name,
)

ADVANCED_KEYS = ("BOOT_RESET_SKIP", "PEER_MAC", "PXE_ID", "VLAN_ID", "CLEAR_ON_READ")


ARGUMENT_SPEC: dict[str, Any] = {
    "device": {"type": "str", "default": "rshim0"},
    "device_root": {"type": "path", "default": "/dev"},
    "advanced": {"type": "bool", "default": False},
    "log": {"type": "bool", "default": False},
}


def read_at_level(device: RshimDevice, level: int, original: int | None) -> Misc:
    """One misc snapshot at another DISPLAY_LEVEL, restoring the original level afterwards."""
    device.write_misc("DISPLAY_LEVEL", level)
    try:
        return device.read_misc()
    finally:
        device.write_misc("DISPLAY_LEVEL", original if original is not None else 0)


def facts_of(device: RshimDevice, misc: Misc) -> dict[str, Any]:
    holders = device.holders()
    return {
        "misc": dict(misc.fields),
        "dev_name": misc.text("DEV_NAME"),
        "dev_info": misc.text("DEV_INFO"),
        "chip": misc.chip,
        "revision": misc.revision,
        "opn": misc.text("OPN_STR"),
        "display_level": misc.display_level,
        "boot_mode": misc.integer("BOOT_MODE"),
        "boot_mode_name": boot_mode_name(misc.integer("BOOT_MODE")),
        "boot_timeout": misc.integer("BOOT_TIMEOUT"),
        "usb_timeout": misc.integer("USB_TIMEOUT"),
        "drop_mode": misc.drop_mode,
        "bf_mode": misc.text("BF_MODE"),
        "secure_nic_mode": misc.secure_nic_mode,
        "up_time": misc.integer("UP_TIME"),
        "held": bool(holders),
        "holders": [{"pid": holder.pid, "command": holder.command} for holder in holders],
    }


def summary(device: RshimDevice, facts: dict[str, Any]) -> str:
    text = f"{device.name} is a {facts['dev_info']} at {facts['dev_name']}, boot mode {facts['boot_mode_name']}"
    if facts["drop_mode"]:
        text += ", in DROP_MODE (another endpoint owns it)"
    if facts["secure_nic_mode"]:
        text += ", locked (secure NIC mode)"
    if facts["held"]:
        text += ", boot held by " + ", ".join(f"pid {holder['pid']}" for holder in facts["holders"])
    return text


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        device = RshimDevice(module.params["device"], module.params["device_root"])
    except RshimError as exc:
        module.fail_json(msg=exc.message)
    result: dict[str, Any] = {"changed": False, "device": device.path, "devices": device.available(), "exists": device.exists()}
    if not result["exists"]:
        result["msg"] = f"{device.path} does not exist (rshim devices under {device.device_root}: {', '.join(result['devices']) or 'none'})"
        module.exit_json(**result)
    try:
        misc = device.read_misc()
        result.update(facts_of(device, misc))
        if module.params["advanced"]:
            advanced = read_at_level(device, 1, misc.display_level)
            result["advanced"] = {key: advanced.fields[key] for key in ADVANCED_KEYS if key in advanced.fields}
        if module.params["log"]:
            result["log"] = [str(line) for line in read_at_level(device, 2, misc.display_level).log]
    except RshimError as exc:
        module.fail_json(msg=exc.message, **result)
    result["msg"] = summary(device, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
