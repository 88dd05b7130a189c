"""What every HTML report shares: the page name, JSON islands, relative links and the inlined JS/CSS assets.

Pages stay single offline files: the JavaScript and CSS live as package files in `reports/assets/` (linted by
tests/test_report_assets.py) and are copied into the page's `<script>` and `<style>` elements when it is built.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote

from motiflens.core.records import SymbolRole

PAGE_NAME = "report.html"

#: Symbol roles in the order the pages draw them (from the record's type, so a new role shows up here).
ROLES: tuple[str, ...] = get_args(SymbolRole)

# Inside <script> the HTML parser only looks for "</script" and "<!--"; escaping every <, > and & makes both
# impossible. U+2028/2029 are escaped because older JS engines treat them as line ends inside string literals.
_SCRIPT_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)

# Per asset kind: the element it is inlined into, and what would end that element early (or, "<!--" in a script,
# change how the HTML parser reads it).
_ELEMENTS = {"js": ("script", re.compile(r"</script|<!--", re.I)), "css": ("style", re.compile(r"</style", re.I))}


def escape(value: Any) -> str:
    """`str(value)` escaped for HTML text and quoted attribute values."""
    return html.escape(str(value), quote=True)


def json_for_script(value: Any) -> str:
    """JSON text that is safe inside `<script type="application/json">` and parses back to `value`."""
    # allow_nan=False: NaN/Infinity would be written as bare words that JSON.parse rejects.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(
        _SCRIPT_JSON_ESCAPES
    )


def relative_href(folder: Path, target: Path) -> str:
    """A relative URL from `folder` to `target`, percent-encoded so spaces, '#', '?' and quotes survive."""
    relative = os.path.relpath(target.resolve(), folder.resolve())
    return "/".join(quote(part) for part in Path(relative).parts)


def check_asset(name: str, text: str) -> str:
    """`text` when it can be inlined as the asset `name` unchanged; ValueError when it would break its element."""
    element, breaker = _ELEMENTS[name.rsplit(".", 1)[-1]]
    found = breaker.search(text)
    if found:
        raise ValueError(f"reports/assets/{name}: {found.group()!r} would break its <{element}> element")
    return text


@functools.cache
def asset(name: str) -> str:
    """The text of `reports/assets/<name>` (e.g. "video_page.js"), checked to be safe to inline."""
    return check_asset(name, resources.files("motiflens.reports").joinpath("assets", name).read_text(encoding="utf-8"))


def inline_asset(name: str) -> str:
    """The `<script>` or `<style>` element (by the file's extension) that holds the asset `name`."""
    element = _ELEMENTS[name.rsplit(".", 1)[-1]][0]
    return f"<{element}>\n{asset(name)}</{element}>"
