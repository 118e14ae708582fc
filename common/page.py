"""The page where a person types a review and sees what the model makes of it.

One page, web/page.html, for both ways of running it: served by serve.py, it asks the
server (`:explain`); written by make_page.py, it brings the model, onnxruntime-web and
the JavaScript tokenizer as scripts of its own and runs the model itself, with no server.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
PAGE_FILE = WEB / "page.html"


def page_html(model_name: str, scripts: Sequence[str] = (), head: str = "") -> str:
    """The page for the model `model_name`, loading `scripts` (paths relative to the page)
    before its own, with `head` (HTML) in its head: neither for serve.py; the model, its
    runtime and a policy for make_page.py."""
    tags = "\n".join(f'<script src="{html.escape(src)}"></script>' for src in scripts)
    return (
        PAGE_FILE.read_text(encoding="utf-8")
        .replace("<!--{{HEAD}}-->", head)
        .replace("<!--{{SCRIPTS}}-->", tags)
        .replace("{{MODEL}}", json.dumps(model_name).replace("<", "\\u003c"))  # safe in <script>
    )
