"""Does every standard document the print desk offers fit its page limit?

Renders each topic × language × region (and the neutral leaflet) × paper at the standard
level through the real pipeline (compact fallback included) and lists those refused.
Not a timed test: it takes a few minutes. Run from the project root:

    .venv/bin/python bench/fit.py [TOPIC ...]
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from handoutkit import PAPERS, BuildOptions, DocumentRefused, Job, Project, render_pdf
from handoutkit.builder import default_jobs
from handoutkit.regions import region_codes

PROJECT = Project.find()


def fit(job: Job) -> tuple[Job, int, bool, list[str]]:
    options = BuildOptions(out_dir=Path("unused"), allow_hard=True)
    try:
        _, result = render_pdf(PROJECT, job, options=options)
    except DocumentRefused as refused:
        return job, 0, False, refused.result.problems
    compact = any("compact" in warning for warning in result.warnings)
    return job, result.pages, compact, []


def main(topics: list[str]) -> int:
    jobs = [Job(topic, lang, "standard", paper, region)
            for topic in topics or PROJECT.handout_ids()
            for lang in PROJECT.topic_languages(topic)
            for region in [None, *region_codes(PROJECT.handouts_dir)]
            for paper in PAPERS]
    with ProcessPoolExecutor(default_jobs()) as pool:
        results = list(pool.map(fit, jobs))
    refused = [(job, problems) for job, _, _, problems in results if problems]
    compact = [job for job, _, was_compact, _ in results if was_compact]
    for job, problems in refused:
        print(f"REFUSED {job}: {problems[0].splitlines()[0]}")
    for job in compact:
        print(f"compact {job}")
    print(f"{len(results)} standard documents: {len(results) - len(refused)} fit, "
          f"{len(compact)} of them set compact, {len(refused)} refused")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
