"""MkDocs hooks: the CLI and file-format reference pages, generated from the code at build time,
and a name for the theme's search dialog.

A page holds a marker (``<!-- generated: cli -->`` or ``<!-- generated: formats -->``) that this
hook replaces, so the references come from the Typer app and the pydantic schemas themselves
and cannot drift from them. ``tests/test_docs.py`` builds the site with ``--strict`` and checks
the CLI page against every command's ``--help``, and runs axe-core on every page.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import types
import typing
from collections.abc import Iterator
from typing import Any


def _commands() -> Iterator[tuple[list[str], Any]]:
    """Every command of the app, depth first (typer vendors its own click: duck-typed)."""
    import typer

    from handoutkit.cli import app

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name in sorted(getattr(command, "commands", {})):
            yield from walk(command.commands[name], [*path, name])

    yield from walk(typer.main.get_command(app), ["handout"])


def _prose(text: str) -> str:
    """Help text as Markdown: its <placeholders> shown, not read as HTML tags."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _prose(" ".join(text.split())).replace("|", "\\|")


def cli_reference() -> str:
    """Every command and option of ``handout``, with its help, as Markdown."""
    out = []
    for path, command in _commands():
        out.append(f"## `{' '.join(path)}`\n")
        help_text = inspect.cleandoc(command.help or "").replace("\b\n", "")
        summary, _, rest = help_text.partition("\n\n")
        out.append(_prose(summary) + "\n")
        if "Examples:" in rest:
            prose, _, examples = rest.partition("Examples:")
            if prose.strip():
                out.append(_prose(prose.strip()) + "\n")
            lines = [line.strip() for line in examples.splitlines() if line.strip()]
            out.append("```text\n" + "\n".join(lines) + "\n```\n")
        elif rest.strip():
            out.append(_prose(rest.strip()) + "\n")
        params = [p for p in command.params
                  if p.param_type_name == "option" and not getattr(p, "hidden", False)]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        if arguments or params:
            out.append("| option | what it does | default |\n| --- | --- | --- |")
            for argument in arguments:
                out.append(f"| `{argument.name.upper()}` | "
                           f"{_cell(getattr(argument, 'help', '') or '')} | |")
            for option in params:
                names = ", ".join(f"`{name}`" for name in [*option.opts,
                                                            *option.secondary_opts])
                default = option.default if option.show_default or option.default not in (
                    None, False, (), []) else ""
                shown = "" if default in ("", None) or callable(default) else f"`{default}`"
                out.append(f"| {names} | {_cell(option.help or '')} | {shown} |")
            out.append("")
    return "\n".join(out)


def _type_name(annotation: Any) -> str:
    """A field's type as its schema spells it, without modules or ``Annotated`` constraints."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(arg) for arg in args)}]"
    if args:
        name = getattr(origin, "__name__", None) or _type_name(origin)
        return f"{name}[{', '.join('...' if a is Ellipsis else _type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    text = getattr(annotation, "__name__", None) or str(annotation)
    return re.sub(r"\b(?:typing|datetime|handoutkit\.\w+|pydantic\.\w+)\.", "", text)


def _field_notes(model: type) -> dict[str, str]:
    """The ``#:`` comment above each field in the model's source: what the field is for."""
    notes: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(model).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
        elif match := re.match(r"(\w+)\s*:", stripped):
            notes[match.group(1)] = " ".join(pending)
            pending = []
        else:
            pending = []
    return notes


def _model_table(model: Any) -> str:
    notes: dict[str, str] = {}
    for base in reversed(model.__mro__):
        if base is not object and hasattr(base, "model_fields"):
            with contextlib.suppress(OSError, TypeError):
                notes |= _field_notes(base)
    rows = ["| field | type | required | what it is |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        required = "yes" if field.is_required() else f"no (default `{field.default!r}`)" \
            if field.default is not None and not callable(field.default) else "no"
        # a code span keeps its pipes out of the table's cells, and shows a backslash as it is
        kind = " ".join(_type_name(field.annotation).split())
        rows.append(f"| `{name}` | `{kind}` | {required} | "
                    f"{_cell(notes.get(name, ''))} |")
    return "\n".join(rows)


def formats_reference() -> str:
    """The fields of every file an author writes, from the schemas that validate them."""
    from handoutkit import clinic, content, plan, regions

    files = [
        ("`handouts/<topic>/handout.yaml`", [content.Handout, content.Section, content.Point,
                                              content.Source]),
        ("`handouts/<topic>/regions.yaml` (each region's legal fact)",
         [regions.TopicFacts, regions.LegalFact, regions.Source]),
        ("`handouts/regions/<CODE>.yaml` (region profiles)",
         [regions.RegionProfile, regions.EmergencyNumber, regions.HelpLine]),
        ("clinic profiles (`--clinic FILE`)", [clinic.ClinicProfile]),
        ("`handout.toml`", [plan.ProjectTable, plan.PlanTable, plan.Policy,
                            plan.I18nSettings, plan.SiteSettings]),
    ]
    out = []
    for title, models in files:
        out.append(f"## {title}\n")
        for model in models:
            # its own docstring only: an undocumented model would show pydantic's BaseModel's
            doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
            out.append(f"### `{model.__name__}`\n")
            if doc:
                out.append(doc + "\n")
            out.append(_model_table(model) + "\n")
    return "\n".join(out)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Fill the generated sections of a page."""
    if "<!-- generated: cli -->" in markdown:
        markdown = markdown.replace("<!-- generated: cli -->", cli_reference())
    if "<!-- generated: formats -->" in markdown:
        markdown = markdown.replace("<!-- generated: formats -->", formats_reference())
    return markdown


_SEARCH_DIALOG = 'data-md-component="search" role="dialog"'


def _name_search_dialog(html: str) -> str:
    """Material's search is a ``role="dialog"`` without a name (axe-core's aria-dialog-name):
    it gets the words of its own search field's label ("Search", in the theme's language)."""
    label = re.search(r'<input [^>]*class="md-search__input"[^>]*aria-label="([^"]*)"', html)
    if label and _SEARCH_DIALOG + ">" in html:
        html = html.replace(_SEARCH_DIALOG + ">",
                            f'{_SEARCH_DIALOG} aria-label="{label.group(1)}">', 1)
    return html


def on_post_page(output: str, **_: Any) -> str:
    """Every page's HTML, once the theme has made it."""
    return _name_search_dialog(output)


def on_post_template(output_content: str, **_: Any) -> str:
    """The theme's own pages (404.html), which do not pass through ``on_post_page``."""
    return _name_search_dialog(output_content)
