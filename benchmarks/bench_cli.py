"""Whole-process wall time of the quick commands, as a person at a shell feels it.

``evidence meta --csv`` on the BCG data (k = 13, REML) is timed against the floor (``python -c
"import numpy"``) and, when ``Rscript`` with metafor is installed, against metafor on the same file,
so the ratio is measured in the same run on the same machine. Also times ``validate``, ``list`` and
``answer``.

The commands are run in rounds (each command once per round, in turn), not each N times in a row: on
a shared machine the load drifts, and a block of runs per command would put the drift into the ratios.
Per-round ratios are reported too (the median of meta / Rscript within each round), and the CPU time
of each process (user + system), which waiting for a busy core does not inflate.

Usage: ``bench_cli.py [N] [--against DIR]``: median of N rounds (default 7; ``BENCH_REPEAT``
overrides). ``--against DIR`` also times the same commands from another checkout (e.g. ``git archive``
of an earlier commit) in the same rounds, for a before/after table under the same load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CSV = REPO / "tests" / "fixtures" / "bcg_effects.csv"  # equal to ../shared/reference/metafor/dat.bcg.csv
PY = sys.executable
R_CODE = f'library(metafor); d<-read.csv("{CSV}"); print(rma(yi,vi,data=d,method="REML"))'
META, RSCRIPT, FLOOR = "evidence meta --csv bcg", "Rscript metafor rma REML", "python -c 'import numpy'"


def _study(repo: Path) -> str:
    return str(sorted((repo / "studies").glob("*.yaml"))[0])


def evidence_commands(repo: Path) -> dict[str, list[str]]:
    ev = [PY, "-m", "evidence"]
    return {
        META: [*ev, "meta", "--csv", str(repo / "tests" / "fixtures" / "bcg_effects.csv")],
        "evidence validate <one study>": [*ev, "validate", _study(repo)],
        "evidence list": [*ev, "list"],
        "evidence answer cct/child_labour": [*ev, "answer", "--intervention", "conditional_cash_transfer",
                                             "--outcome", "child_labour"],
    }


def commands(against: Path | None = None) -> dict[str, tuple[list[str], Path]]:
    """Label -> (command, the checkout it runs in)."""
    cmds = {FLOOR: ([PY, "-c", "import numpy"], REPO)}
    cmds.update({name: (cmd, REPO) for name, cmd in evidence_commands(REPO).items()})
    if against is not None:
        cmds.update({f"{name} [{against.name}]": (cmd, against) for name, cmd in evidence_commands(against).items()})
    if shutil.which("Rscript") and _run(["Rscript", "-e", "library(metafor)"], REPO) == 0:
        cmds[RSCRIPT] = (["Rscript", "-e", R_CODE], REPO)
    return cmds


def _run(cmd: list[str], repo: Path) -> int:
    env = dict(os.environ, PYTHONPATH=str(repo))
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, timeout=600).returncode


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def time_rounds(cmds: dict[str, tuple[list[str], Path]], n: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall times, CPU times) per command, ``n`` rounds of every command once (a failing command stops
    the run)."""
    wall: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(n):
        for name, (cmd, repo) in cmds.items():
            c0, t0 = _children_cpu(), time.perf_counter()
            rc = _run(cmd, repo)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(_children_cpu() - c0)
            if rc != 0:
                raise SystemExit(f"failed ({rc}): {' '.join(cmd)}")
    return wall, cpu


def _ratio_lines(wall: dict[str, list[float]], cpu: dict[str, list[float]], meta: str) -> list[str]:
    med = {name: statistics.median(t) for name, t in wall.items()}
    lines = [f"ratio {meta} / python+numpy: {med[meta] / med[FLOOR]:.2f}x"]
    if RSCRIPT in wall:
        per_round = statistics.median(a / b for a, b in zip(wall[meta], wall[RSCRIPT]))
        lines.append(f"ratio {meta} / Rscript+metafor: {med[meta] / med[RSCRIPT]:.2f}x of the medians, "
                     f"{per_round:.2f}x median per round (target <= 0.6x); CPU time "
                     f"{statistics.median(cpu[meta]) / statistics.median(cpu[RSCRIPT]):.2f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=7, help="rounds (median of N)")
    parser.add_argument("--against", type=Path, help="another checkout to time in the same rounds")
    args = parser.parse_args()
    n = int(os.environ.get("BENCH_REPEAT") or args.n)
    against = args.against.resolve() if args.against else None
    wall, cpu = time_rounds(commands(against), n)
    print(f"whole-process wall time and CPU time (user + system), median of {n} rounds; load {os.getloadavg()[0]:.1f}")
    print(f"{'command':52s} {'median s':>9s} {'cpu s':>7s}")
    for name, t in wall.items():
        print(f"{name:52s} {statistics.median(t):9.3f} {statistics.median(cpu[name]):7.3f}")
    for line in _ratio_lines(wall, cpu, META):
        print(line)
    if against is not None:
        for line in _ratio_lines(wall, cpu, f"{META} [{against.name}]"):
            print(line)
    if RSCRIPT not in wall:
        print("Rscript with metafor not installed: no R comparison")


if __name__ == "__main__":
    main()
