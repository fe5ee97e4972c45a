#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flash a BlueField DPU with a BFB through its rshim device and wait until it is ready."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bfb_install
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Install a BFB image on a BlueField DPU through rshim and wait until the DPU is ready
description:
  - Pushes a BlueField boot stream (BFB), optionally followed by a C(bf.cfg), into C(/dev/rshimN/boot) on the host
    that owns the DPU's rshim device, like C(bfb-install), then follows the rshim log (C(misc) at DISPLAY_LEVEL 2
    with CLEAR_ON_READ 1) until the DPU reports it is ready.
  - Unlike C(bfb-install) it fails the task when the log shows an error (C(ERR), C(ASSERT), C(PANIC), an exception or
    a C(CRITICAL ERROR) line), when the DPU stops reading the boot stream, and when O(timeout) runs out; the
    failure message carries the log lines that led to it.
  - The full log is kept in O(log_path) on the host and returned.
  - Before anything is pushed it refuses, with a message saying why, a missing device, a device in DROP_MODE,
    a locked device (secure NIC mode), a C(boot) file held open by another process, a file that is not a BFB and a
    C(bf.cfg) that does not pass C(bash -n) (the installer would silently ignore it).
  - Idempotent when O(bfb_version) is given with a way to learn the version the DPU runs (O(current_version),
    O(current_version_file) or O(current_version_command)); a DPU that already runs O(bfb_version) is not flashed
    again unless O(force).
  - The log lines left from an earlier boot are read and set aside before the push, so an old C(DPU is ready)
    cannot be taken for the new one.
options:
  bfb:
    description:
      - Path of the BFB file on the host that runs the module.
    type: path
    required: true
  bfb_version:
    description:
      - The version the DPU runs once O(bfb) is installed, compared with the current version to skip the flash.
      - Without it the module always flashes.
    type: str
  current_version:
    description:
      - The version the DPU runs now, when the playbook already knows it.
    type: str
  current_version_file:
    description:
      - A file on the host whose content (stripped) is the version the DPU runs now.
      - A missing file means the version is unknown, so the DPU is flashed.
    type: path
  current_version_command:
    description:
      - A command run on the host (split like a shell would, no shell features) that prints the version the DPU runs,
        for example C(ssh ubuntu@192.168.100.2 cat /etc/mlnx-release).
      - A non-zero exit status means the version is unknown, so the DPU is flashed.
      - It runs in check mode too, so it must only read.
    type: str
  force:
    description:
      - Flash even when the DPU already runs O(bfb_version).
    type: bool
    default: false
  config:
    description:
      - Content of the C(bf.cfg) appended to the boot stream (it holds password hashes, so it is never logged).
      - Checked with C(bash -n) on the host before anything is pushed.
    type: str
  config_path:
    description:
      - Path of a C(bf.cfg) on the host, instead of O(config).
    type: path
  ready_pattern:
    description:
      - Regular expression a log line must match for the DPU to count as ready.
      - Defaults to C(DPU is ready), or C(In Enhanced NIC mode) when C(misc) shows a BlueField-3 in NIC mode.
        C(Linux up) comes a few seconds earlier than C(DPU is ready) but before login is possible.
    type: str
  ignore_error_patterns:
    description:
      - Regular expressions; an error line matching one of them does not fail the task.
      - The default ignores the installer's C(ERR Failed to add ... boot entry. Retrying...), which it retries itself.
    type: list
    elements: str
    default: ['Retrying\.\.\.']
  timeout:
    description:
      - Seconds the whole flash may take, push included.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two reads of the rshim log.
    type: float
    default: 1.0
  log_path:
    description:
      - File on the host that receives the full log of the flash (overwritten each time). C({device}) is replaced by
        O(device).
    type: path
    default: /var/log/bfb_install_{device}.log
  verify_version:
    description:
      - After the DPU is ready, read the current version again (O(current_version_file) or O(current_version_command))
        and fail when it is not O(bfb_version).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Validates the inputs, reads C(misc) and C(/proc) and says what it would do; opens nothing for writing.
  diff_mode:
    support: partial
    details: Shows the version before and after; the version is C(unknown) when it cannot be learned.
  idempotent:
    support: partial
    details: Only with O(bfb_version) and a source of the current version; otherwise every run flashes.
notes:
  - Run it on the host that runs the rshim service for the DPU, with C(become).
  - Like C(bfb-install) it leaves C(CLEAR_ON_READ) at 0 when done; C(DISPLAY_LEVEL) gets its previous value back.
  - Another process reading C(misc) at DISPLAY_LEVEL 2 during the flash takes log lines away from the module
    (every read empties the log), so do not watch the log with C(cat) at the same time.
  - Flashing resets the DPU; its host loses the DPU's network functions until the DPU is ready again.
seealso:
  - module: diskless.datacenter.rshim_info
extends_documentation_fragment:
  - diskless.datacenter.attributes
  - diskless.datacenter.rshim
"""

EXAMPLES = r"""
- name: Install the DOCA BFB on the first DPU unless it already runs it
  diskless.datacenter.bfb_install:
    device: rshim0
    bfb: /srv/bfb/bf-bundle-2.9.1-30_24.11_ubuntu-22.04_prod.bfb
    bfb_version: DOCA_2.9.1_BSP_4.9.1_Ubuntu_22.04-4.2410
    current_version_command: ssh -o BatchMode=yes ubuntu@192.168.100.2 cat /etc/mlnx-release
    config: "{{ lookup('ansible.builtin.template', 'bf.cfg.j2') }}"
    log_path: /var/log/bfb/rshim0.log
  become: true

- name: Flash again and accept the DPU as soon as Linux is up
  diskless.datacenter.bfb_install:
    device: rshim1
    bfb: /srv/bfb/custom.bfb
    config_path: /etc/bf/rshim1.cfg
    ready_pattern: Linux up
    force: true
    timeout: 2400
  become: true
"""

RETURN = r"""
msg:
  description: What was done.
  returned: always
  type: str
  sample: "rshim0: pushed custom.bfb + bf.cfg (1654432112 bytes); ready after 612 s: INFO[MISC]: DPU is ready"
device:
  description: The device directory.
  returned: always
  type: str
  sample: /dev/rshim0
bfb_version:
  description: O(bfb_version) as given.
  returned: always
  type: str
  sample: DOCA_2.9.1_BSP_4.9.1_Ubuntu_22.04-4.2410
previous_version:
  description: The version the DPU ran before, null when unknown.
  returned: always
  type: str
  sample: DOCA_2.8.0_BSP_4.8.0_Ubuntu_22.04-2.2407
version:
  description: The version the DPU runs after a flash, read again when O(verify_version); null when unknown.
  returned: success
  type: str
  sample: DOCA_2.9.1_BSP_4.9.1_Ubuntu_22.04-4.2410
dev_name:
  description: C(DEV_NAME) of the device.
  returned: when the device was read
  type: str
  sample: pcie-0000:03:00.2
dev_info:
  description: C(DEV_INFO) of the device.
  returned: when the device was read
  type: str
  sample: BlueField-2(Rev 1)
ready_line:
  description: The log line that matched O(ready_pattern).
  returned: when flashed
  type: str
  sample: "INFO[MISC]: DPU is ready"
log:
  description: The rshim log lines read during this flash, oldest first.
  returned: when flashed or failed while flashing
  type: list
  elements: str
  sample: ["INFO[BL2]: start", "INFO[MISC]: Installation finished", "INFO[MISC]: DPU is ready"]
previous_log:
  description: Lines that were already in the log before the push (from an earlier boot), set aside.
  returned: when flashed
  type: list
  elements: str
  sample: ["INFO[MISC]: Linux up", "INFO[MISC]: DPU is ready"]
excerpt:
  description: The log lines leading to a failure (also in the failure message).
  returned: failure while flashing
  type: list
  elements: str
  sample: ["INFO[MISC]: Failed to access target device: /dev/mmcblk0", "ERR[MISC]: Installation failed"]
log_path:
  description: The file holding the full log.
  returned: when flashed or failed while flashing
  type: str
  sample: /var/log/bfb_install_rshim0.log
bytes_pushed:
  description: Bytes written into C(boot).
  returned: when flashed or failed while flashing
  type: int
  sample: 1654432112
elapsed:
  description: Seconds from the push to the ready line (or the failure).
  returned: when flashed
  type: float
  sample: 612.4
"""

import os
import re
import shlex
import shutil
import time
from typing import Any, NoReturn, TextIO

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._module import ModuleProtocol
from ansible_collections.diskless.datacenter.plugins.module_utils._rshim import (
    DEFAULT_READY_PATTERN,
    NIC_MODE_READY_PATTERN,
    BootStream,
    Flasher,
    FlashError,
    FlashOptions,
    Misc,
    RshimDevice,
    RshimError,
    check_can_push,
    inspect_bfb,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "device": {"type": "str", "default": "rshim0"},
    "device_root": {"type": "path", "default": "/dev"},
    "bfb": {"type": "path", "required": True},
    "bfb_version": {"type": "str"},
    "current_version": {"type": "str"},
    "current_version_file": {"type": "path"},
    "current_version_command": {"type": "str"},
    "force": {"type": "bool", "default": False},
    "config": {"type": "str", "no_log": True},
    "config_path": {"type": "path"},
    "ready_pattern": {"type": "str"},
    "ignore_error_patterns": {"type": "list", "elements": "str", "default": [r"Retrying\.\.\."]},
    "timeout": {"type": "int", "default": 1800},
    "poll_interval": {"type": "float", "default": 1.0},
    "log_path": {"type": "path", "default": "/var/log/bfb_install_{device}.log"},
    "verify_version": {"type": "bool", "default": True},
}
VERSION_SOURCES = ["current_version", "current_version_file", "current_version_command"]


class BfbInstall:
    """Validates, decides whether to flash, and flashes."""

    def __init__(self, module: ModuleProtocol) -> None:
        self.module = module
        self.params = module.params
        self.result: dict[str, Any] = {"changed": False, "bfb_version": self.params["bfb_version"], "previous_version": None}
        self.device = self._device()
        self.result["device"] = self.device.path
        self.config = b""
        self.log_path = self.params["log_path"].replace("{device}", self.device.name)

    # validation (nothing is touched before all of it passed) ------------------------------------------------------
    def _device(self) -> RshimDevice:
        try:
            return RshimDevice(self.params["device"], self.params["device_root"])
        except RshimError as exc:
            self.fail(exc.message)

    def validate(self) -> None:
        try:
            inspect_bfb(self.params["bfb"])
        except RshimError as exc:
            self.fail(exc.message)
        for name in ("timeout", "poll_interval"):
            if self.params[name] <= 0:
                self.fail(f"{name}={self.params[name]!r}: must be greater than 0")
        patterns = [("ready_pattern", self.params["ready_pattern"])] if self.params["ready_pattern"] else []
        patterns += [("ignore_error_patterns", pattern) for pattern in self.params["ignore_error_patterns"]]
        for name, pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.fail(f"{name}={pattern!r}: not a regular expression ({exc})")
        self.config = self._read_config()

    def _read_config(self) -> bytes:
        content: bytes
        if self.params["config"] is not None:
            content = self.params["config"].encode()
            origin = "config"
        elif self.params["config_path"]:
            try:
                with open(self.params["config_path"], "rb") as handle:
                    content = handle.read()
            except OSError as exc:
                self.fail(f"config_path={self.params['config_path']!r}: cannot be read ({exc.strerror})")
            origin = f"config_path={self.params['config_path']!r}"
        else:
            return b""
        self._check_bash_syntax(content, origin)
        return content

    def _check_bash_syntax(self, content: bytes, origin: str) -> None:
        bash = shutil.which("bash")
        if bash is None:
            self.module.warn("bash not found on the host: bf.cfg was not checked with bash -n")
            return
        rc, _out, err = self.module.run_command([bash, "-n"], data=content, binary_data=True)
        if rc != 0:
            problem = str(err).strip().replace("bash: ", "")
            self.fail(f"{origin}: bf.cfg does not pass bash -n, the installer would ignore it: {problem}")

    # versions ---------------------------------------------------------------------------------------------------------
    def current_version(self) -> str | None:
        if self.params["current_version"] is not None:
            return str(self.params["current_version"]).strip()
        if self.params["current_version_file"]:
            return self._version_from_file(self.params["current_version_file"])
        if self.params["current_version_command"]:
            return self._version_from_command(self.params["current_version_command"])
        return None

    def _version_from_file(self, path: str) -> str | None:
        try:
            with open(path) as handle:
                return handle.read().strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.module.warn(f"current_version_file={path!r} cannot be read ({exc.strerror}): the installed version is unknown")
            return None

    def _version_from_command(self, command: str) -> str | None:
        rc, out, err = self.module.run_command(shlex.split(command))
        if rc != 0:
            self.module.warn(f"current_version_command exited with {rc} ({err.strip()[-200:]}): the installed version is unknown")
            return None
        return str(out).strip() or None

    def up_to_date(self, current: str | None) -> bool:
        return self.params["bfb_version"] is not None and current == self.params["bfb_version"] and not self.params["force"]

    # the run ----------------------------------------------------------------------------------------------------------
    def run(self) -> None:
        self.validate()
        current = self.current_version()
        self.result["previous_version"] = current
        self._diff(current)
        if self.up_to_date(current):
            self.exit(False, f"{self.device.name} already runs {current}; nothing to do (force=true flashes anyway)", version=current)
        misc = self._check_device()
        pattern = self.params["ready_pattern"] or (NIC_MODE_READY_PATTERN if misc.nic_mode else DEFAULT_READY_PATTERN)
        what = os.path.basename(self.params["bfb"]) + (" + bf.cfg" if self.config else "")
        if self.module.check_mode:
            self.exit(True, f"would push {what} into {self.device.boot_path} and wait up to {self.params['timeout']} s for {pattern!r}")
        self._flash(pattern, what)

    def _check_device(self) -> Misc:
        try:
            self.device.require()
            misc = self.device.read_misc()
            self.result.update(dev_name=misc.text("DEV_NAME"), dev_info=misc.text("DEV_INFO"))
            check_can_push(self.device, misc)
        except RshimError as exc:
            self.fail(exc.message)
        return misc

    def _flash(self, pattern: str, what: str) -> None:
        log_file = self._open_log()
        options = FlashOptions(
            BootStream(self.params["bfb"], self.config),
            pattern,
            self.params["ignore_error_patterns"],
            float(self.params["timeout"]),
            self.params["poll_interval"],
        )

        def sink(line: str) -> None:
            log_file.write(line + "\n")
            log_file.flush()

        flasher = Flasher(self.device, options, sink)
        self.result["log_path"] = self.log_path
        try:
            outcome = flasher.run()
        except FlashError as exc:
            self.result.update(changed=True, log=exc.log, excerpt=exc.excerpt, bytes_pushed=exc.bytes_pushed)
            self.fail(f"{self.device.name}: {exc.message}\nlog excerpt:\n  " + "\n  ".join(exc.excerpt or ["(the rshim log was empty)"]))
        except RshimError as exc:
            self.result.update(log=flasher.log, bytes_pushed=flasher.bytes_pushed)
            self.fail(exc.message)
        finally:
            log_file.close()
        for warning in outcome.warnings:
            self.module.warn(warning)
        self.result.update(log=outcome.log, previous_log=outcome.previous_log, bytes_pushed=outcome.bytes_pushed, elapsed=round(outcome.elapsed, 1))
        self.result["ready_line"] = outcome.ready_line
        version = self._verify_version()
        message = f"{self.device.name}: pushed {what} ({outcome.bytes_pushed} bytes); ready after {outcome.elapsed:.0f} s: {outcome.ready_line}"
        self.exit(True, message, version=version)

    def _open_log(self) -> TextIO:
        try:
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            handle = open(self.log_path, "w")  # noqa: SIM115 - closed by _flash
            os.chmod(self.log_path, 0o640)
        except OSError as exc:
            self.fail(f"log_path={self.log_path!r}: cannot be written ({exc.strerror})")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
        handle.write(f"# bfb_install {stamp}: {self.device.path} ({self.result.get('dev_info')}, {self.result.get('dev_name')})\n")
        handle.write(f"# bfb {self.params['bfb']} version {self.params['bfb_version'] or 'not given'}; bf.cfg {'yes' if self.config else 'no'}\n")
        return handle

    def _verify_version(self) -> str | None:
        sources = self.params["current_version_file"] or self.params["current_version_command"]
        expected: str | None = self.params["bfb_version"]
        if not (self.params["verify_version"] and sources and expected):
            return expected
        version = self.current_version()
        if version is None:
            self.module.warn("the DPU is ready but its version could not be read back")
        elif version != self.params["bfb_version"]:
            self.result.update(changed=True, version=version)
            self.fail(f"{self.device.name} is ready but runs {version!r}, not bfb_version={self.params['bfb_version']!r}")
        return version

    # results ------------------------------------------------------------------------------------------------------------
    def _diff(self, current: str | None) -> None:
        if self.module._diff:
            after = current if self.up_to_date(current) else self.params["bfb_version"] or os.path.basename(self.params["bfb"])
            self.result["diff"] = {
                "before_header": self.device.path,
                "after_header": self.device.path,
                "before": f"version: {current or 'unknown'}\n",
                "after": f"version: {after}\n",
            }

    def exit(self, changed: bool, msg: str, **extra: Any) -> NoReturn:
        self.result.update(changed=changed, msg=msg, **extra)
        self.module.exit_json(**self.result)

    def fail(self, msg: str) -> NoReturn:
        self.module.fail_json(msg=msg, **self.result)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[["config", "config_path"], VERSION_SOURCES],
        required_by={source: "bfb_version" for source in VERSION_SOURCES},
        supports_check_mode=True,
    )
    BfbInstall(module).run()


if __name__ == "__main__":
    main()
