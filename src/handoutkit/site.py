"""The online version: a static, accessible site of the plan's documents.

One page per topic, language, level and region among the plan's printable documents, made
by the same pipeline as the PDFs (the same printed text, the same template in its web mode,
the same gates: a document the policy refuses is not published). Each page lists the page in
the other languages (each in its own name, with ``hreflang`` alternates) and links the PDFs
the build made of it, copied beside the page, so the folder is the whole site: every link
is relative, and it works from a disk, under any path prefix and on any static host.

The folder also holds an index per language (its topics, in that language), a root index of
languages, the theme's pictograms and ``site.css``, a ``sitemap.xml`` when the project names
its ``[site] base_url``, and ``site.json``: what the site holds, so a run rewrites only pages
that changed and removes only pages it made that are no longer in the plan.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

from .errors import InputError
from .languages import PAPERS, language
from .output import Manifest, write_atomic
from .pipeline import BuildOptions, DocumentResult, Inputs, render_web_page
from .plan import Job, site_page
from .project import Project
from .render import WebDownload, WebLink, WebPage

SITE_MANIFEST = "site.json"
#: Written beside the pages: the theme's files a page links.
ASSETS = ("site.css",)


@dataclass(frozen=True)
class SiteReport:
    """What ``handout site`` made: every page, those written this time, those refused, and
    those held back as ``handout build`` holds them (a translation too incomplete to publish:
    reported, not a failure)."""

    out_dir: Path
    pages: tuple[str, ...]
    written: tuple[str, ...]
    refused: tuple[tuple[Job, tuple[str, ...]], ...]
    held: tuple[tuple[Job, tuple[str, ...]], ...] = ()
    #: Pages published with what a build warns of: facts past their review date, strings
    #: printed in English.
    warned: tuple[tuple[Job, tuple[str, ...]], ...] = ()


def _warnings_of(result: DocumentResult) -> tuple[str, ...]:
    """What a build warns of for a document, as its published page is warned of."""
    return (*result.warnings, *filter(None, [result.english_strings]))


def _relative(path: str, start: str) -> str:
    return posixpath.relpath(path, posixpath.dirname(start) or ".")


def _pdf_label(job: Job) -> str:
    parts = [PAPERS.get(job.paper, job.paper)]
    if job.large_print:
        parts.append("large print")
    if job.also:
        parts.append(f"+ {language(job.also).name}")
    return ", ".join(parts)


def _size(data_len: int) -> str:
    return f"{max(1, round(data_len / 1024))} kB"


def build_site(project: Project, jobs: list[Job], options: BuildOptions, out_dir: Path,
               build_dir: Path, base_url: str | None = None) -> SiteReport:
    """Write the site of ``jobs`` (the plan) into ``out_dir``; PDFs come from ``build_dir``."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        if not job.preview:
            groups.setdefault(site_page(job), []).append(job)
    page_jobs = {path: replace(group[0], large_print=False, also=None, preview=False)
                 for path, group in groups.items()}
    inputs = Inputs(project, list(page_jobs.values()))
    refused: list[tuple[Job, tuple[str, ...]]] = []
    held: list[tuple[Job, tuple[str, ...]]] = []
    warned: dict[Job, tuple[str, ...]] = {}
    published: dict[str, Job] = {}
    for path, job in page_jobs.items():
        error = inputs.problem(job)
        if error is not None:
            refused.append((job, tuple(str(p) for p in error.problems)))
        else:
            published[path] = job
    pages: list[str] = []
    downloads, files = _copied_pdfs({path: groups[path] for path in published}, build_dir)

    def render(path: str, job: Job) -> str | None:
        """The page at ``path``, linking the languages of ``published``; None if refused."""
        others = sorted((p, j) for p, j in published.items() if _document(j) == _document(job))
        links = tuple(WebLink(_relative(p, path), language(j.lang).name,
                              language(j.lang).html_lang, language(j.lang).direction,
                              p == path) for p, j in others)
        result, html = render_web_page(inputs, job, options,
                                       WebPage(_root(path), links, tuple(downloads[path])))
        if html is None:
            (held if result.ok else refused).append((job, result.problems))
        elif result.warnings or result.fallbacks:
            warned[job] = _warnings_of(result)
        return html

    html_of = {path: html for path, job in sorted(published.items())
               if (html := render(path, job)) is not None}
    # A page refused only once it was made (too little translated, too hard): its siblings,
    # made before that was known, are made again without a link to it.
    gone = {_document(published.pop(path)) for path in set(published) - set(html_of)}
    for path, html in html_of.items():
        if _document(published[path]) in gone:
            html = render(path, published[path]) or html
        files[path] = html.encode("utf-8")
        pages.append(path)
    published_jobs = {p: published[p] for p in pages}
    files |= _indexes(project, published_jobs, inputs)
    for asset in ASSETS:
        files[asset] = project.theme.find(asset).read_bytes()
    for icon in project.theme.files("icons/*.svg"):
        files[f"icons/{icon.name}"] = icon.read_bytes()
    if base_url:
        files["sitemap.xml"] = _sitemap(base_url, sorted(files))
    written = _write(out_dir, files)
    return SiteReport(out_dir, tuple(pages), tuple(written), tuple(refused), tuple(held),
                      tuple((job, warned[job]) for job in published_jobs.values()
                            if job in warned))


def _copied_pdfs(groups: dict[str, list[Job]], build_dir: Path
                 ) -> tuple[dict[str, list[WebDownload]], dict[str, bytes]]:
    """For each page, the PDFs the build made of its document (intact, as the manifest
    says), copied beside it: the page's download links, and the copies."""
    built = Manifest.read(build_dir, "")
    downloads: dict[str, list[WebDownload]] = {}
    files: dict[str, bytes] = {}
    for path, jobs in sorted(groups.items()):
        downloads[path] = []
        for pdf_job in jobs:
            name = str(pdf_job.output)
            entry, source = built.entries.get(name), build_dir / name
            if entry is None or not built.intact(entry, source):
                continue
            target = posixpath.join(posixpath.dirname(path), posixpath.basename(name))
            files[target] = source.read_bytes()
            downloads[path].append(WebDownload(posixpath.basename(name), _pdf_label(pdf_job),
                                               _size(len(files[target]))))
    return downloads, files


def _document(job: Job) -> tuple[str, str, str | None]:
    """What a page's languages share: the topic, level and region."""
    return job.handout, job.level, job.region


def _root(path: str) -> str:
    """From a page, the way to the site's root folder ("../../" from ``es/topic/easy.html``)."""
    depth = path.count("/")
    return "../" * depth


def _indexes(project: Project, pages: dict[str, Job], inputs: Inputs) -> dict[str, bytes]:
    """An index per language listing its topics in that language, and a root index."""
    langs = sorted({job.lang for job in pages.values()})
    root_links = "".join(
        f'<li><a href="{escape(lang)}/index.html" hreflang="{escape(language(lang).html_lang)}"'
        f' lang="{escape(language(lang).html_lang)}" dir="{language(lang).direction}">'
        f"{escape(language(lang).name)}</a></li>" for lang in langs)
    files = {"index.html": _index_page("en", "ltr", "handoutkit", "", root_links,
                                      "Choose your language")}
    for lang in langs:
        facts = language(lang)
        rows = []
        for path, job in sorted(pages.items()):
            if job.lang != lang:
                continue
            printed = inputs.printed(job, None)
            where = f" · {printed.region.name.value}" if printed.region else ""
            rows.append(f'<li><a href="{escape(_relative(path, lang + "/index.html"))}">'
                        f"{escape(printed.title.value)}</a>"
                        f" <span class=\"level\">({escape(job.level)}{escape(where)})</span>"
                        "</li>")
        files[f"{lang}/index.html"] = _index_page(
            facts.html_lang, facts.direction, facts.name, "../", "".join(rows), facts.name)
    return files


def _index_page(lang: str, direction: str, title: str, root: str, items: str,
                heading: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}" dir="{direction}">\n<head>\n'
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n"
            f'<link rel="stylesheet" href="{root}site.css">\n</head>\n<body>\n'
            f'<main id="content" class="index">\n<h1>{escape(heading)}</h1>\n'
            f"<ul>{items}</ul>\n</main>\n</body>\n</html>\n").encode()


def _sitemap(base_url: str, paths: list[str]) -> bytes:
    base = base_url.rstrip("/") + "/"
    urls = "".join(f"<url><loc>{escape(base + p)}</loc></url>\n" for p in paths
                   if p.endswith(".html"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}</urlset>\n").encode()


def _write(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Write what changed, remove what an earlier run made that is gone, record the rest."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.at(f"cannot create the site folder: {exc.strerror}", out_dir) from None
    record = out_dir / SITE_MANIFEST
    try:
        before = set(json.loads(record.read_text("utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        before = set()
    written = []
    for name, data in sorted(files.items()):
        target = out_dir / name
        try:
            same = target.is_file() and target.read_bytes() == data
        except OSError:
            same = False
        if not same:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
            written.append(name)
    for name in sorted(before - set(files)):
        gone = out_dir / name
        if gone.is_file() and not gone.is_symlink():
            gone.unlink()
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    text = json.dumps({"format": 1, "files": digests}, indent=2) + "\n"
    if not record.is_file() or record.read_text("utf-8") != text:
        write_atomic(record, text.encode("utf-8"))
    return written
