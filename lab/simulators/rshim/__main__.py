"""rshim simulator: presents DIR/rshimN/{boot,misc,console} the way rshim-user-space does, backed by a simulated DPU.

    python3 -m lab.simulators.rshim --dir DIR --scenario NAME [--speed S] [--device rshim0] [--chip 2|3]
                                      [--installed-version V] [--boot-timeout SECONDS] [--nic-mode]

Representation: DIR/rshimN is a FUSE mount served by this process through /dev/fuse (needs root and the fuse
kernel module; no library). Its files answer open/read/write/close like the CUSE devices of rshim-user-space:
``boot`` refuses a second open with EBUSY, drop mode with EINVAL and locked mode with EPERM, a write blocks while
the boot FIFO is full and fails with ETIMEDOUT after BOOT_TIMEOUT; ``misc`` is generated per open. A client uses
exactly the system calls it would use on /dev/rshimN, so nothing simulator-specific is needed to honour "busy".

Scenarios (what the DPU does after a boot stream is pushed):
  success   install, reboot, ``Linux up``, ``DPU is ready``
  error     the installer fails: ``ERR Installation failed`` (shown as `` ERR[MISC]: Installation failed``)
  critical  the installer stops with a ``CRITICAL ERROR`` line
  hang      install and reboot, but the OS never comes up (no ready line)
  panic     install, then a BL31 PANIC with a register dump on the reboot
  busy      another process (a child of the simulator) holds ``boot`` open: EBUSY, and visible in /proc/*/fd
  drop      DROP_MODE 1: ``boot`` opens fail with EINVAL, no log is shown
  locked    BlueField-3 in secure NIC mode (SECURE_NIC_MODE 1): ``boot`` and ``console`` opens fail with EPERM
  stall     the Arm side halts (``ERR[BL1]: PSC error -60``) and never drains the boot FIFO: writes time out
With --nic-mode (a BlueField-3 in NIC mode) the DPU ends with ``In Enhanced NIC mode`` instead of booting Linux.
A stream whose first header is not a BFB image header (magic 0x13026642) stalls the same way.

Besides the device directory: DIR/dpu/etc/mlnx-release holds the version the simulated DPU runs (the DOCA version
in the BFB's info image after an install; ``--installed-version`` sets it at start), DIR/dpu/etc/bf.cfg the last
bf.cfg the installer accepted, DIR/sim-state.json what happened (pushes, misc writes, phase) for tests.
Prints ``READY <device directory>`` once serving; SIGTERM or SIGINT unmounts and exits.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from lab.simulators.rshim.device import FILES, Chip, RshimDevice
from lab.simulators.rshim.dpu import SCENARIOS
from lab.simulators.rshim.fuse import FuseServer, MountError

PR_SET_PDEATHSIG = 1
HOLDER_CODE = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
    "fd = os.open(sys.argv[1], os.O_WRONLY); print('held', flush=True); signal.pause()"
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m lab.simulators.rshim", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, type=Path, help="directory standing for /dev (created if missing)")
    parser.add_argument("--scenario", default="success", choices=SCENARIOS)
    parser.add_argument("--speed", type=float, default=1.0, help="device seconds per real second (default 1)")
    parser.add_argument("--device", default="rshim0", help="device directory name (default rshim0)")
    parser.add_argument("--chip", type=int, choices=(1, 2, 3), default=None, help="BlueField generation (default 2, 3 for locked)")
    parser.add_argument("--dev-name", default=None, help="DEV_NAME shown in misc (default pcie-0000:03:00.2)")
    parser.add_argument("--installed-version", default=None, help="version the DPU runs at start (DIR/dpu/etc/mlnx-release)")
    parser.add_argument("--boot-timeout", type=int, default=300, help="BOOT_TIMEOUT in device seconds (rshim default 300)")
    parser.add_argument("--nic-mode", action="store_true", help="BlueField-3 in NIC mode (BF_MODE)")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error(f"--speed must be positive, got {args.speed}")
    return args


def chip_for(args: argparse.Namespace) -> Chip:
    version = args.chip or (3 if args.scenario == "locked" or args.nic_mode else 2)
    chip = Chip(version=version, nic_mode=args.nic_mode)
    if version == 3:
        chip.dev_name, chip.opn = "pcie-0000:65:00.1", "900-9D3B6-00CV-AA0"
    if args.dev_name:
        chip.dev_name = args.dev_name
    return chip


def hold_boot(device: RshimDevice, boot_path: Path) -> subprocess.Popen[str]:
    """Start the process that keeps ``boot`` open (scenario busy) and wait until it holds it."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER_CODE, str(boot_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "held":
        raise RuntimeError("the busy holder could not open boot")
    with device.lock:
        device.holder_pid = holder.pid
        device.publish()
    return holder


def exit_with_parent() -> None:
    """Stop (and unmount) when whoever started us dies, even by SIGKILL: no orphan keeps a mount alive."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    exit_with_parent()
    root = args.dir.resolve()
    mountpoint = root / args.device
    mountpoint.mkdir(parents=True, exist_ok=True)
    release_file = root / "dpu" / "etc" / "mlnx-release"
    release_file.parent.mkdir(parents=True, exist_ok=True)
    if args.installed_version:
        release_file.write_text(args.installed_version + "\n")
    device = RshimDevice(root, args.scenario, args.speed, chip_for(args), boot_timeout=args.boot_timeout)
    server = FuseServer(str(mountpoint), FILES, device)
    try:
        server.mount()
    except MountError as exc:
        print(f"rshim simulator: {exc}", file=sys.stderr)
        return 2
    holders: list[subprocess.Popen[str]] = []
    stopped = threading.Event()

    def announce() -> None:
        server.initialized.wait()
        try:
            if args.scenario == "busy":
                holders.append(hold_boot(device, mountpoint / "boot"))
        except (OSError, RuntimeError) as exc:
            print(f"rshim simulator: {exc}", file=sys.stderr)
            server.stop()
            return
        print(f"READY {mountpoint}", flush=True)
        stopped.wait()  # the holder's death signal follows this thread: it must outlive the holder

    def shutdown() -> None:
        # The holder must exit while requests are still served: its close() waits for the FLUSH reply.
        for holder in holders:
            holder.terminate()
            try:
                holder.wait(timeout=5)
            except subprocess.TimeoutExpired:
                holder.kill()
        server.stop()
        stopped.set()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    device.dpu.start()
    device.publish()
    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.serve_forever()
    finally:
        stopped.set()
        for holder in holders:
            if holder.poll() is None:
                holder.kill()
        device.dpu.stop()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
