"""Errors in the user's input, kept apart from bugs.

Every error handoutkit raises on purpose is a :class:`HandoutkitError`. An :class:`InputError`
means a file the user wrote is wrong: the CLI prints it without a traceback and exits 2.
Any other exception is a bug in handoutkit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one place, with a hint that says how to fix it."""

    message: str
    file: Path | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class HandoutkitError(Exception):
    """The family of every error the library raises on purpose: catch this one to catch
    them all (bad input, a refused document, a busy build folder)."""


class InputError(HandoutkitError):
    """The user's input is wrong; carries every problem found, each with file and line."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its problems, not its message, when it crosses a process boundary.
        return (type(self), (self.problems,))

    @classmethod
    def at(cls, message: str, file: Path | None = None, line: int | None = None,
           hint: str | None = None) -> InputError:
        return cls(Problem(message, file, line, hint))


class UnknownReference(InputError):
    """A well-formed file that names something the project lacks (a fact for a region with
    no profile): the documents that need it fail (exit 1) while the rest are made; a
    malformed file is an :class:`InputError` (exit 2)."""
