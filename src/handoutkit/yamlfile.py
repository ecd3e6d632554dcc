"""Read YAML keeping the line of every value, and map schema errors back onto those lines.

PyYAML's composed node tree knows where each value starts; plain ``safe_load`` forgets it.
We build the Python data ourselves from the node tree and keep a ``path → line`` map, so a
pydantic error at ``sections[2].points[0].text`` can name the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .files import read_limited

Loc = tuple[str | int, ...]

#: libyaml's parser when PyYAML was built with it (about 11 times faster, same nodes and marks).
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Content files are a few KiB; anything far larger is a mistake or an attack.
MAX_YAML_BYTES = 2 * 1024 * 1024
#: Aliases can expand a small file into a huge tree ("billion laughs").
MAX_YAML_NODES = 200_000


@dataclass
class YamlDocument:
    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[str | int]) -> int:
        """The line of ``loc``, or of its nearest ancestor that has one."""
        key = tuple(loc)
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)


def read_text(path: Path, max_bytes: int, kind: str) -> str:
    """Read a UTF-8 text file, turning every way it can fail into an :class:`InputError`."""
    data = read_limited(path, max_bytes, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError.at(f"{kind} is not valid UTF-8 ({exc.reason})", path, line,
                            hint="save the file as UTF-8") from None


def load_yaml(path: Path, kind: str = "YAML file", text: str | None = None) -> YamlDocument:
    """Parse ``path`` (or ``text``, when the caller already read it) keeping every line."""
    if text is None:
        text = read_text(path, MAX_YAML_BYTES, kind)
    try:
        # The reader rejects control characters already in the constructor.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, path) from None
    try:
        node = loader.get_single_node()
        doc = YamlDocument(path, None)
        if node is not None:
            doc.data = _Builder(loader, doc).build(node, ())
        return doc
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError.at(f"YAML syntax error: {problem}", path, line,
                            hint="check indentation, colons and quotes on this line") from None
    except yaml.YAMLError as exc:
        raise InputError.at(f"YAML error: {exc}", path) from None
    except RecursionError:
        raise InputError.at("YAML nested too deeply", path,
                            hint="a handout needs a few levels of nesting; check the brackets"
                            ) from None
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, path: Path) -> InputError:
    line = text[: exc.position].count("\n") + 1
    return InputError.at(f"YAML syntax error: character U+{exc.character:04X} is not allowed",
                         path, line, hint="remove the control character from this line")


class _Builder:
    def __init__(self, loader: Any, doc: YamlDocument):
        self.loader = loader
        self.doc = doc
        self.count = 0

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise InputError.at(f"more than {MAX_YAML_NODES:,} values (too many aliases?)",
                                self.doc.path, node.start_mark.line + 1)
        self.doc.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int)):
                    raise InputError.at(f"a key must be text, not {type(key).__name__}",
                                        self.doc.path, key_node.start_mark.line + 1)
                if key in result:
                    raise InputError.at(f"duplicate key {key!r}", self.doc.path,
                                        key_node.start_mark.line + 1,
                                        hint="each key may appear once in a mapping")
                result[key] = self.build(value_node, (*loc, key))
                # Point at "key:", not at a block value that starts on the next line.
                self.doc.lines[(*loc, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError as exc:  # an impossible date such as 2026-02-30
            raise InputError.at(f"{node.value!r} is not a valid value: {exc}", self.doc.path,
                                node.start_mark.line + 1,
                                hint="write dates as YYYY-MM-DD, with a day that exists"
                                ) from None


def validate(model: type[BaseModel], doc: YamlDocument, what: str) -> Any:
    """Validate ``doc`` against ``model``; every error names its line and how to fix it."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = relevant_errors(exc)
        problems = [_problem(doc, err, what) for err in errors]
        raise InputError(list(dict.fromkeys(problems))) from None


def relevant_errors(exc: ValidationError) -> list[Any]:
    """pydantic's errors less those of a union's other member: where a field may be text or a
    mapping and a mapping was written, "should be a valid string" is no help beside the
    mapping's own errors."""
    errors = exc.errors()

    def other_member(err: Any) -> bool:
        field = tuple(err["loc"])[:-1]
        return (isinstance(err["input"], dict | list) and err["type"].endswith("_type")
                and any(other is not err and tuple(other["loc"])[:len(field)] == field
                        and len(other["loc"]) >= len(err["loc"]) for other in errors))

    kept = [err for err in errors if not other_member(err)]
    # A key with nothing after it (`title:`) fails every member of a union alike: said once.
    empty: set[tuple[Any, ...]] = set()
    said = []
    for err in kept:
        if err.get("input", ...) is None and err["type"].endswith("_type") and err["loc"]:
            field = tuple(part for part in err["loc"] if not (isinstance(part, str)
                                                              and "[" in part))
            if field in empty:
                continue
            empty.add(field)
            err = {**err, "type": "empty", "msg": "empty: write its text or fields after it"}
        said.append(err)
    return said


def describe(err: Any) -> tuple[str, str | None]:
    """A pydantic error in the user's words, and a hint: without pydantic's own prefixes
    ("Value error, "), its regular expressions, or the model's class name."""
    kind, message, value = err["type"], str(err["msg"]), err.get("input")
    if kind in ("value_error", "assertion_error"):
        return message.split(", ", 1)[-1], None
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value!r} is read as a number, not text", f'put it in quotes: "{value}"'
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if value is None:
            return "empty: its fields are missing", "write its fields as `key: value` lines"
        return (f"expected fields (`key: value` lines), found {type(value).__name__}",
                "check the indentation")
    if kind == "too_short":
        least = err.get("ctx", {}).get("min_length", 1)
        return f"needs at least {least} item(s), has {len(value or ())}", None
    if kind == "too_long" and isinstance(value, list | dict):
        return f"at most {err.get('ctx', {}).get('max_length')} items, has {len(value)}", None
    if kind == "string_pattern_mismatch":
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        if "https?://" in pattern:
            return f"{value!r} is not a web address", "write it in full: https://…"
        return f"{value!r} is not in the form this field takes", "see the reference for it"
    return message, None


def _problem(doc: YamlDocument, err: Any, what: str) -> Problem:
    loc = tuple(err["loc"])
    # pydantic adds the union member or validator name to loc; drop what is not in the data.
    kind = err["type"]
    found = data_loc(doc.data, loc, kind == "missing")
    where = format_loc(found) or what
    hint: str | None
    if kind == "missing":
        message, hint = f"{where}: required field is missing", f"add `{loc[-1]}:` here"
    elif kind == "extra_forbidden":
        message = f"{where}: unknown field"
        hint = ("remove it, or check its spelling: `handout new` writes a topic with every "
                "field, each explained")
    else:
        said, hint = describe(err)
        message = f"{where}: {said}"
    return Problem(message, doc.path, doc.line_of(found), hint)


def data_loc(data: Any, loc: Loc, missing: bool = False) -> Loc:
    """The part of a pydantic ``loc`` that exists in the data, plus a ``missing`` key's
    name."""
    found: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            found.append(part)
        elif missing and isinstance(node, dict) and part == loc[-1]:
            found.append(part)
            break
        # anything else is a union member or validator name pydantic adds: skip it
    return tuple(found)


def format_loc(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
