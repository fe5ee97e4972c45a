"""rshim simulator: /dev/rshimN/{boot,misc,console} as rshim-user-space presents them, with a simulated DPU behind.

Run ``python3 -m lab.simulators.rshim --help``. The device directory is a FUSE mount served by the simulator
over /dev/fuse (fuse.py speaks the kernel protocol itself), so clients use the same open/read/write/close as on a
real device and get the same errno values (EBUSY, EINVAL, EPERM, ETIMEDOUT). Named pipes could not give a refused
open, a per-open misc text or a write that times out, which is why they were not used.
Modules: fuse (the file server), device (rshim's boot/misc/console semantics), rshlog (the 1 KB RShim log),
dpu (what the Arm side logs over time, per scenario), bfb (BFB image format), launcher (start/stop as a subprocess, on the shared lab/simulators/launcher.py).
"""
