"""Reading YAML files with limits: scenarios, sweep specifications and variants files.

The one reader of the package's YAML (:func:`read_yaml`, :func:`parse_yaml`): PyYAML's safe loader
with limits on size (``MAX_FILE_BYTES``), nesting (``MAX_DEPTH``), values once aliases are expanded
(``MAX_VALUES``, so an alias bomb is refused at once), no alias inside itself and no duplicate keys.
Kept apart from the scenario's schema (:mod:`simulation.config.scenario`) so that the commands that
only read files (``run.py list``) do not load pydantic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# YAML limits (read_yaml and --set values).
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32  # levels of nested lists and mappings (a scenario needs 4)
MAX_VALUES = 100_000  # values in a document, aliases expanded


class ScenarioError(ValueError):
    """A scenario (file, override or value) that cannot be run; the message says where and why."""


class YamlLimitError(yaml.YAMLError):
    """A YAML document beyond the reader's limits (depth, size, aliases, duplicate keys)."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


_MERGE_TAG = "tag:yaml.org,2002:merge"


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits: nesting (checked while composing, before Python's recursion
    limit is near), values after alias expansion, aliases inside themselves, duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels of lists and mappings", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def load(self) -> Any:
        """The document's data (None if empty), after the checks of :func:`_measure`."""
        try:
            node = self.get_single_node()
            if node is None:
                return None
            _measure(node, 1, (), {}, set())
            return _unshare(self.construct_document(node))
        finally:
            self.dispose()


def _measure(node: yaml.Node, level: int, path: tuple[str, ...], memo: dict, active: set) -> tuple[int, int]:
    """(values, levels of lists and mappings) of ``node`` with aliases expanded, ``level`` being the
    level ``node`` has if it is a list or mapping; raises YamlLimitError past MAX_VALUES or
    MAX_DEPTH, for an alias inside itself, or for a duplicate key (named by its key path). Each
    node is measured once (``memo``), so an alias bomb costs its size on disk, not its expansion."""
    key = id(node)
    if key in memo:
        size, height = memo[key]
        if level + height - 1 > MAX_DEPTH:
            raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels (through an alias)", node.start_mark)
        return size, height
    if isinstance(node, yaml.ScalarNode):
        memo[key] = (1, 0)
        return 1, 0
    if key in active:
        raise YamlLimitError("an alias refers to a list or mapping that contains it", node.start_mark)
    if level > MAX_DEPTH:
        raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels (through an alias)", node.start_mark)
    active.add(key)
    size, height = 1, 1
    children: list[tuple[yaml.Node, tuple[str, ...]]] = []
    if isinstance(node, yaml.SequenceNode):
        children = [(child, (*path, str(k))) for k, child in enumerate(node.value)]
    elif isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                ident = (key_node.tag, key_node.value)
                if ident in seen:
                    where = ".".join((*path, name))
                    raise YamlLimitError(
                        f"duplicate key '{where}' (first at line {seen[ident] + 1})", key_node.start_mark
                    )
                seen[ident] = key_node.start_mark.line
            children.append((key_node, (*path, name)))
            children.append((value_node, (*path, name)))
    for child, child_path in children:
        child_size, child_height = _measure(child, level + 1, child_path, memo, active)
        size += child_size
        height = max(height, child_height + 1)
        if size > MAX_VALUES:
            raise YamlLimitError(
                f"more than {MAX_VALUES:,} values once aliases are expanded", node.start_mark
            )
    active.discard(key)
    memo[key] = (size, height)
    return size, height


def _unshare(data: Any) -> Any:
    """A copy of loaded data in which no list or mapping appears twice (YAML aliases share them),
    so that a --set override changes one place only. The data were measured: depth and size are
    bounded."""
    if isinstance(data, dict):
        return {key: _unshare(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_unshare(value) for value in data]
    return data


def parse_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader and the limits of :class:`LimitedLoader`. Raises
    yaml.YAMLError (YamlLimitError past a limit) or ValueError (e.g. an integer too long)."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlLimitError(f"longer than {MAX_FILE_BYTES:,} characters")
    parsed, data = _parse_with_libyaml(text)
    if parsed:
        return data
    return LimitedLoader(text).load()


_LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None)  # None when PyYAML was built without libyaml


def _parse_with_libyaml(text: str) -> tuple[bool, Any]:
    """(True, data) when libyaml (PyYAML's C parser, about five times as fast as the pure-Python
    one) reads ``text`` and the data pass :func:`_measure`'s limits; (False, None) on any problem,
    and then the pure-Python :class:`LimitedLoader` reads the text again and words the error, so
    every message (line, column, wording) is the pure-Python reader's. Both build the data with the
    same safe constructor and tag resolver. libyaml refuses nesting past 1,000 levels itself, so
    composing before the depth check cannot exhaust the stack; characters the pure-Python reader
    refuses are left to it."""
    if _LIBYAML_LOADER is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return False, None
    loader = _LIBYAML_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return True, None
        _measure(node, 1, (), {}, set())
        return True, _unshare(loader.construct_document(node))
    except Exception:  # noqa: BLE001  (the pure-Python reader decides, and says why)
        return False, None
    finally:
        loader.dispose()


def read_yaml(path: Path, what: str = "scenario", error: type[Exception] = ScenarioError) -> dict[str, Any]:
    """Parse a YAML mapping with the safe loader and its limits (MAX_FILE_BYTES, MAX_DEPTH,
    MAX_VALUES, no duplicate keys), or raise ``error`` naming the file (``what`` is the kind of
    file, for the message). The one reader of scenarios and sweep specs."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise error(f"{path}: cannot read the file: {err}") from None
    if len(data) > MAX_FILE_BYTES:
        raise error(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; a {what} file is a few kB")
    try:
        text = data.decode("utf-8")
        parsed = parse_yaml(text)
    except YamlLimitError as err:
        raise error(f"{path}: {err.problem}{_where(err.problem_mark)}") from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow: no mark, a position
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise error(
            f"{path}: malformed YAML at line {line}, column {column}: character {err.character!r} "
            f"is not allowed in YAML"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = " ".join((getattr(err, "problem", None) or str(err)).split())
        raise error(f"{path}: malformed YAML{_where(mark)}: {problem}") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: cannot read the file: {err}") from None
    except (ValueError, RecursionError) as err:  # e.g. an integer of more than 4,300 digits
        raise error(f"{path}: cannot read the YAML: {_clip(str(err))}") from None
    if not isinstance(parsed, dict):
        raise error(f"{path}: a {what} must be a YAML mapping of keys to values")
    return parsed


def _where(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def scenario_dir() -> Path:
    """The folder of bundled scenario files (``scenarios/`` beside the package)."""
    return Path(__file__).resolve().parents[2] / "scenarios"
