"""What works' "For my context" is an ``st.fragment``: a change of one of its controls reruns only the
fragment. Spoken over Streamlit's own websocket protocol (``benchmarks/bench_load.py:ProtocolSession``,
the messages a browser sends, the fragment's id included), against a served explorer: the fragment's
rerun sends a fraction of the elements the full page sends (the control and its answer)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_context_control_reruns_only_its_fragment():
    from bench_load import ProtocolSession
    from replicas import Stack

    async def walk(url: str) -> tuple[int, int]:
        s = await ProtocolSession(url).__aenter__()
        try:
            s.page_name = "what-works"
            full = await s.rerun()
            label = next(lb for lb in ("Sex", "Age band") if lb in s.elements and len(s.elements[lb].options) > 1)
            assert s.fragments[label], f"'{label}' is not inside a fragment"
            value = s.elements[label].options[1]
            part = await s.rerun(**{label: ("string_value", value)})
            assert s.fragments[label], "the fragment's rerun drew the control outside it"
            return full, part
        finally:
            await s.__aexit__()

    stack = Stack([str(REPO / "evidence" / "catalog.db")], proxy=False).start()
    try:
        full, part = asyncio.run(walk(stack.url))
    finally:
        stack.stop()
    assert full > 40 and 0 < part < full / 3, (full, part)  # the page's charts, metrics and tables are not resent
