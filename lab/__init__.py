"""The virtual lab: QEMU guests, their serial consoles and power, the lab's services and its CLI (``python -m lab``).

Also the simulators the lab runs as its devices (lab.simulators: the RDS's RouterOS API, the DPUs' rshim).
Nothing here imports the tests; the tests build on this package. Standard library only at import time:
the rshim simulator is copied with this file into hosts that have nothing but python3.
"""
