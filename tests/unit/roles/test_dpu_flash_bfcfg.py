"""roles/dpu_flash/templates/bf.cfg.j2 rendered by Ansible's template module, then checked with bash.

All cases render in ONE ansible-playbook run (a loop over cases, errors ignored per item) into a temporary
directory. Each rendered file must pass ``bash -n`` (the installer's own check, bfb-build install.env/common),
sourcing it must yield exactly the values given (quoting of hostile values such as crypt hashes full of ``$``),
sourcing must run nothing, and bfb_modify_os must pin the host name under /mnt (run in a private mount
namespace with a tmpfs on /mnt, as the installer mounts the target there).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import REPO, run_play_json

TEMPLATE = REPO / "roles" / "dpu_flash" / "templates" / "bf.cfg.j2"
HOSTILE_HASH = "$6$rounds=5000$s4lt'\"`id`$(touch${IFS}PWNED);&|<>$AbC/.xyz\\n"
SOURCED = ("UPDATE_DPU_OS", "UPDATE_ATF_UEFI", "WITH_NIC_FW_UPDATE", "ERASE_EMMC", "NET_RSHIM_MAC", "ubuntu_PASSWORD", "grub_admin_PASSWORD", "BOOT0", "WEIRD")

CASES: dict[str, dict[str, Any]] = {
    "empty": {},
    "full": {
        "dpu_flash_hostname": "dpu-r640-0.lab.example",
        "dpu_flash_ubuntu_password_hash": "$6$rounds=5000$s4ltS4lt$AbCdEf/.0123456789abcdefABCDEF",
        "dpu_flash_grub_admin_password_hash": "grub.pbkdf2.sha512.10000.ABCDEF0123.0123456789ABCDEF",
        "dpu_flash_net_rshim_mac": "00:1A:CA:FF:FF:10",
        "dpu_flash_update_dpu_os": True,
        "dpu_flash_update_atf_uefi": False,
        "dpu_flash_with_nic_fw_update": "no",
        "dpu_flash_erase_emmc": "yes",
        "dpu_flash_bfcfg_extra": {"BOOT0": "DISK", "WEIRD": 'it\'s $(touch PWNED) `touch PWNED` "q" \\ end'},
        "dpu_flash_bfb_pre_install": "echo pre > /tmp/bfcfg-pre\n",
        "dpu_flash_bfb_modify_os": "mkdir -p /mnt/etc/diskless\necho modified > /mnt/etc/diskless/marker",
        "dpu_flash_bfb_post_install": "sync",
    },
    "hostile_hash": {"dpu_flash_ubuntu_password_hash": HOSTILE_HASH, "dpu_flash_hostname": "dpu0"},
    "knobs_only": {"dpu_flash_update_dpu_os": False, "dpu_flash_erase_emmc": False},
    "bad_hostname": {"dpu_flash_hostname": "dpu0; touch PWNED"},
    "clear_text_password": {"dpu_flash_ubuntu_password_hash": "hunter2-secret"},
    "bad_mac": {"dpu_flash_net_rshim_mac": "00:1a:ca:ff:ff"},
    "bad_extra_key": {"dpu_flash_bfcfg_extra": {"1BAD": "x"}},
    # Hostile values (issue "Security"): quotes, '#', ';', spaces and unicode survive the quoting exactly...
    "hostile_extra": {"dpu_flash_bfcfg_extra": {"BOOT0": 'x"y', "WEIRD": "x'y #z;w v nœud"}},
    "long_extra": {"dpu_flash_bfcfg_extra": {"BOOT0": "x" * 4000}},
    # ...what cannot be one shell assignment is refused: a trailing newline in a key ran the key as a command.
    "extra_key_newline": {"dpu_flash_bfcfg_extra": {"reboot\n": "x"}},
    "extra_value_newline": {"dpu_flash_bfcfg_extra": {"BOOT0": "x\ny"}},
    "extra_value_cr": {"dpu_flash_bfcfg_extra": {"BOOT0": "x\rY"}},
    "extra_value_nul": {"dpu_flash_bfcfg_extra": {"BOOT0": "x\x00y"}},
    "extra_value_too_long": {"dpu_flash_bfcfg_extra": {"BOOT0": "x" * 5000}},
    "hash_trailing_newline": {"dpu_flash_ubuntu_password_hash": "$6$rounds=5000$s4ltS4lt$AbCdEf\n"},
    "grub_hash_trailing_newline": {"dpu_flash_grub_admin_password_hash": "grub.pbkdf2.sha512.10000.ABCDEF0123.0123456789ABCDEF\n"},
    "hostname_newline": {"dpu_flash_hostname": "dpu0\n"},
    "mac_newline": {"dpu_flash_net_rshim_mac": "00:1a:ca:ff:ff:10\n"},
}
VARIABLES = sorted({name for case in CASES.values() for name in case})
FAILING = {
    "bad_hostname": "dpu_flash_hostname",
    "clear_text_password": "dpu_flash_ubuntu_password_hash",
    "bad_mac": "dpu_flash_net_rshim_mac",
    "bad_extra_key": "dpu_flash_bfcfg_extra",
    "extra_key_newline": "dpu_flash_bfcfg_extra",
    "extra_value_newline": "dpu_flash_bfcfg_extra.BOOT0",
    "extra_value_cr": "dpu_flash_bfcfg_extra.BOOT0",
    "extra_value_nul": "dpu_flash_bfcfg_extra.BOOT0",
    "extra_value_too_long": "dpu_flash_bfcfg_extra.BOOT0",
    "hash_trailing_newline": "dpu_flash_ubuntu_password_hash",
    "grub_hash_trailing_newline": "dpu_flash_grub_admin_password_hash",
    "hostname_newline": "dpu_flash_hostname",
    "mac_newline": "dpu_flash_net_rshim_mac",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Render every case through ansible-playbook; returns the per-item results keyed by case name."""
    out = tmp_path_factory.mktemp("bfcfg")
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [
                {
                    "name": "render bf.cfg",
                    "ansible.builtin.template": {"src": str(TEMPLATE), "dest": f"{out}/{{{{ item.key }}}}.cfg", "mode": "0600"},
                    "vars": {name: f"{{{{ item.value.{name} | default(none) }}}}" for name in VARIABLES},
                    "loop": "{{ cases | dict2items }}",
                    "ignore_errors": True,
                }
            ],
        }
    ]
    proc = run_play_json(play, out, {"cases": CASES})
    report = json.loads(proc.stdout)
    results = report["plays"][0]["tasks"][0]["hosts"]["localhost"]["results"]
    by_case = {result["item"]["key"]: dict(result, path=out / f"{result['item']['key']}.cfg") for result in results}
    assert set(by_case) == set(CASES)
    return by_case


def source(path: Path, names: tuple[str, ...] = SOURCED) -> dict[str, str | None]:
    """Source the file in a clean bash and read the variables back (None when unset)."""
    script = '. "$1" || exit 97; shift; for n in "$@"; do if [ "${!n+x}" ]; then printf "%s=%s\\0" "$n" "${!n}"; fi; done'
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script, "bash", str(path), *names],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=path.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    values: dict[str, str | None] = dict.fromkeys(names)
    for item in proc.stdout.decode().split("\0"):
        if "=" in item:
            key, value = item.split("=", 1)
            values[key] = value
    return values


@pytest.mark.parametrize("case", [name for name in CASES if name not in FAILING])
def test_rendered_file_passes_bash_n(rendered: dict[str, dict[str, Any]], case: str) -> None:
    result = rendered[case]
    assert not result.get("failed"), result.get("msg")
    syntax = subprocess.run(["bash", "-n", str(result["path"])], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr


def test_values_survive_quoting_exactly(rendered: dict[str, dict[str, Any]]) -> None:
    full = CASES["full"]
    values = source(rendered["full"]["path"])
    assert values == {
        "UPDATE_DPU_OS": "yes",
        "UPDATE_ATF_UEFI": "no",
        "WITH_NIC_FW_UPDATE": "no",
        "ERASE_EMMC": "yes",
        "NET_RSHIM_MAC": "00:1a:ca:ff:ff:10",
        "ubuntu_PASSWORD": full["dpu_flash_ubuntu_password_hash"],
        "grub_admin_PASSWORD": full["dpu_flash_grub_admin_password_hash"],
        "BOOT0": "DISK",
        "WEIRD": full["dpu_flash_bfcfg_extra"]["WEIRD"],
    }
    assert not (rendered["full"]["path"].parent / "PWNED").exists()


def test_hostile_hash_is_one_literal_value(rendered: dict[str, dict[str, Any]]) -> None:
    path = rendered["hostile_hash"]["path"]
    assert source(path, ("ubuntu_PASSWORD",)) == {"ubuntu_PASSWORD": HOSTILE_HASH}
    assert not (path.parent / "PWNED").exists()


def test_unset_knobs_keep_installer_defaults(rendered: dict[str, dict[str, Any]]) -> None:
    assert set(source(rendered["empty"]["path"]).values()) == {None}
    values = source(rendered["knobs_only"]["path"])
    assert values["UPDATE_DPU_OS"] == "no"
    assert values["ERASE_EMMC"] == "no"
    assert values["UPDATE_ATF_UEFI"] is None
    assert values["ubuntu_PASSWORD"] is None


def test_hooks_are_defined_only_when_asked_for(rendered: dict[str, dict[str, Any]]) -> None:
    def functions(path: Path) -> set[str]:
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", '. "$1"; compgen -A function || true', "bash", str(path)], capture_output=True, text=True, check=True
        )
        return set(proc.stdout.split())

    assert functions(rendered["full"]["path"]) == {"bfb_pre_install", "bfb_modify_os", "bfb_post_install"}
    assert functions(rendered["hostile_hash"]["path"]) == {"bfb_modify_os"}
    assert functions(rendered["empty"]["path"]) == set()


@pytest.mark.parametrize("case", sorted(FAILING))
def test_bad_values_stop_rendering_naming_the_variable(rendered: dict[str, dict[str, Any]], case: str) -> None:
    result = rendered[case]
    assert result.get("failed")
    assert FAILING[case] in result["msg"]
    assert not result["path"].exists()


def test_password_is_not_echoed_when_refused(rendered: dict[str, dict[str, Any]]) -> None:
    result = rendered["clear_text_password"]
    assert "hunter2-secret" not in result["msg"]
    assert "hunter2-secret" not in str(result.get("exception", ""))


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux unshare is needed to mount a private /mnt")
def test_modify_os_pins_the_hostname_under_mnt(rendered: dict[str, dict[str, Any]]) -> None:
    script = r"""
set -e
mount -t tmpfs bfcfg-test /mnt
mkdir -p /mnt/etc/cloud/cloud.cfg.d
printf '127.0.0.1\tlocalhost\n127.0.1.1\tubuntu\n' > /mnt/etc/hosts
. "$1"
bfb_modify_os
printf '== hostname\n'; cat /mnt/etc/hostname
printf '== hosts\n'; cat /mnt/etc/hosts
printf '== cloud\n'; cat /mnt/etc/cloud/cloud.cfg.d/99-dpu-flash-hostname.cfg
printf '== marker\n'; cat /mnt/etc/diskless/marker
"""
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", script, "bash", str(rendered["full"]["path"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "== hostname\ndpu-r640-0.lab.example\n"
        "== hosts\n127.0.0.1\tlocalhost\n127.0.1.1\tdpu-r640-0.lab.example\n"
        "== cloud\npreserve_hostname: true\n"
        "== marker\nmodified\n"
    )


@pytest.mark.parametrize("case", ["hostile_extra", "long_extra"])
def test_hostile_extra_values_survive_quoting_exactly(rendered: dict[str, dict[str, Any]], case: str) -> None:
    """Each value is one shell word: sourcing gives it back unchanged, and the file has one line per assignment."""
    extra = CASES[case]["dpu_flash_bfcfg_extra"]
    values = source(rendered[case]["path"])
    assert {key: values[key] for key in extra} == extra
    lines = [line for line in rendered[case]["path"].read_text().split("\n") if line and not line.startswith("#")]
    assert [line.split("=", 1)[0] for line in lines] == list(extra)
