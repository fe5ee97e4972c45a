"""The lab's command line, run from the repository root: ``python -m lab up|down|status|console HOST``.

up                     lab/up.yml (boot network, boot-server container), site.yml against inventories/lab exactly
                       as against real hardware, then proof: a DHCP client takes lab-node1's lease, and lab-node1
                       powers on and boots over the network to its login prompt
down [--state DIR]     stop everything the lab started (with --state: only what is recorded in DIR)
status                 what is running (containers, podman networks, guests, taps, network namespaces); changes nothing
console HOST           attach to a guest's serial console (Ctrl-] leaves); its log's tail when it cannot be attached
boot --network NET --name HOST --mac MAC [--state DIR] [--boot-server CONTAINER]   one guest on an existing podman network
qemu-up [--clients N]  a self-contained lab (own network, boot server and playbook run), N guests at login
"""

from __future__ import annotations

import argparse
import atexit
import subprocess
import sys
from pathlib import Path

from lab import netclient
from lab.ansible import VENV_BIN, project_env
from lab.console import attach
from lab.guests import ROOT_PASSWORD, BootServer, Guest, console_socket
from lab.host import REPO, STATE_ROOT, inventory_vars, netboot_hosts_root, podman, podman_env
from lab.network import bridge_of, link_exists, network_namespaces, podman_networks
from lab.services import Lab, LabSpec
from lab.state import State, down, is_our_qemu

# The lab of inventories/lab (lab/up.yml, lab/down.yml)
LAB_STATE = STATE_ROOT / "dc-lab"
LAB_NETWORK = "dc-lab-boot"
LAB_NODE, LAB_NODE_MAC, LAB_NODE_IP, LAB_BOOT_SERVER_IP = "lab-node1", "52:54:00:99:65:11", "10.99.65.11", "10.99.65.2"
LAB_BOOT_SERVER = "dc-lab-boot"  # lab/up.yml's container, inventories/lab's boot server
SELF_CONTAINED = "dc-lab-qemu"
PROG = "python -m lab"


def _playbook(*args: str) -> None:
    """ansible-playbook ARGS from the repository root, its output on this terminal; fails the command if it fails."""
    env = project_env(CONTAINERS_CONF=podman_env()["CONTAINERS_CONF"])
    result = subprocess.run([str(VENV_BIN / "ansible-playbook"), *args], cwd=REPO, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def lab_boot_server() -> BootServer:
    """inventories/lab's boot server: its container and the netboot_hosts_root the inventory gives it (or the role's default)."""
    return BootServer(LAB_BOOT_SERVER, netboot_hosts_root(inventory_vars(REPO / "inventories" / "lab", LAB_BOOT_SERVER, "boot_servers")))


def _boot_guest(
    network: str, name: str, mac: str, state_dir: Path, *, tap: str | None = None, hostname: str | None = None, boot_server: BootServer | None = None
) -> None:
    state = State.load(state_dir)
    guest = Guest(
        name=name, mac=mac.lower(), bridge=bridge_of(network), tap=tap or f"{name[:12]}-t", directory=state_dir,
        boot_server=boot_server, hostname=hostname or name,
    )  # fmt: skip
    guest.power_on(state)
    seconds = guest.wait_for_login(hostname or name)
    assert guest.console is not None
    guest.console.close()
    print(f"{name}: power-on to login prompt in {seconds:.0f} s")


def _cmd_up(args: argparse.Namespace) -> int:
    _playbook("lab/up.yml")
    _playbook("-i", "inventories/lab", "site.yml")
    print(f"\nlab: a diskless host's first step -- {LAB_NODE} ({LAB_NODE_MAC}) asks for its lease:", flush=True)
    status = netclient.main(["--podman-network", LAB_NETWORK, "--mac", LAB_NODE_MAC, "--expect-ip", LAB_NODE_IP, "--ping", LAB_BOOT_SERVER_IP])
    if status != 0:
        return status
    print(f"\nlab: {LAB_NODE} powers on, boots over the network (iPXE, HTTP, NFS root) and reaches its login prompt:", flush=True)
    _boot_guest(LAB_NETWORK, LAB_NODE, LAB_NODE_MAC, LAB_STATE, boot_server=lab_boot_server())
    print(f"\nlab: up. Console of {LAB_NODE} (root / diskless-lab): {PROG} console {LAB_NODE}")
    print(f"lab: boot server: podman exec -it dc-lab-boot bash   What runs: {PROG} status   Stop everything: make lab-down")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    if args.state:
        down(Path(args.state))
        print(f"down: removed everything recorded in {args.state}")
        return 0
    down(LAB_STATE)
    _playbook("lab/down.yml")
    print("lab: down")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    containers = podman("ps", "--all", "--format", "{{.Names}}\t{{.Status}}\t{{.Image}}", check=False).stdout.splitlines()
    print("containers:" if containers else "containers: none")
    for line in containers:
        print(f"  {line}")
    networks = [name for name in podman_networks() if name != "podman"]
    print(f"podman networks: {', '.join(networks) or 'none'}")
    for path in sorted(STATE_ROOT.glob("*/resources.json")):
        state = State.load(path.parent)
        print(f"state {path.parent}: network {state.network or '-'}, container {state.container or '-'}")
        for name, pid in state.guests.items():
            running = is_our_qemu(pid, str(path.parent / name))
            console = console_socket(path.parent, name)
            print(f"  guest {name}: QEMU pid {pid} {'running' if running else 'not running'}; console {console if console.exists() else '-'}")
        for tap in state.taps:
            print(f"  tap {tap}: {'present' if link_exists(tap) else 'absent'}")
    print(f"network namespaces: {', '.join(network_namespaces()) or 'none'}")
    return 0


def _cmd_console(args: argparse.Namespace) -> int:
    state_dir = Path(args.state) if args.state else LAB_STATE
    path = console_socket(state_dir, args.name)
    if not args.log:
        try:
            return attach(path, args.name)
        except OSError as exc:  # no guest (socket gone) or QEMU busy with another client
            print(f"{args.name}: cannot attach to {path} ({exc.strerror or exc}); the console's log:", file=sys.stderr)
    log = path.parent / "console.log"
    if not log.exists():
        print(f"{args.name}: no console log at {log}", file=sys.stderr)
        return 1
    print("\n".join(log.read_text(errors="replace").splitlines()[-args.lines :]))
    return 0


def _cmd_boot(args: argparse.Namespace) -> int:
    state_dir = Path(args.state) if args.state else STATE_ROOT / args.network
    boot_server = BootServer(args.boot_server, args.hosts_root or netboot_hosts_root()) if args.boot_server else None
    _boot_guest(args.network, args.name, args.mac, state_dir, tap=args.tap, hostname=args.hostname, boot_server=boot_server)
    print(f"console: {PROG} console {args.name} --state {state_dir}")
    print(f"stop: {PROG} down --state {state_dir}")
    return 0


def _cmd_qemu_up(args: argparse.Namespace) -> int:
    spec = LabSpec(name=args.name)  # both hosts configured; the first --clients powered on
    lab = Lab(spec)
    lab.up()
    atexit.unregister(lab.down)  # the CLI leaves the lab running; `down` removes it
    print(f"lab: boot server {lab.state.container} at {spec.server_ip} on bridge {lab.bridge}; configuring...", flush=True)
    print(f"lab: playbook took {lab.configure():.0f} s", flush=True)
    for client in spec.clients[: args.clients]:
        guest = lab.power_on(client.name)
        print(f"lab: {client.name} ({client.mac}) at login after {guest.wait_for_login(client.name):.0f} s", flush=True)
        assert guest.console is not None
        guest.console.close()
    print(f"lab: up. Console: {PROG} console NAME --state {spec.state_dir}; root password {ROOT_PASSWORD}")
    print(f"lab: stop everything: {PROG} down --state {spec.state_dir}")
    return 0


def parser() -> argparse.ArgumentParser:
    summary, _blank, commands = __doc__.partition("\n\n")
    top = argparse.ArgumentParser(prog=PROG, description=summary, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=commands)
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="bring up the lab and configure it with site.yml (lab/up.yml, inventories/lab)").set_defaults(func=_cmd_up)
    stop = sub.add_parser("down", help="stop everything the lab started")
    stop.add_argument("--state", help="only what is recorded in this state directory (e.g. lab-state/dc-lab-qemu)")
    stop.set_defaults(func=_cmd_down)
    sub.add_parser("status", help="what is running; changes nothing").set_defaults(func=_cmd_status)
    console = sub.add_parser("console", help="attach to a guest's serial console (Ctrl-] leaves)")
    console.add_argument("name", metavar="HOST")
    console.add_argument("--state", help=f"the guest's state directory (default {LAB_STATE.relative_to(REPO)})")
    console.add_argument("--log", action="store_true", help="print the tail of the console's log instead of attaching")
    console.add_argument("--lines", type=int, default=50, help="lines of the log to print (default 50)")
    console.set_defaults(func=_cmd_console)
    boot = sub.add_parser("boot", help="one guest on an existing podman network, to its login prompt")
    boot.add_argument("--network", required=True)
    boot.add_argument("--name", required=True)
    boot.add_argument("--mac", required=True)
    boot.add_argument("--hostname", help="host name expected at the login prompt (default: --name)")
    boot.add_argument("--tap")
    boot.add_argument("--boot-server", metavar="CONTAINER", help="boot-server container to take the host's per-host key (etc-key) from; without it: no key")
    boot.add_argument("--hosts-root", help="its netboot_hosts_root (default: the netboot role's default)")
    boot.add_argument("--state")
    boot.set_defaults(func=_cmd_boot)
    qemu_up = sub.add_parser("qemu-up", help="self-contained lab: network, boot server, playbook, guests at login")
    qemu_up.add_argument("--name", default=SELF_CONTAINED)
    qemu_up.add_argument("--clients", type=int, default=1, choices=[1, 2])
    qemu_up.set_defaults(func=_cmd_qemu_up)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))
