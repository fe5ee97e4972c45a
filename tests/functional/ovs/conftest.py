"""Real Open vSwitch for the functional tests: a private ovsdb-server and ovs-vswitchd.

Fixtures
- ``ovs``: session-wide ``OvsInstance``. Its own database (``ovsdb-tool create`` from the packaged schema), own
  unix socket, OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR in a private temporary directory. ovs-vswitchd runs inside a network
  namespace made for it, so the bridges' tap devices and the ports the tests add never appear in the machine's own
  namespace. Only the userspace datapath works here: bridges use ``datapath_type: netdev``. Both daemons are stopped
  (by the pid in their pidfiles) and the namespace deleted at the end of the session, also after failures.
- ``names``: unique bridge and port names for one test; the bridge is deleted after the test.

Verification helpers call ovs-vsctl directly, never the collection's code.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator

import pytest

from tests.support.ovs import OVS_PROGRAMS, OVS_SCHEMA, OvsInstance, UniqueNames, start_open_vswitch


@pytest.fixture(scope="session")
def ovs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvsInstance]:
    missing = [program for program in OVS_PROGRAMS if shutil.which(program) is None]
    if missing or not OVS_SCHEMA.exists():
        pytest.skip(f"Open vSwitch (Debian openvswitch-switch) is not installed: missing {', '.join(missing) or OVS_SCHEMA}")
    if os.geteuid() != 0:
        pytest.skip("needs root to create the network namespace for ovs-vswitchd")
    workdir = tmp_path_factory.mktemp("ovs")
    with contextlib.ExitStack() as stack:
        yield start_open_vswitch(stack, workdir)


@pytest.fixture
def names(ovs: OvsInstance) -> Iterator[UniqueNames]:
    suffix = secrets.token_hex(3)
    test_names = UniqueNames(bridge=f"tb{suffix}", uplink=f"tu{suffix}", host=f"th{suffix}", extra=f"tx{suffix}")
    yield test_names
    ovs.vsctl("--if-exists", "del-br", test_names.bridge)
