"""The print desk's page: a plain HTML form, translated through the catalogs like a handout.

Its links are relative, so the desk works under any path a reverse proxy gives it; a "prepared
for" name is posted, never put in a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from .catalog import Translator
from .errors import InputError
from .languages import language
from .levels import LEVELS
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .render import environment, gettext_globals
from .translate import catalogs_for

DESK_TEMPLATE = "desk.html.j2"


class Shown(Protocol):
    """What the page shows of a document the desk judged (``serve.Document``)."""

    @property
    def job(self) -> Any: ...
    @property
    def readability(self) -> Any: ...
    @property
    def problems(self) -> tuple[str, ...]: ...
FIELDS = ("handout", "lang", "level", "region", "paper", "large_print", "also", "prepared_for")


def chosen_values(form: Mapping[str, Any], catalog: dict[str, Any]) -> dict[str, str]:
    """The form's own values, with the defaults the page starts from."""
    chosen = {name: str(form.get(name, "")) for name in FIELDS}
    chosen["handout"] = chosen["handout"] or (catalog["handouts"][0]["id"]
                                               if catalog["handouts"] else "")
    chosen["lang"] = chosen["lang"] or "en"
    chosen["level"] = chosen["level"] or "easy"
    return chosen


def render_desk(project: Project, chosen: dict[str, str], ui: str, catalog: dict[str, Any],
                document: Shown | str | None) -> str:
    """The page for the ``chosen`` values in the language ``ui``, showing ``document`` (or
    why it cannot be made) once the form was sent."""
    ui = ui if ui in project.languages() else SOURCE_LANGUAGE
    topics = [h["id"] for h in catalog["handouts"]]
    catalogs, broken = {}, []
    for domain in [TEMPLATE_DOMAIN, REGIONS_DOMAIN, *topics]:
        try:  # a catalog broken while the desk runs leaves its words in English, named
            catalogs.update(catalogs_for(project, ui, [domain]))
        except InputError as exc:
            broken += [project.public(str(problem)) for problem in exc.problems]
    translator = Translator(ui, catalogs, source=ui == SOURCE_LANGUAGE)
    result = None if document is None else _result(project, chosen, document)
    page: str = environment(project.theme).get_template(DESK_TEMPLATE).render(
        ui=language(ui), catalog=catalog, chosen=chosen, result=result,
        levels=list(LEVELS), ui_languages=catalog["languages"],
        names=_names_in(translator, catalog), broken=[*catalog["errors"], *broken],
        **gettext_globals(translator))
    return page


def _names_in(translator: Translator, catalog: dict[str, Any]) -> dict[str, str]:
    """Each topic's title (by id) and region's name (by code) in the page's language, as its
    catalogs translate them: the English where a catalog has none."""
    names = {}
    for topic in catalog["handouts"]:
        title = topic["title"]
        # A title is one text ("title"), or one per level, of which the list shows "standard".
        shown = translator.pgettext(topic["id"], "title.standard", title)
        names[topic["id"]] = shown if shown != title else translator.pgettext(
            topic["id"], "title", title)
    for region in catalog["regions"]:
        names[region["code"]] = translator.pgettext(REGIONS_DOMAIN, f"region.{region['code']}",
                                                    region["name"])
    return names


def _result(project: Project, chosen: dict[str, str], document: Shown | str
            ) -> dict[str, Any]:
    """What the page shows after the form is sent: preview, readability, print and download;
    or, for a document the project's policy refuses, why (the CLI's words), and no buttons."""
    if isinstance(document, str):  # the same message the API gives; never a server path
        return {"error": document}
    if document.problems:
        return {"error": None, "readability": document.readability,
                "file": document.job.output.name,
                "refused": [project.public(p) for p in document.problems]}
    choices = {k: v for k, v in chosen.items() if v and k != "prepared_for"}
    named = bool(chosen["prepared_for"])
    return {
        "preview": "api/preview?" + urlencode(choices),
        # Print and download are small forms: a name goes in a POST body, the rest may link.
        "method": "post" if named else "get",
        "fields": {**choices, **({"prepared_for": chosen["prepared_for"]} if named else {})},
        "readability": document.readability, "file": document.job.output.name, "error": None,
        "refused": [],
    }
