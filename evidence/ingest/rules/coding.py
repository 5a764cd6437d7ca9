"""Validation rules for double coding and guided risk of bias, registered in ``evidence validate``.

Registered like the statistical and taxonomy rules. What they check is defined upstream: the folder
of second codings in ``evidence.config``, the risk-of-bias algorithms in ``evidence.rob`` (the coding
page, ``evidence.coding``, uses the same ones).
"""

from __future__ import annotations

from pathlib import Path

from evidence.config import SECOND_CODING_DIR
from evidence.ingest.rules.base import d, rule
from evidence.rob import assessment_problems


def second_codings(study_path: Path | str, study_id: str) -> list[Path]:
    """The second coders' files for a study: ``<studies>/second-coding/<id>.<coder>.yaml``."""
    folder = Path(study_path).parent / SECOND_CODING_DIR
    return sorted(folder.glob(f"{study_id}.*.yaml")) if folder.is_dir() else []


@rule("second-coding-reconciled", "A study with a second coder's file has been reconciled (coding.reconciled).")
def _reconciled(study, ctx):
    sid = d(study).get("id")
    if ctx.file_stem is None or not isinstance(sid, str) or sid != ctx.file_stem:
        return  # a sheet row, or a misnamed file (reported by filename-id)
    files = second_codings(ctx.path, sid)
    coding = d(d(study).get("coding"))
    if files and (coding.get("reconciled") is not True or not coding.get("second_coder")):
        names = ", ".join(f.name for f in files)
        yield ctx.problem(("coding", "reconciled"), f"a second coding exists ({names}) but was never reconciled",
                          f"run: evidence reconcile {Path(ctx.path).name} {SECOND_CODING_DIR}/{files[0].name}")


@rule("rob-override", "A risk-of-bias judgement that differs from the tool's algorithm gives its reason.")
def _override(study, ctx):
    rob = d(d(study).get("risk_of_bias"))
    for loc, message, hint in assessment_problems(rob):
        yield ctx.problem(loc, message, hint)
