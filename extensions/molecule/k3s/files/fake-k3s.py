"""Stands in for the k3s binary in the Molecule scenario (K3s cannot be downloaded here); prepare.yml adds the shebang.

`k3s server --config FILE` writes an admin kubeconfig next to FILE (k3s.yaml, pointing at
127.0.0.1 as K3s's does), tells systemd it is ready (sd_notify, the unit is Type=notify) and
stays up; `k3s kubectl --kubeconfig FILE get --raw=/readyz` answers "ok" once that kubeconfig
exists. Anything else prints its arguments.
"""

import os
import socket
import sys
import time

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ZmFrZSBDQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    client-certificate-data: ZmFrZSBjZXJ0aWZpY2F0ZQ==
    client-key-data: ZmFrZSBrZXk=
"""


def option(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def notify_ready():
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.send(b"READY=1")


def main(args):
    if args[:1] == ["server"]:
        config = option(args, "--config", "/etc/rancher/k3s/config.yaml")
        kubeconfig = os.path.join(os.path.dirname(config), "k3s.yaml")
        with open(kubeconfig, "w", encoding="utf-8") as handle:
            handle.write(KUBECONFIG)
        os.chmod(kubeconfig, 0o600)
        notify_ready()
        while True:
            time.sleep(3600)
    if args[:1] == ["kubectl"]:
        ready = "--raw=/readyz" in args and os.path.exists(option(args, "--kubeconfig", "/etc/rancher/k3s/k3s.yaml"))
        if ready:
            print("ok")
        return 0 if ready else 1
    print("fake k3s", *args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
