"""Shared fixtures: a throwaway copy of the real project, and PDF text extraction."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit.project import Project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the repository's content, catalogs and templates that a test may change."""
    for name in ("handouts", "locales", "templates"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tmp_path / name)
    return Project(tmp_path)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page, in logical order (pypdf keeps RTL text in reading order)."""
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def pdf_text(path: Path) -> str:
    return "\n".join(pdf_pages(path))


def set_msgstr(path: Path, context: str, value: str, msgid: str | None = None) -> None:
    """Set one entry's translation in a .po file, as a translator's editor would."""
    text = path.read_text()
    anchor = f'msgctxt "{context}"' + (f'\nmsgid "{msgid}"' if msgid else "")
    start = text.index(anchor)
    msgstr = text.index("msgstr ", start)
    end = text.index("\n\n", msgstr)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(text[:msgstr] + f'msgstr "{escaped}"' + text[end:])


def squash(text: str) -> str:
    """Text with all white space removed: line breaks fall anywhere in a PDF."""
    return "".join(text.split())
