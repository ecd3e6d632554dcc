"""The print desk's page: a plain HTML form, translated through the catalogs like a handout."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .catalog import Translator
from .errors import InputError
from .languages import language
from .levels import LEVELS
from .pipeline import check_readability
from .plan import choose_job
from .project import SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .render import environment, gettext_globals
from .serve import public_message
from .translate import catalogs_for

DESK_TEMPLATE = "desk.html.j2"
FIELDS = ("handout", "lang", "level", "region", "paper", "large_print", "also", "prepared_for")


def render_desk(project: Project, query: dict[str, str], ui: str,
                catalog: dict[str, Any]) -> str:
    """The page for ``query`` (the form's own values), in the language ``ui``."""
    ui = ui if ui in project.languages() else SOURCE_LANGUAGE
    translator = Translator(ui, catalogs_for(project, ui, [TEMPLATE_DOMAIN]),
                            source=ui == SOURCE_LANGUAGE)
    chosen = {name: query.get(name, "") for name in FIELDS}
    chosen["handout"] = chosen["handout"] or (catalog["handouts"][0]["id"]
                                               if catalog["handouts"] else "")
    chosen["lang"] = chosen["lang"] or "en"
    chosen["level"] = chosen["level"] or "easy"
    result: dict[str, Any] | None = None
    if "lang" in query:
        result = _result(project, chosen)
    page: str = environment(project.theme).get_template(DESK_TEMPLATE).render(
        ui=language(ui), catalog=catalog, chosen=chosen, result=result,
        levels=list(LEVELS), ui_languages=catalog["languages"], **gettext_globals(translator))
    return page


def _result(project: Project, chosen: dict[str, str]) -> dict[str, Any]:
    """What the page shows after the form is sent: preview, readability, links."""
    params = {k: v for k, v in chosen.items() if v and k != "prepared_for"}
    try:
        job = choose_job(project, chosen["handout"], chosen["lang"], chosen["level"],
                         chosen["region"] or None, chosen["paper"] or None,
                         chosen["large_print"] in ("1", "true", "on"), chosen["also"] or None)
        report = check_readability(project, [job])[0]
    except InputError as exc:  # the same message the API gives; never a server path
        return {"error": "; ".join(public_message(p.message, project) for p in exc.problems)}
    render = dict(params)
    if chosen["prepared_for"]:
        render["prepared_for"] = chosen["prepared_for"]
    return {
        "preview": "/api/preview?" + urlencode(params),
        "pdf": "/api/render?" + urlencode(render),
        "download": "/api/render?" + urlencode({**render, "download": "1"}),
        "readability": report, "file": job.output.name, "error": None,
    }
