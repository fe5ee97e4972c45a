"""Query words of ``print`` evaluated as MikroTik's API manual describes them.

The stack initially holds infinitely many 'true' values; an item matches when no 'false' is left.
    ?name        push: item has a value for name
    ?-name       push: item has no value for name
    ?name=x      push: value equals x (also ?=name=x)
    ?<name=x     push: value less than x
    ?>name=x     push: value greater than x
    ?#ops        ops left to right: digits = stack index (top is 0); an index followed by another
                 character pushes a copy of that value, an index at the end of the word replaces
                 the whole stack with that value; '!' negates the top, '&' and '|' pop two and push
                 the and / or, '.' after an index does nothing, after anything else pushes a copy of the top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .values import BOOLEAN_WORDS


class QueryError(ValueError):
    """A malformed query word."""


@dataclass
class BoolStack:
    values: list[bool] = field(default_factory=list)
    below: bool = True  # what lies under the explicit values: initially infinitely many 'true'

    def push(self, value: bool) -> None:
        self.values.append(value)

    def pop(self) -> bool:
        return self.values.pop() if self.values else self.below

    def peek(self, index: int = 0) -> bool:
        return self.values[-1 - index] if index < len(self.values) else self.below

    def replace_all(self, value: bool) -> None:
        self.values = []
        self.below = value

    def all_true(self) -> bool:
        return self.below and all(self.values)


def _compare_key(value: str) -> tuple[int, int | str]:
    """Numbers compare as numbers, everything else as text."""
    try:
        return (0, int(value))
    except ValueError:
        return (1, value)


def _less(left: str, right: str) -> bool:
    left_key, right_key = _compare_key(left), _compare_key(right)
    if left_key[0] != right_key[0]:
        return left < right
    return left_key < right_key


def _equal(actual: str, expected: str) -> bool:
    """The router reads the query value with the property's type, so ``?disabled=yes`` matches ``true``."""
    if actual in {"true", "false"} and expected.lower() in BOOLEAN_WORDS:
        return actual == BOOLEAN_WORDS[expected.lower()]
    return actual == expected


def _apply_operations(stack: BoolStack, operations: str) -> None:
    position = 0
    previous_was_index = False
    while position < len(operations):
        char = operations[position]
        if char.isdigit():
            end = position
            while end < len(operations) and operations[end].isdigit():
                end += 1
            value = stack.peek(int(operations[position:end]))
            if end == len(operations):
                stack.replace_all(value)
            else:
                stack.push(value)
            position = end
            previous_was_index = True
            continue
        if char == "!":
            stack.push(not stack.pop())
        elif char == "&":
            right, left = stack.pop(), stack.pop()
            stack.push(left and right)
        elif char == "|":
            right, left = stack.pop(), stack.pop()
            stack.push(left or right)
        elif char == ".":
            if not previous_was_index:
                stack.push(stack.peek())
        else:
            raise QueryError(f"unknown query operation {char!r}")
        previous_was_index = False
        position += 1


def _evaluate_word(stack: BoolStack, word: str, row: Mapping[str, str]) -> None:
    body = word[1:]
    if body.startswith("#"):
        _apply_operations(stack, body[1:])
        return
    operator = ""
    if body[:1] in {"<", ">", "=", "-"}:
        operator, body = body[0], body[1:]
    name, has_value, expected = body.partition("=")
    if operator == "-":
        stack.push(name not in row)
    elif not has_value and operator == "":
        stack.push(name in row)
    elif name not in row:
        stack.push(False)
    elif operator == "<":
        stack.push(_less(row[name], expected))
    elif operator == ">":
        stack.push(_less(expected, row[name]))
    else:
        stack.push(_equal(row[name], expected))


def matches(query_words: Sequence[str], row: Mapping[str, str]) -> bool:
    stack = BoolStack()
    for word in query_words:
        _evaluate_word(stack, word, row)
    return stack.all_true()


def validate(query_words: Sequence[str]) -> None:
    """Raise QueryError for words that cannot be evaluated (checked once, before any row)."""
    for word in query_words:
        if word.startswith("?#"):
            _apply_operations(BoolStack(), word[2:])
        elif len(word) < 2:
            raise QueryError("empty query word")
