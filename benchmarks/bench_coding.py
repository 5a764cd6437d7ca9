"""Time the coding page's per-keystroke work on every shipped study: widget state -> study dict, the
check (save text with layout kept + every validation rule) and the effect-size previews; and
reconciling two codings. Prints medians and maxima (ms)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from evidence import config
from evidence.coding import draft, form, reconcile, yamlio


def main() -> None:
    files = sorted(Path(config.STUDIES_DIR).glob("*.yaml"))
    keystroke, cold = [], []
    warm = yamlio.plain(yamlio.parse(files[0].read_text(encoding="utf-8")))  # imports (scipy) out of the timings
    draft.check(warm)
    [draft.preview(e.get("reported") or {}) for e in warm.get("effects") or [{}]]
    for f in files:
        text = f.read_text(encoding="utf-8")
        study = yamlio.plain(yamlio.parse(text))
        st = form.to_state(study)
        t0 = time.perf_counter()
        draft.check(study, text)  # first check of a file: parses it once (cached)
        cold.append(time.perf_counter() - t0)
        if study.get("effects"):
            st[form.key("effects[0].provenance.location")] = "edited"
        t0 = time.perf_counter()
        edited, _ = form.from_state(st, study)
        draft.check(edited, text)
        for e in edited.get("effects") or []:
            draft.preview(e.get("reported") or {}, edited.get("design"))
        keystroke.append(time.perf_counter() - t0)
    ms = lambda xs: f"median {statistics.median(xs) * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms"  # noqa: E731
    print(f"{len(files)} study files in {config.STUDIES_DIR}")
    print(f"open a study (first check): {ms(cold)}")
    print(f"one keystroke (state -> dict, check, previews): {ms(keystroke)}")
    a = yamlio.plain(yamlio.parse(files[0].read_text(encoding="utf-8")))
    b = {**a, "design": {**a["design"], "type": "other"}}
    t0 = time.perf_counter()
    n = int(os.environ.get("BENCH_REPEAT", 0)) or 100  # the suite's smoke run sets 1
    for _ in range(n):
        _ = reconcile.compare(a, b).kappa
    print(f"compare two codings + kappa: {(time.perf_counter() - t0) / n * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
