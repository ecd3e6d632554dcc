"""handoutkit: plain-language patient handouts from content sources and gettext catalogs.

The build flow, one module per stage:

    content  → load and validate ``handouts/<topic>/handout.yaml``
    plan     → pick the topic × language × level × paper documents to make
    catalog  → read ``locales/<lang>/LC_MESSAGES/*.po``; translate by message context
    readability → score the printed text against the level's target
    render   → Jinja2 HTML, then WeasyPrint PDF through a fetcher that loads only our assets
    verify   → check the PDF (pages, glyphs) before it may be written
    output   → write atomically and record it in ``build/manifest.json``

``build.build_documents`` runs the flow; ``cli`` is a thin layer over it.
"""

__version__ = "0.1.0"
