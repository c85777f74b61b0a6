"""Reads YAML into plain data and records the line of every key and item, so a problem can name its line."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

# A path into a document: mapping keys and sequence indexes, e.g. ("permissions", 0, "scope").
NodePath = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """The text is not valid YAML; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed YAML document with the 1-based line of each mapping key and sequence item."""

    data: object
    lines: dict[NodePath, int] = field(default_factory=dict)
    duplicate_keys: tuple[tuple[NodePath, int], ...] = ()

    def line_of(self, path: NodePath) -> int:
        """The line of `path`, or of its nearest ancestor that the document has."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


# libyaml's loader keeps the same node marks and is several times faster; the pure-Python one is the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> YamlDocument:
    """Compose the node tree (which keeps line marks), then construct the data from the same nodes."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(mark.line + 1 if mark else 1, exc.problem or exc.context or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, str(exc)) from exc
    finally:
        loader.dispose()
    lines: dict[NodePath, int] = {(): 1 if node is None else node.start_mark.line + 1}
    duplicates: list[tuple[NodePath, int]] = []
    if node is not None:
        _record_lines(node, (), lines, duplicates, set())
    return YamlDocument(data, lines, tuple(duplicates))


def _record_lines(
    node: yaml.Node,
    path: NodePath,
    lines: dict[NodePath, int],
    duplicates: list[tuple[NodePath, int]],
    visiting: set[int],
) -> None:
    if id(node) in visiting:  # a recursive alias: its lines are already recorded
        return
    visiting.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                duplicates.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines, duplicates, visiting)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, duplicates, visiting)
    visiting.discard(id(node))


def dotted(path: NodePath) -> str:
    """`("permissions", 0, "scope")` as `permissions[0].scope`, the way problems name a field."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
