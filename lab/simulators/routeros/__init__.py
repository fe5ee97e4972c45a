"""A protocol-faithful RouterOS 7 API simulator (the lab's RDS, and the test peer of the collection's RouterOS modules).

Run ``python3 -m lab.simulators.routeros --port 0 --username admin --password secret``; it prints
``listening on HOST:PORT`` when ready. Behaviour follows MikroTik's manual and replies seen on real
routers; see paths.py for the menus and their data model.
"""
