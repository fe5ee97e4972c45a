"""The simulator on real sockets: framing faults, logins per connection, tags, faults, TLS, state, signals."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path

import librouteros
import pytest
from librouteros.exceptions import ConnectionClosed

from lab.simulators.routeros.launcher import SimulatorProcess
from lab.simulators.routeros.paths import build_state
from tests.support.routeros_wire import PASSWORD, USERNAME, WireClient, attributes, kinds

ServerFactory = Callable[..., Callable[[], WireClient]]


# --------------------------------------------------------------------------- wire level, in-process server
def test_reserved_control_byte_gets_fatal_and_the_connection_closes(wire_server: ServerFactory) -> None:
    client = wire_server()()
    client.login()
    client.send_raw(b"\xf8")
    reply = client.read()
    assert reply[0] == "!fatal"
    assert len(reply) == 2
    assert client.is_closed()


def test_command_before_login_gets_fatal(wire_server: ServerFactory) -> None:
    client = wire_server()()
    assert client.call("/interface/print") == [["!fatal", "not logged in"]]
    assert client.is_closed()


def test_each_connection_logs_in_on_its_own(wire_server: ServerFactory) -> None:
    connect = wire_server()
    first, second = connect(), connect()
    first.login()
    assert kinds(first.call("/system/identity/print")) == ["!re", "!done"]
    assert second.call("/login", f"=name={USERNAME}", "=password=nope")[0] == ["!trap", "=message=invalid user name or password (6)"]
    assert second.call("/system/identity/print") == [["!fatal", "not logged in"]]
    assert kinds(first.call("/system/identity/print")) == ["!re", "!done"]


def test_tags_and_empty_reply_over_the_wire(wire_server: ServerFactory) -> None:
    client = wire_server(version="7.18")()
    client.login()
    assert client.call("/ip/pool/print", ".tag=abc") == [["!empty", ".tag=abc"], ["!done", ".tag=abc"]]


def test_a_listener_sees_changes_made_on_another_connection(wire_server: ServerFactory) -> None:
    connect = wire_server()
    watcher, writer = connect(), connect()
    watcher.login()
    writer.login()
    watcher.send("/interface/bridge/listen", ".tag=w")
    assert kinds(watcher.call("/system/identity/print", ".tag=sync")) == ["!re", "!done"]  # the listen is in place now
    assert writer.call("/interface/bridge/add", "=name=br0") == [["!done", "=ret=*B"]]
    update = watcher.read()
    assert update[:2] == ["!re", ".tag=w"]
    assert attributes(update)["name"] == "br0"
    assert watcher.call("/cancel", "=tag=w")[0][3] == "=message=interrupted"


def test_drop_after_closes_when_the_nth_sentence_arrives(wire_server: ServerFactory) -> None:
    client = wire_server(drop_after=3)()
    client.login()  # sentence 1
    assert kinds(client.call("/system/identity/print")) == ["!re", "!done"]  # sentence 2
    client.send("/interface/bridge/add", "=name=br0")  # sentence 3: not executed, no reply
    assert client.is_closed()


# --------------------------------------------------------------------------- the command line (subprocess)
def test_command_line_announces_its_port_and_stops_cleanly_on_sigterm() -> None:
    simulator = SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--board", "CHR", "--ports", "ether1,ether2").start()
    try:
        api = librouteros.connect("127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10)
        (resource,) = api.path("/system/resource")
        assert (resource["board-name"], resource["architecture-name"]) == ("CHR", "x86_64")
        assert [row["name"] for row in api.path("/interface")] == ["ether1", "ether2"]
        api.close()
    finally:
        assert simulator.stop() == 0


def test_log_commands_writes_connection_and_command_word_per_sentence_never_attributes(tmp_path: Path) -> None:
    """README: one line per sentence a client sends, ``<connection><TAB><command word>``, connections from 1, no attributes."""
    log = tmp_path / "commands.log"
    with SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--log-commands", str(log)) as simulator:
        first = WireClient(simulator.port)
        first.login()
        assert kinds(first.call("/ip/pool/add", "=name=p1", "=ranges=10.0.0.1")) == ["!done"]
        second = WireClient(simulator.port)
        second.login()
        assert kinds(second.call("/ip/pool/print", "?name=p1")) == ["!re", "!done"]
        assert second.call("/nonsense/print")[0][0] == "!trap"  # commands the router refuses are logged too
        first.close()
        second.close()
        lines = log.read_text(encoding="utf-8").splitlines()
    assert lines == ["1\t/login", "1\t/ip/pool/add", "2\t/login", "2\t/ip/pool/print", "2\t/nonsense/print"]
    assert PASSWORD not in log.read_text(encoding="utf-8")


def test_drop_after_through_librouteros() -> None:
    with SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--drop-after", "2") as simulator:
        api = librouteros.connect("127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10)
        with pytest.raises(ConnectionClosed):
            tuple(api.path("/system/identity"))
        api.close()


def test_tls_with_a_generated_certificate_that_clients_can_verify(tmp_path: Path) -> None:
    certificate = tmp_path / "ca.pem"
    args = ("--username", USERNAME, "--password", PASSWORD, "--tls", "--cert-out", str(certificate))
    with SimulatorProcess(*args) as simulator:
        context = ssl.create_default_context(cafile=str(certificate))
        api = librouteros.connect(
            "127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10, ssl_wrapper=lambda sock: context.wrap_socket(sock, server_hostname="127.0.0.1")
        )
        assert [row["name"] for row in api.path("/system/identity")] == ["MikroTik"]
        api.close()


def test_state_file_keeps_the_configuration_across_restarts(tmp_path: Path) -> None:
    state_file = tmp_path / "rds.json"
    args = ("--username", USERNAME, "--password", PASSWORD, "--state", str(state_file))
    with SimulatorProcess(*args) as simulator:
        api = librouteros.connect("127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10)
        api.path("/interface/bridge").add(name="br0")
        api.path("/ip/pool").add(name="boot", ranges="10.0.0.10-10.0.0.99")
        api.close()
    assert json.loads(state_file.read_text())["format"] == 1
    with SimulatorProcess(*args) as simulator:
        api = librouteros.connect("127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10)
        assert [row["name"] for row in api.path("/interface/bridge")] == ["br0"]
        assert api.path("/ip/pool").add(name="second", ranges="10.0.1.10-10.0.1.99") == "*2"  # counters survive too
        api.close()


def test_state_file_round_trip_in_process(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    first = build_state(version="7.16", board="RDS2216", state_file=state_file)
    first.add("/interface/bridge", {"name": "br0"})
    second = build_state(version="7.16", board="RDS2216", state_file=state_file)
    assert [row["name"] for _unused, row in second.items("/interface/bridge")] == ["br0"]
    assert [row["vlan-ids"] for _unused, row in second.items("/interface/bridge/vlan")] == ["1"]


# --------------------------------------------------------------------------- librouteros, the client our modules use
def test_librouteros_quirks_are_respected() -> None:
    """librouteros sends no tags, needs =k=v reply words, builds TrapError(message, category) from trap words,
    ignores !empty, maps true/false/yes/no to bool and decimal strings to int, and raises MultiTrapError for two traps."""
    with SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--version", "7.18") as simulator:
        api = librouteros.connect("127.0.0.1", USERNAME, PASSWORD, port=simulator.port, timeout=10)
        try:
            assert tuple(api.path("/ip/pool")) == ()  # !empty is ignored
            bridge_id = api.path("/interface/bridge").add(name="br0", **{"vlan-filtering": True})
            assert bridge_id == "*B"
            (bridge,) = api.path("/interface/bridge")
            assert bridge["vlan-filtering"] is True
            assert bridge["pvid"] == 1
            api.path("/interface/bridge/port").add(bridge="br0", interface="ether1", pvid=10)
            api.path("/interface/bridge/port").update(**{".id": "ether1", "pvid": 20})
            key = librouteros.query.Key
            selected = api.path("/interface/bridge/vlan").select(key("vlan-ids"), key("dynamic")).where(key("dynamic") == True)  # noqa: E712  # pylint: disable=singleton-comparison
            assert sorted(row["vlan-ids"] for row in selected) == [1, 20]
            with pytest.raises(librouteros.exceptions.TrapError) as trap:
                api.path("/ip/address").add(address="10.0.0.1/24", interface="missing")
            assert (trap.value.message, trap.value.category) == ("input does not match any value of interface", None)
            with pytest.raises(librouteros.exceptions.MultiTrapError) as traps:
                tuple(api("/system/routerboard/getall"))
            assert str(traps.value) == "no such command or directory (routerboard), no such command prefix"
            api.path("/interface/bridge").remove(bridge_id)
            assert tuple(api.path("/interface/bridge/port")) == ()
        finally:
            api.close()
