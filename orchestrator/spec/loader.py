"""A spec file's bytes as plain data: UTF-8 YAML, or one line saying why not.

PyYAML alone turns bad input into tracebacks or hangs: a latin-1 or binary file fails to
decode, a few thousand nested brackets exhaust Python's recursion, and aliases that refer to
aliases ("billion laughs") build a graph that is small in memory but exponential once pydantic
walks it as a tree. Here the composed node graph is measured before anything is constructed:
its nesting and its size with every alias expanded are bounded, and a key given twice in one
mapping is refused instead of silently keeping the last value.
"""

from __future__ import annotations

import codecs
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from orchestrator.spec.errors import SpecError

MAX_DEPTH = 64  # a spec nests about 5 levels deep
MAX_VALUES = 100_000  # values after alias expansion; a large real spec holds a few thousand
MERGE = "tag:yaml.org,2002:merge"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class _Refused(Exception):
    """What is wrong with the YAML, and where (a line of the file)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, nesting at most MAX_DEPTH levels and refusing a repeated key."""

    depth = 0

    def fetch_flow_collection_start(self, TokenClass: type) -> None:
        # before the composer sees them: the scanner's cost grows with the square of open brackets
        if self.flow_level >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (line {self.line + 1})")
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= MAX_DEPTH:  # block nesting, bounded as early
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (line {self.line + 1})")
        return super().add_indent(column)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self.depth += 1  # PyYAML composes recursively: bound it before Python's own limit
        try:
            if self.depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (line {line})")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}  # key -> its line
        for key_node, _ in node.value:
            if key_node.tag == MERGE:  # `<<: *base`: the mapping's own keys override the base's
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _Refused(
                        f"duplicate key {key!r} at line {line} (first at line {seen[key]})"
                    )
                seen[key] = line
            except TypeError:
                continue  # an unhashable key: PyYAML's own error names it
        return super().construct_mapping(node, deep=deep)


def parse(data: bytes, path: str) -> Any:
    """The YAML document in `data` as Python data; SpecError (one line naming `path`) if it is
    not UTF-8 text, not YAML, nested too deep, expands too far through aliases, or repeats a key.
    """
    text = _text(data, path)
    loader = None
    try:
        loader = _Loader(text)  # reads the text: a control character is a YAMLError here
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node)
        return loader.construct_document(node)
    except _Refused as e:
        raise SpecError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(f"{path}: YAML syntax error{where}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _text(data: bytes, path: str) -> str:
    if data.startswith(UTF16_BOMS):
        raise SpecError(f"{path}: is UTF-16 text; save the spec as UTF-8")
    if b"\x00" in data:
        raise SpecError(f"{path}: is a binary file (it holds NUL bytes), not a YAML spec")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SpecError(
            f"{path}: is not UTF-8 text (byte 0x{data[e.start]:02x} at line {line}); "
            "save the spec as UTF-8"
        ) from None


def _measure(root: Node) -> None:
    """Refuse a node graph deeper than MAX_DEPTH or larger than MAX_VALUES with aliases
    expanded, or with an alias inside its own anchor; linear in the distinct nodes."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) of its expansion
    open_nodes: set[int] = set()

    def visit(node: Node, level: int) -> tuple[int, int]:
        line = node.start_mark.line + 1
        if level > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (line {line})")
        if id(node) in sizes:
            values, depth = sizes[id(node)]
            if level + depth - 1 > MAX_DEPTH:
                raise _Refused(f"aliases nest more than {MAX_DEPTH} levels deep (line {line})")
            return values, depth
        if id(node) in open_nodes:
            raise _Refused(f"an alias refers to its own anchor (line {line})")
        values, depth = 1, 1
        if isinstance(node, (SequenceNode, MappingNode)):
            open_nodes.add(id(node))
            children = node.value if isinstance(node, SequenceNode) else \
                [n for pair in node.value for n in pair]  # fmt: skip
            for child in children:
                child_values, child_depth = visit(child, level + 1)
                values += child_values
                depth = max(depth, child_depth + 1)
                if values > MAX_VALUES:
                    raise _Refused(
                        f"holds more than {MAX_VALUES:,} values once its aliases are expanded "
                        f"(line {line}): an alias bomb, not a sweep"
                    )
            open_nodes.discard(id(node))
        sizes[id(node)] = (values, depth)
        return values, depth

    visit(root, 1)
