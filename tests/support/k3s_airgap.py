"""Fake K3s airgap release files for the role tests (roles/k3s_server and the layer playbooks)."""

from __future__ import annotations

import hashlib
from pathlib import Path

FAKE_K3S = '#!/bin/sh\n# stands in for the k3s binary in tests\necho fake k3s "$@"\n'


def write_airgap(directory: Path, *, wrong_sum: bool = False) -> None:
    """The release's files for arm64: binary, images tarball and sha256sum-arm64.txt."""
    directory.mkdir(parents=True)
    (directory / "k3s-arm64").write_text(FAKE_K3S)
    (directory / "k3s-arm64").chmod(0o755)
    (directory / "k3s-airgap-images-arm64.tar.zst").write_bytes(b"\x28\xb5\x2f\xfd fake images tarball")
    sums = {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in ("k3s-arm64", "k3s-airgap-images-arm64.tar.zst")}
    if wrong_sum:
        sums["k3s-arm64"] = "0" * 64
    (directory / "sha256sum-arm64.txt").write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()) + "abc  k3s-not-a-sum\n")
