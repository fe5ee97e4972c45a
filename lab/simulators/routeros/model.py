"""Declarative description of a RouterOS menu (path): its fields, defaults, keys and commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .values import TEXT, Boolean, ValueType

if TYPE_CHECKING:
    from .state import RouterState

Row = dict[str, str]

PRINT_COMMANDS = frozenset({"print", "getall", "listen"})
SETTINGS_COMMANDS = PRINT_COMMANDS | {"set"}
ITEM_COMMANDS = SETTINGS_COMMANDS | {"add", "remove", "unset"}

DUPLICATE_ENTRY = "failure: already have such entry"


@dataclass(frozen=True)
class Field:
    """One property. ``default`` is stored on add when the field is not given (None: absent until set)."""

    name: str
    type: ValueType = TEXT
    default: str | None = None
    required: bool = False
    read_only: bool = False  # shown, never accepted from the client ("unknown parameter")
    unsettable: bool = True  # `unset` allowed (returns to the default, or absent)


def text(name: str, default: str | None = None, **kwargs: bool) -> Field:
    return Field(name, TEXT, default, **kwargs)


def boolean(name: str, default: str, **kwargs: bool) -> Field:
    return Field(name, Boolean(), default, **kwargs)


def read_only(name: str, default: str | None = None) -> Field:
    return Field(name, TEXT, default, read_only=True, unsettable=False)


COMMENT = text("comment")
DISABLED = boolean("disabled", "false")


@dataclass(frozen=True)
class UniqueKey:
    """Two items may not share these values; ``message`` is the router's failure wording."""

    fields: tuple[str, ...]
    message: str = DUPLICATE_ENTRY
    normalise: Callable[[Row], tuple[str, ...]] | None = None

    def value(self, row: Row) -> tuple[str, ...] | None:
        if self.normalise is not None:
            return self.normalise(row)
        if any(name not in row for name in self.fields):
            return None
        return tuple(row[name] for name in self.fields)


Computed = Callable[["RouterState", str, Row], Row]
Validator = Callable[["RouterState", "str | None", Row, Row], None]  # (state, id or None on add, old row, new row)
RemoveCheck = Callable[["RouterState", str, Row], None]  # raises ApiError when the item may not be removed


@dataclass(frozen=True)
class PathSpec:
    path: str
    fields: tuple[Field, ...]
    commands: frozenset[str] = ITEM_COMMANDS
    name_field: str | None = "name"  # `=.id=` also accepts this field's value
    auto_name: str | None = None  # "bridge" -> bridge1, bridge2, ... when no name is given
    unique: tuple[UniqueKey, ...] = ()
    singleton: bool = False  # settings menus: one item, no .id
    id_space: str = ""  # paths sharing one ID counter (all interfaces do); defaults to the path
    computed: Computed | None = None  # read-only values derived from the state
    validate: Validator | None = None  # cross-item rules checked before a write (may complete the new row)
    before_remove: RemoveCheck | None = None
    protect_dynamic: bool = True  # dynamic items cannot be changed or removed

    def __post_init__(self) -> None:
        if not self.id_space:
            object.__setattr__(self, "id_space", self.path)

    @property
    def field_map(self) -> dict[str, Field]:
        return {spec.name: spec for spec in self.fields}

    def writable(self, name: str) -> bool:
        spec = self.field_map.get(name)
        return spec is not None and not spec.read_only
