"""BlueField boot stream (BFB) format, as mlx-mkbfb writes it and the Arm boot loader reads it.

Facts from rshim-user-space ``scripts/mlx-mkbfb`` (class ImageHdr): a BFB is a chain of images, each preceded by a
24-byte little-endian header of three 64-bit words:

- word 0: magic 0x13026642 ("Bf" 0x02 0x13 on disk) in bits 0-31, major version (1) in 32-35, minor version (<= 2)
  in 36-39, next image version in 44-47, current image version in 48-51, header length / 8 (3) in 52-55 and the
  image ID in 56-63;
- word 1: image length in bytes (bits 0-31) and the CRC32 of image plus padding (bits 32-63);
- word 2: bitmap of the IDs of the images that follow (0 on the last image).

Image data is padded with zeros to a multiple of 8 bytes. Whatever follows the last image stays in the boot FIFO,
which is where the installer reads bf.cfg from (bfb-build ``install.env/common``: ``bootfifo``, ``tr -d '\\0'``).

``make_bfb`` builds small but well-formed streams for tests; ``BootStreamParser`` is the simulator's incremental
reader of what a client writes into ``boot``.
"""

from __future__ import annotations

import binascii
import json
import struct
from dataclasses import dataclass, field

MAGIC = 0x13026642
MAJOR = 1
MAX_MINOR = 2
HEADER = struct.Struct("<QQQ")
HEADER_WORDS = HEADER.size // 8

# Image IDs from mlx-mkbfb's image_list (those a typical install BFB carries).
IMAGE_IDS = {
    "bl2": 1,
    "bl31": 3,
    "bl33": 5,
    "bl2-cert": 6,
    "info": 50,
    "boot-args": 59,
    "boot-desc": 57,
    "boot-path": 58,
    "image": 62,
    "initramfs": 63,
}


def padding(length: int) -> int:
    return -length % 8


def image_crc(data: bytes) -> int:
    return binascii.crc32(data + b"\0" * padding(len(data))) & 0xFFFFFFFF


def pack_header(image_id: int, data: bytes, following: int, *, magic: int = MAGIC, major: int = MAJOR, minor: int = MAX_MINOR) -> bytes:
    word0 = (magic & 0xFFFFFFFF) | (major & 0xF) << 32 | (minor & 0xF) << 36 | (HEADER_WORDS & 0xF) << 52 | (image_id & 0xFF) << 56
    word1 = (len(data) & 0xFFFFFFFF) | image_crc(data) << 32
    return HEADER.pack(word0, word1, following)


def info_json(doca_version: str) -> bytes:
    """The "info" image (ID 50): a Redfish SoftwareInventory collection, as bfb-build's create_bfb writes it."""
    document = {
        "@odata.type": "#SoftwareInventoryCollection.SoftwareInventoryCollection",
        "@odata.id": "/redfish/v1/UpdateService/SoftwareInventory",
        "Name": "BFB File Content",
        "Members": [
            {"@odata.id": "/redfish/v1/UpdateService/SoftwareInventory/1", "Id": "1", "Name": "BF3_BSP", "Version": "4.9.1.13227", "SoftwareId": "capsule"},
            {"@odata.id": "/redfish/v1/UpdateService/SoftwareInventory/2", "Id": "2", "Name": "DOCA", "Version": doca_version, "SoftwareId": "doca-runtime"},
        ],
        "Members@odata.count": 2,
    }
    return json.dumps(document, indent=1).encode()


def make_bfb(doca_version: str | None = "2.9.1", kernel_size: int = 64 * 1024, *, magic: int = MAGIC, corrupt_crc: bool = False) -> bytes:
    """A small but valid install BFB: boot loaders, boot args, info, kernel image and initramfs."""
    images: list[tuple[int, bytes]] = [
        (IMAGE_IDS["bl2"], b"BL2 " * 64),
        (IMAGE_IDS["bl31"], b"BL31" * 64),
        (IMAGE_IDS["bl33"], b"UEFI" * 128),
        (IMAGE_IDS["boot-args"], b"console=hvc0 console=ttyAMA0 earlycon=pl011,0x13010000 initrd=initramfs"),
    ]
    if doca_version is not None:
        images.append((IMAGE_IDS["info"], info_json(doca_version)))
    images.append((IMAGE_IDS["image"], bytes(range(256)) * (kernel_size // 256)))
    images.append((IMAGE_IDS["initramfs"], b"\x1f\x8b" + b"\0" * 1021))
    out = bytearray()
    for index, (image_id, data) in enumerate(images):
        following = 0
        for later_id, _image in images[index + 1 :]:
            following |= 1 << later_id
        header = pack_header(image_id, data, following, magic=magic)
        if corrupt_crc and index == 0:
            word0, word1, word2 = HEADER.unpack(header)
            header = HEADER.pack(word0, word1 ^ (1 << 32), word2)
        out += header + data + b"\0" * padding(len(data))
    return bytes(out)


@dataclass
class ImageRecord:
    image_id: int
    length: int
    crc_ok: bool


@dataclass
class BootStreamParser:
    """Consumes a boot stream incrementally and says whether the boot loader would keep reading it."""

    images: list[ImageRecord] = field(default_factory=list)
    info: bytes = b""
    trailer: bytearray = field(default_factory=bytearray)
    error: str | None = None
    error_offset: int = 0  # stream offset right after the bytes that revealed the error
    received: int = 0
    _consumed: int = 0
    _pending: bytearray = field(default_factory=bytearray)
    _image_id: int = 0
    _remaining: int = 0
    _expected_crc: int = 0
    _crc: int = 0
    _length: int = 0
    _following: int = -1
    _data: bytearray = field(default_factory=bytearray)

    @property
    def started(self) -> bool:
        return bool(self.images) or self._remaining > 0

    @property
    def complete(self) -> bool:
        """The last image (empty following bitmap) has been read entirely."""
        return self.error is None and self._following == 0 and self._remaining == 0

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        if self.error is not None:
            return
        if self.complete:
            self.trailer += data
            return
        self._pending += data
        while self._pending and self.error is None and not self.complete:
            if self._remaining == 0:
                if len(self._pending) < HEADER.size:
                    return
                header = self._pending[: HEADER.size]
                del self._pending[: HEADER.size]
                self._consumed += HEADER.size
                self._start_image(bytes(header))
                continue
            chunk = bytes(self._pending[: self._remaining])
            del self._pending[: len(chunk)]
            self._consumed += len(chunk)
            self._consume(chunk)
        if self.error is not None and not self.error_offset:
            self.error_offset = self._consumed
        if self.complete and self._pending:
            self.trailer += self._pending
            self._pending.clear()

    def _start_image(self, header: bytes) -> None:
        word0, word1, following = HEADER.unpack(header)
        magic = word0 & 0xFFFFFFFF
        major = (word0 >> 32) & 0xF
        minor = (word0 >> 36) & 0xF
        header_words = (word0 >> 52) & 0xF
        if magic != MAGIC:
            self.error = f"bad image header magic 0x{magic:08x} (expected 0x{MAGIC:08x})"
        elif major != MAJOR or minor > MAX_MINOR:
            self.error = f"unsupported image header version {major}.{minor}"
        elif header_words != HEADER_WORDS:
            self.error = f"bad image header length {header_words * 8}"
        if self.error is not None:
            return
        self._image_id = (word0 >> 56) & 0xFF
        self._length = word1 & 0xFFFFFFFF
        self._expected_crc = (word1 >> 32) & 0xFFFFFFFF
        self._remaining = self._length + padding(self._length)
        self._crc = 0
        self._following = following
        self._data = bytearray()
        if self._remaining == 0:
            self._finish_image()

    def _consume(self, chunk: bytes) -> None:
        self._crc = binascii.crc32(chunk, self._crc)
        if self._image_id == IMAGE_IDS["info"]:
            self._data += chunk
        self._remaining -= len(chunk)
        if self._remaining == 0:
            self._finish_image()

    def _finish_image(self) -> None:
        crc_ok = (self._crc & 0xFFFFFFFF) == self._expected_crc
        self.images.append(ImageRecord(self._image_id, self._length, crc_ok))
        if self._image_id == IMAGE_IDS["info"]:
            self.info = bytes(self._data[: self._length])
        if not crc_ok:
            self.error = f"CRC mismatch in image ID {self._image_id}"

    def bf_cfg(self) -> str | None:
        """The configuration appended after the last image, as the installer would read it (NULs removed)."""
        if not self.complete or not self.trailer:
            return None
        return self.trailer.replace(b"\0", b"").decode(errors="replace")

    def doca_version(self) -> str | None:
        """The DOCA version listed in the info image, if the stream carried one."""
        try:
            document = json.loads(self.info)
        except ValueError:
            return None
        for member in document.get("Members", []) if isinstance(document, dict) else []:
            if isinstance(member, dict) and member.get("Name") == "DOCA":
                return str(member.get("Version"))
        return None
