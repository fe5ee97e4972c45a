#!/usr/bin/python
# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sealed_etc
short_description: Seal a diskless host's own /etc so that only that host can open it
version_added: 0.2.0
description:
  - Archives the host's /etc tree O(src) (a deterministic tar - sorted names, numeric owners, modes and mtimes
    kept) and seals it in OpenSSL CMS AuthEnvelopedData - AES-256-GCM under a fresh content key, wrapped (AES key
    wrap, a CMS KEK recipient with key identifier C(diskless-etc)) with the host's own key - into O(dest).
  - The bundle can be served to anyone (the netboot role publishes it over HTTP); only the holder of the key opens
    it, and a changed byte makes opening fail. The host's initramfs opens it with
    C(openssl cms -decrypt -binary -inform DER -secretkey KEY -secretkeyid 6469736b6c6573732d657463).
  - The key is 32 random bytes written as 64 hex characters to O(key_path) (mode C(0600)) the first time; it never
    appears in the module's arguments or results. Deliver it to the host out of band (the lab gives it to QEMU
    as a C(fw_cfg) file).
  - Seals again only when the tree or the key changed, or O(dest) is not the bundle that was written last (a record
    at O(record_path) says what was sealed). An unchanged run reports no change.
author:
  - Diskless Datacenter maintainers (@diskless-datacenter)
options:
  src:
    description: The host's plaintext /etc tree on this machine (files, directories and symbolic links only).
    type: path
    required: true
  dest:
    description: Where the sealed bundle is written (mode C(0644); its directory is created when missing).
    type: path
    required: true
  key_path:
    description: The host's key (64 lower-case hex characters); created when missing. Keep its directory root-only.
    type: path
    required: true
  record_path:
    description:
      - What was sealed last (digests and the member listing, never contents; mode C(0600)).
      - When omitted, O(key_path) with C(.sealed) appended.
    type: path
  openssl:
    description: The C(openssl) program (OpenSSL 3.0 or later). Looked up in E(PATH) when omitted.
    type: path
requirements:
  - openssl 3.0 or later on the target (C(cms -encrypt) with C(-aes-256-gcm) and C(-secretkey))
extends_documentation_fragment:
  - diskless.datacenter.attributes
attributes:
  check_mode:
    support: full
    details: Reads the tree, the key and the record and says whether it would seal; writes nothing, makes no key.
  diff_mode:
    support: full
    details: One line per member (mode, owner, path) before and after, content changes marked; contents are never shown.
  idempotent:
    support: full
notes:
  - The bundle's ciphertext differs on every sealing (fresh content key and nonce), so its checksum changes only
    when the module reports a change.
seealso:
  - name: RFC 5083, CMS AuthEnvelopedData
    description: The envelope the bundle is in.
    link: https://www.rfc-editor.org/rfc/rfc5083
"""

EXAMPLES = r"""
- name: Seal node1's /etc for node1
  diskless.datacenter.sealed_etc:
    src: /srv/diskless/hosts/node1/etc
    dest: /srv/diskless/boot/etc/node1.cms
    key_path: /srv/diskless/hosts/node1/etc-key
"""

RETURN = r"""
key_created:
  description: Whether this run made the host's key (it did not exist).
  returned: always
  type: bool
files:
  description: How many members (files, directories, links) the bundle holds.
  returned: always
  type: int
  sample: 412
bundle_sha256:
  description: SHA-256 of the bundle written by this run, or of the one in place when nothing changed (null in check mode before the first sealing).
  returned: always
  type: str
"""

import hashlib
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.diskless.datacenter.plugins.module_utils._sealed_etc import Files, SealError, apply, changed_lines, plan

ARGUMENT_SPEC: dict[str, Any] = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "key_path": {"type": "path", "required": True, "no_log": False},
    "record_path": {"type": "path"},
    "openssl": {"type": "path"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    files = Files(
        tree=Path(params["src"]),
        bundle=Path(params["dest"]),
        key=Path(params["key_path"]),
        record=Path(params["record_path"] or f"{params['key_path']}.sealed"),
    )
    openssl = params["openssl"] or module.get_bin_path("openssl", required=True)
    try:
        outcome, key = plan(files)
        digest = hashlib.sha256(files.bundle.read_bytes()).hexdigest() if files.bundle.is_file() else None
        if outcome.changed and not module.check_mode:
            digest = apply(outcome, key, files, openssl)
    except (SealError, OSError) as exc:
        module.fail_json(msg=f"sealing {files.tree} for {files.bundle}: {exc}")
    result: dict[str, Any] = {"changed": outcome.changed, "key_created": outcome.key_created, "files": len(outcome.after), "bundle_sha256": digest}
    if module._diff:
        before, after = changed_lines(outcome)
        result["diff"] = {"before": before, "after": after, "before_header": str(files.bundle), "after_header": str(files.bundle)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
