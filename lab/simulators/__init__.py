"""Simulated devices the lab runs: the RDS's RouterOS API (routeros) and the DPUs' rshim (rshim).

They are independent oracles of the collection's device code: they share no code with plugins/ (standard
library only, plus `cryptography` for the RouterOS simulator's TLS). launcher.py starts either as a subprocess.
"""
