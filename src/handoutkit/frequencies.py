"""Word frequencies for the health-literacy check (the ``wordfreq`` package's Zipf scale),
remembered between processes.

Importing ``wordfreq`` and loading one language's list takes about 0.2 s, more than the rest of
checking a document, and every build, check and desk worker process paid it again for the same
few hundred words. The values looked up are kept in one small JSON file per language in the
user's cache folder (``$XDG_CACHE_HOME/handoutkit``, else ``~/.cache/handoutkit``), named by
the word list's data file as installed (its size and change time), so an upgraded ``wordfreq``
starts afresh. ``wordfreq`` is imported only for a word no earlier process looked up.

The file is a cache, never trusted beyond its shape: anything unreadable or malformed counts as
empty. It is written whole and atomically, merged with what other processes wrote meanwhile;
where the folder cannot be written the values are kept for this process only.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

#: The most frequent words of a list that :func:`most_frequent` may be asked for.
TOP_WORDS = 150


class _Remembered:
    """One language's remembered values: Zipf frequencies by word form, and its top words."""

    def __init__(self, wordlist: str):
        self.wordlist = wordlist
        self.path = _cache_file(wordlist)
        self.zipf: dict[str, float] = {}
        self.top: list[str] = []
        self.new = False
        if self.path is not None:
            self.zipf, self.top = _read(self.path)

    def lookup(self, forms: set[str]) -> dict[str, float]:
        missing = forms - self.zipf.keys()
        if missing:
            import wordfreq

            self.zipf.update({form: float(wordfreq.zipf_frequency(form, self.wordlist))
                              for form in missing})
            self.new = True
        return {form: self.zipf[form] for form in forms}

    def top_words(self) -> list[str]:
        if len(self.top) < TOP_WORDS:
            import wordfreq

            self.top = list(wordfreq.top_n_list(self.wordlist, TOP_WORDS))
            self.new = True
        return self.top

    def save(self) -> None:
        if not self.new or self.path is None:
            return
        zipf, top = _read(self.path)  # what other processes added meanwhile
        zipf.update(self.zipf)
        data = json.dumps({"zipf": zipf, "top": self.top or top}, ensure_ascii=False,
                          sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent,
                                             prefix=self.path.name, suffix=".tmp",
                                             delete=False) as partial:
                partial.write(data)
            os.replace(partial.name, self.path)
        except OSError:
            self.path = None  # not writable: remember for this process only
            return
        self.new = False


def zipf(forms: set[str], wordlist: str) -> float:
    """The highest Zipf frequency among ``forms`` of one word in ``wordlist``."""
    return max(_remembered(wordlist).lookup(forms).values())


def most_frequent(wordlist: str, count: int) -> frozenset[str]:
    """The ``count`` most frequent words of ``wordlist`` (at most :data:`TOP_WORDS`)."""
    return frozenset(_remembered(wordlist).top_words()[:count])


def save() -> None:
    """Write what this process looked up for the processes after it."""
    for remembered in _by_list.values():
        remembered.save()


#: Each word list this process has used, read from its file once.
_by_list: dict[str, _Remembered] = {}


def _remembered(wordlist: str) -> _Remembered:
    if wordlist not in _by_list:
        _by_list[wordlist] = _Remembered(wordlist)
    return _by_list[wordlist]


def _cache_file(wordlist: str) -> Path | None:
    """The file for ``wordlist``, named by its installed data file; None without a home."""
    spec = find_spec("wordfreq")
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data"
    for kind in ("large", "small"):  # wordfreq's "best" list: the large one where there is one
        try:
            info = (data / f"{kind}_{wordlist}.msgpack.gz").stat()
        except OSError:
            continue
        try:
            root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        except RuntimeError:  # no home folder
            return None
        name = f"zipf-{kind}_{wordlist}-{info.st_size}-{info.st_mtime_ns}.json"
        return root / "handoutkit" / name
    return None


def _read(path: Path) -> tuple[dict[str, float], list[str]]:
    try:
        data = json.loads(path.read_text("utf-8"))
        zipf = {str(word): float(value) for word, value in data["zipf"].items()
                if isinstance(value, (int, float)) and math.isfinite(value)}
        top = [str(word) for word in data["top"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, []
    return zipf, top
