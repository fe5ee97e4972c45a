"""The RShim log: a 1 KB scratch buffer written by the Arm side and shown in ``misc`` at DISPLAY_LEVEL 2.

Facts, not code, from:
- rshim-user-space ``src/rshim_log.c``: entry header word = module (bits 60-63), type (56-59: 1 panic,
  2 exception, 4 message), length in words (48-54), argument (16-47), has-argument (8-15), level (0-7);
  modules MISC BL1 BL2 BL2R BL31 UEFI PSC; levels INFO WARN ERR ASSERT; shown as `` LEVEL[MODULE]: text``,
  `` PANIC(MODULE): PC = 0x..`` or `` Exception(MODULE): syndrome = 0x..`` followed by
  ``   <register padded to 16>0x<value>`` lines; the section starts with a dashed line, ``             Log Messages``
  and another dashed line; nothing is listed while the word index is <= 1; with CLEAR_ON_READ the index is reset
  to 0 after the read, otherwise kept.
- rshim-user-space ``src/rshim_regs.h``: the index (RSH_SCRATCH_BUF_CTL.IDX) is 7 bits wide, so the buffer holds
  at most 127 words of 8 bytes.
- Linux ``drivers/platform/mellanox/mlxbf-bootctl.c`` ``rsh_log_store`` (what bfrshlog writes to): a trailing
  newline is dropped, a leading INFO/WARN/ERR/ASSERT selects the level (INFO otherwise), leading spaces are
  skipped, the text is cut to whole 8-byte words and to what still fits (``idx + num + 1 >= 127`` ->
  ``num = 127 - idx - 1``; nothing when no word is left), module 0 (MISC).
- bfb-build ``install.env/common`` ``rlog``: the installer first rewrites ``INFO:`` to nothing, ``ERROR:`` to
  ``ERR`` and ``WARNING:`` to ``WARN``, then calls bfrshlog.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODULES = ("MISC", "BL1", "BL2", "BL2R", "BL31", "UEFI", "PSC")
LEVELS = ("INFO", "WARN", "ERR", "ASSERT")
CAPACITY_WORDS = 0x7F
WORD = 8
SECTION_HEADER = "---------------------------------------\n             Log Messages\n---------------------------------------\n"


@dataclass(frozen=True)
class Message:
    level: int
    module: int
    text: bytes  # exactly words * 8 bytes, zero padded or cut

    @property
    def words(self) -> int:
        return 1 + len(self.text) // WORD

    def render(self) -> str:
        shown = self.text.split(b"\0", 1)[0].decode(errors="replace")
        return f" {LEVELS[self.level]}[{MODULES[self.module]}]: {shown}\n"


@dataclass(frozen=True)
class Crash:
    kind: str  # "PANIC" or "Exception"
    module: int
    value: int
    registers: tuple[tuple[str, int], ...]

    @property
    def words(self) -> int:
        return 1 + 2 * len(self.registers)

    def render(self) -> str:
        if self.kind == "PANIC":
            head = f" PANIC({MODULES[self.module]}): PC = 0x{self.value:x}\n"
        else:
            head = f" Exception({MODULES[self.module]}): syndrome = 0x{self.value:x}\n"
        return head + "".join(f"   {name:<16}0x{value:x}\n" for name, value in self.registers)


@dataclass
class LogBuffer:
    """The scratch buffer: entries in write order and the word index."""

    entries: list[Message | Crash] = field(default_factory=list)

    @property
    def index(self) -> int:
        return sum(entry.words for entry in self.entries)

    def write_message(self, level: int, module: int, text: str) -> bool:
        """Append one message cut to the space left; False when nothing fitted."""
        raw = text.encode()
        words = (len(raw) + WORD - 1) // WORD
        index = self.index
        if index + words + 1 >= CAPACITY_WORDS:
            words = CAPACITY_WORDS - index - 1
        if words <= 0:
            return False
        self.entries.append(Message(level, module, raw[: words * WORD].ljust(words * WORD, b"\0")))
        return True

    def write_crash(self, crash: Crash) -> bool:
        if self.index + crash.words > CAPACITY_WORDS:
            return False
        self.entries.append(crash)
        return True

    def write_from_linux(self, line: str) -> bool:
        """What ``echo "$line" > /sys/.../rsh_log`` stores (mlxbf-bootctl rsh_log_store)."""
        text = line[:-1] if line.endswith("\n") else line
        level = 0
        for candidate, name in enumerate(LEVELS):
            if len(name) + 1 < len(text) and text.startswith(name):
                text = text[len(name) :]
                level = candidate
                break
        return self.write_message(level, 0, text.lstrip(" "))

    def show(self, clear_on_read: bool) -> str:
        """The log section of misc at DISPLAY_LEVEL 2 (rshim_log_show)."""
        text = SECTION_HEADER
        if self.index > 1:
            text += "".join(entry.render() for entry in self.entries)
            if clear_on_read:
                self.entries.clear()
        return text

    def clear(self) -> None:
        self.entries.clear()


def installer_log(message: str) -> str:
    """bfb-build's rlog(): the text the installer hands to bfrshlog."""
    return message.replace("INFO:", "", 1).replace("ERROR:", "ERR", 1).replace("WARNING:", "WARN", 1)
