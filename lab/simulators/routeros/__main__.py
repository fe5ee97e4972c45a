"""Command line: ``python3 -m lab.simulators.routeros --port PORT --username U --password P [...]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .paths import DEFAULT_DISKS, DEFAULT_PORTS, build_state
from .server import ApiServer, CommandLog, Faults
from .session import Credentials


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m lab.simulators.routeros", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="TCP port; 0 picks a free one (default 8728, 8729 with --tls)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="")
    parser.add_argument("--tls", action="store_true", help="serve api-ssl (TLS)")
    parser.add_argument("--certfile", type=Path, help="PEM certificate (default: a self-signed one made at start-up)")
    parser.add_argument("--keyfile", type=Path, help="PEM private key for --certfile")
    parser.add_argument("--cert-out", type=Path, help="write the self-signed certificate here (for clients to trust)")
    parser.add_argument("--version", default="7.16", help="RouterOS version to report (7.18+ sends !empty)")
    parser.add_argument("--board", default="RDS2216", help="board-name reported by /system/resource")
    parser.add_argument("--ports", default=",".join(DEFAULT_PORTS), help="comma-separated ethernet port names")
    parser.add_argument("--disks", default=",".join(DEFAULT_DISKS), help="comma-separated slots of physical drives (empty for none)")
    parser.add_argument("--drop-after", type=int, default=None, metavar="N", help="fault: close each connection when its Nth sentence arrives")
    parser.add_argument("--state", type=Path, default=None, metavar="FILE", help="JSON file to load the configuration from and save it to")
    parser.add_argument("--log-commands", type=Path, default=None, metavar="FILE", help="append '<connection>TAB<command word>' per received sentence to FILE")
    args = parser.parse_args(argv)
    if args.keyfile is not None and args.certfile is None:
        parser.error("--keyfile needs --certfile")
    if args.drop_after is not None and args.drop_after < 1:
        parser.error("--drop-after must be at least 1")
    if args.port is None:
        args.port = 8729 if args.tls else 8728
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ports = tuple(name.strip() for name in args.ports.split(",") if name.strip())
    disks = tuple(name.strip() for name in args.disks.split(",") if name.strip())
    state = build_state(version=args.version, board=args.board, ports=ports, disks=disks, state_file=args.state)
    tls = None
    if args.tls:
        from .tls import server_context  # needs the cryptography package only when TLS is asked for

        tls = server_context(args.certfile, args.keyfile, ["localhost", "127.0.0.1", "::1", args.host], args.cert_out)
    command_log = CommandLog(args.log_commands) if args.log_commands is not None else None
    server = ApiServer((args.host, args.port), state, Credentials(args.username, args.password), tls, Faults(args.drop_after), command_log=command_log)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="routeros-simulator", daemon=True)
    serving.start()
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on {shown}:{port}", flush=True)
    stop.wait()
    server.shutdown()
    server.close_connections()
    server.server_close()
    serving.join(timeout=5)
    if command_log is not None:
        command_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
