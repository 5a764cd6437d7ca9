"""Text from the catalogue or an upload, made safe for the page: Markdown escaped, links only for
checked http(s) addresses."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$:])")


def md(text) -> str:
    """Escape Markdown (and the HTML Streamlit's Markdown would render) in text from data."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def is_web_link(value) -> bool:
    """Only http(s) addresses become clickable links (no javascript:, file: or relative paths)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))
