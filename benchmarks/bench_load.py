"""Many readers at once: N concurrent sessions on one app server, then on two replicas behind
``deploy/nginx.conf``, each walking the adviser's path. Sessions are protocol-level clients by default
(:class:`ProtocolSession`: Streamlit's websocket with the BackMsg / ForwardMsg messages a browser sends, so 20
sessions do not need 20 browsers on the server's 2 cores and the figures are the server's capacity), or
real headless Chromium pages (``--client chromium``: what a person sees, client rendering included):

  1. open the gap map page (until its numbers are shown),
  2. change a filter (region: Latin America & Caribbean; until the numbers change),
  3. open the cell on What works (button; until the page's chart is drawn).

Two load models, each printed as its own table:

* realistic: people do not all arrive in the same instant nor click the instant a page has drawn. Session
  starts are spread uniformly at random over a ramp (``--ramp``, 20 s by default: N arrivals in 20 s), and
  before each of steps 2 and 3 a session waits a think time drawn from an exponential distribution with
  mean ``--think-mean`` (5 s by default; load-testing practice models think times as exponential with a
  mean of a few seconds, a reader glancing at a map before the next click). Draws are seeded (``--seed``),
  so every run -- and the before/after comparison -- replays the same arrivals and pauses;
* worst case: all N sessions start at once and click the instant the previous step is over (no think time).

Prints p50/p95 latency per step for N = 1, 5, 20 (N = 1 is repeated three times so its percentiles
mean something), the ratio of each p95 to N = 1's under the same model, measured in the same run, and the
server's memory per open session (RSS growth of the app process(es) with all N sessions open, divided by N).

    .venv/bin/python benchmarks/bench_load.py            # N = 1, 5, 20; realistic and worst case; one server and two replicas
    .venv/bin/python benchmarks/bench_load.py --quick    # smoke run: N = 1, one server, worst case
    .venv/bin/python benchmarks/bench_load.py --think 2  # a fixed 2 s between steps, printed with the worst case
    .venv/bin/python benchmarks/bench_load.py --model realistic --think-mean 8 --ramp 30
    .venv/bin/python benchmarks/bench_load.py --client chromium   # real browsers (they share the server's CPU)
    .venv/bin/python benchmarks/bench_load.py --catalog postgresql+psycopg://reader@host/evidence
    .venv/bin/python benchmarks/bench_load.py --postgres  # a throw-away PostgreSQL 15 (tests/pgserver.py): built as
                                                          # the owner role, every replica reading as the read-only role

Loopback only; every wait is bounded (STEP_TIMEOUT_MS) and the servers are stopped at the end. With
``--client chromium`` the browsers run on the same machine as the servers: at N = 20 on two cores they
compete for CPU, so those figures are an upper bound on what the server alone would cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the same replica launcher the replica test uses

from app_catalogue import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from replicas import Stack  # noqa: E402

from evidence.catalog.target import display as target_display  # noqa: E402

STEP_TIMEOUT_MS = 180_000
STEPS = ("gap map", "filter", "what works")
REGION = "Latin America"
OPEN_BUTTON = "Open the full answer in What works"  # the gap map's one-click button


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def metrics_text(page) -> str:
    return "|".join(await page.locator("[data-testid='stMetric']").all_inner_texts())


async def adviser(browser, url: str, pauses: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> tuple[dict[str, float], object]:
    """One session's path; returns the seconds per step and the still-open context (closed later, so
    all N sessions are alive when memory is read). ``pauses``: seconds before the session starts, and
    before steps 2 and 3 (:class:`Load`)."""
    await asyncio.sleep(pauses[0])
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    times = {}
    t0 = time.perf_counter()
    await page.goto(url + "/gap-map")
    await page.locator("[data-testid='stMetric']").first.wait_for()
    await page.wait_for_function("document.querySelectorAll(\"[data-testid='stMetric']\").length >= 3")
    times["gap map"] = time.perf_counter() - t0
    await asyncio.sleep(pauses[1])

    before = await metrics_text(page)
    t0 = time.perf_counter()
    box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
    await box.click()
    await page.keyboard.type(REGION)
    await page.keyboard.press("Enter")
    await page.keyboard.press("Escape")
    await page.wait_for_function(
        "old => Array.from(document.querySelectorAll(\"[data-testid='stMetric']\")).map(e => e.innerText).join('|') !== old",
        arg=before)
    times["filter"] = time.perf_counter() - t0
    await asyncio.sleep(pauses[2])

    t0 = time.perf_counter()
    await page.get_by_role("button", name="Open the full answer in What works").click()
    await page.wait_for_url("**/what-works**")
    await page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    times["what works"] = time.perf_counter() - t0
    return times, ctx


async def wave(url: str, n: int, pids: list[int], client: str = "chromium", pauses: list | None = None
               ) -> tuple[list[dict], float, float]:
    """N sessions, session i waiting ``pauses[i]`` (:meth:`Load.pauses`; none: all at once, no think
    time); returns their step times, the RSS growth (MB) with all of them open and the server CPU
    seconds they used."""
    pauses = pauses or [(0.0, 0.0, 0.0)] * n
    if client == "protocol":
        base, cpu0 = sum(rss_mb(pid) for pid in pids), sum(cpu_s(pid) for pid in pids)
        results = await asyncio.gather(*(protocol_adviser(url, p) for p in pauses))
        await asyncio.sleep(1.0)
        grown, cpu = sum(rss_mb(pid) for pid in pids) - base, sum(cpu_s(pid) for pid in pids) - cpu0
        for _, sess in results:
            await sess.__aexit__()
        return [t for t, _ in results], grown, cpu
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM,
                                          args=CHROMIUM_ARGS)
        try:
            base, cpu0 = sum(rss_mb(pid) for pid in pids), sum(cpu_s(pid) for pid in pids)
            results = await asyncio.gather(*(adviser(browser, url, p) for p in pauses))
            await asyncio.sleep(1.0)
            grown = sum(rss_mb(pid) for pid in pids) - base
            cpu = sum(cpu_s(pid) for pid in pids) - cpu0
            for _, ctx in results:
                await ctx.close()
        finally:
            await browser.close()
    return [t for t, _ in results], grown, cpu


class ProtocolSession:
    """One explorer session spoken at the protocol level: Streamlit's websocket (``/_stcore/stream``) with
    the ``streamlit.proto`` BackMsg / ForwardMsg messages the browser exchanges. It sends the same page
    reruns and widget values a browser sends (the widget ids are read from the elements the server
    sends) and a step ends when the server reports the script finished (not a rerun it cut short); no
    page is drawn, so 20 sessions cost the client almost nothing and the figures are the server's."""

    def __init__(self, url: str):
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.widgets: dict[str, tuple[str, object]] = {}  # id -> (proto field, value), resent on every rerun
        self.elements: dict[str, object] = {}  # label -> the widget's element proto (last run)
        self.fragments: dict[str, str] = {}  # label -> id of the st.fragment the widget is in ("" if none)
        self.page_hash = ""
        self.page_name = "gap-map"  # the adviser starts on the gap map (the default page is "Start here")
        self.ws = None

    async def __aenter__(self):
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def rerun(self, **widgets: tuple[str, object]) -> int:
        """Send one rerun (with every widget value set so far plus ``widgets``, keyed by label) and read
        the server's messages until the run is over; returns the number of elements received."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        cs = msg.rerun_script
        for label, value in widgets.items():
            self.widgets[self.elements[label].id] = value
            if self.fragments.get(label):  # a widget inside st.fragment reruns only its fragment, as in a browser
                cs.fragment_id = self.fragments[label]
        cs.page_script_hash = self.page_hash
        if not self.page_hash and self.page_name:
            cs.page_name = self.page_name  # the first run opens this page (as a browser does from its URL)
        for wid, (kind, value) in self.widgets.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            if kind == "string_array_value":
                w.string_array_value.data.extend(value)
            else:
                setattr(w, kind, value)
        await self.ws.send(msg.SerializeToString())
        self.widgets = {k: v for k, v in self.widgets.items() if v[0] != "trigger_value"}  # triggers fire once
        n = 0
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self.ws.recv(), STEP_TIMEOUT_MS / 1000))
            kind = fm.WhichOneof("type")
            if kind == "new_session" and not self.page_hash:
                self.page_hash = fm.new_session.page_script_hash
            elif kind == "navigation":  # the page that is running (st.navigation), as the browser tracks it
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                n += 1
                el = getattr(fm.delta.new_element, fm.delta.new_element.WhichOneof("type"))
                if hasattr(el, "label") and hasattr(el, "id"):
                    self.elements[el.label] = el
                    self.fragments[el.label] = fm.delta.fragment_id
            elif kind == "page_not_found":
                raise RuntimeError(f"page not found: {fm.page_not_found.page_name}")
            elif kind == "script_finished" and fm.script_finished != fm.FINISHED_EARLY_FOR_RERUN:
                return n


async def protocol_adviser(url: str, pauses: tuple[float, float, float] = (0.0, 0.0, 0.0)
                           ) -> tuple[dict[str, float], object]:
    """The adviser's path over the protocol (see :class:`ProtocolSession`); ``pauses``: seconds before the
    session starts, and before steps 2 and 3 (:class:`Load`)."""
    await asyncio.sleep(pauses[0])
    s = await ProtocolSession(url).__aenter__()
    times = {}
    t0 = time.perf_counter()
    await s.rerun()
    times["gap map"] = time.perf_counter() - t0
    await asyncio.sleep(pauses[1])
    region = next(o for o in s.elements["Region"].options if o.startswith(REGION))
    t0 = time.perf_counter()
    await s.rerun(Region=("string_array_value", [region]))
    times["filter"] = time.perf_counter() - t0
    await asyncio.sleep(pauses[2])
    gap_page = s.page_hash
    t0 = time.perf_counter()
    await s.rerun(**{OPEN_BUTTON: ("trigger_value", True)})
    times["what works"] = time.perf_counter() - t0
    if s.page_hash == gap_page:
        raise RuntimeError(f"the '{OPEN_BUTTON}' button did not switch page")
    return times, s


SESSION = {
    "protocol": ("each session: a new websocket to /_stcore/stream; (1) first run of the gap-map page (page_name gap-map), until "
                 "the script finished; (2) rerun with the Region multiselect set to Latin America & Caribbean; (3) rerun "
                 "with the 'Open the full answer in What works' button triggered, until the What-works page's run finished (st.switch_page)"),
    "chromium": ("each session: a new Chromium context; (1) open the gap map until its 3 metrics show; (2) pick Region "
                 "Latin America & Caribbean until the metrics change; (3) click 'Open the full answer in What works' until its chart draws"),
}


@dataclass(frozen=True)
class Load:
    """How N sessions arrive and pause: starts spread uniformly at random over ``ramp`` seconds, and an
    exponential think time of mean ``think_mean`` before steps 2 and 3 (``fixed_think``: that many seconds
    instead); all zero is the worst case. The first session starts at once. Seeded: the same (seed, N, repeat) gives the same pauses."""
    name: str
    ramp: float = 0.0
    think_mean: float = 0.0
    fixed_think: float = 0.0
    seed: int = 1

    def pauses(self, n: int, repeat: int = 0) -> list[tuple[float, float, float]]:
        rng = random.Random(f"{self.seed}/{n}/{repeat}")
        think = (lambda: rng.expovariate(1 / self.think_mean)) if self.think_mean > 0 else (lambda: self.fixed_think)
        starts = [rng.uniform(0, self.ramp) for _ in range(n)]
        first = min(starts)  # the clock starts with the first arrival (N = 1 waits for nothing)
        return [(start - first, think(), think()) for start in starts]

    def describe(self) -> str:
        if self.think_mean > 0 or self.ramp > 0:
            return (f"{self.name}: starts uniform over a {self.ramp:g} s ramp, think time exponential with mean "
                    f"{self.think_mean:g} s before steps 2 and 3 (seed {self.seed})")
        if self.fixed_think > 0:
            return f"{self.name}: all sessions start at once, {self.fixed_think:g} s between steps"
        return f"{self.name}: all sessions start at once, no think time"


WORST = Load("worst case")


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    if len(v) == 1:
        return v[0]
    return statistics.quantiles(v, n=100, method="inclusive")[int(q) - 1]


def measure(stack: Stack, levels: list[int], label: str, client: str = "chromium", load: Load = WORST,
            warm: bool = True) -> dict:
    pids = [p.pid for p in stack.apps]
    # warm-up of each replica on its own port (through the proxy, two warm-up sessions may both land on
    # one replica and leave the other cold for the measured N = 1): imports, first queries, st.cache_data
    for port in stack.ports if warm else ():
        asyncio.run(wave(f"http://127.0.0.1:{port}", 1, pids, client))
    out = {}
    for n in levels:
        runs, grown, cpu = [], [], []
        for repeat in range(3 if n == 1 else 1):
            t, g, c = asyncio.run(wave(stack.url, n, pids, client, load.pauses(n, repeat)))
            runs += t
            grown.append(g / n)
            cpu.append(c / n)
        out[n] = {"steps": {s: [r[s] for r in runs] for s in STEPS}, "mb_per_session": statistics.median(grown),
                  "rss_mb": sum(rss_mb(pid) for pid in pids), "cpu_per_session": statistics.median(cpu)}
    print(f"\n{label}: {stack.url} ({len(stack.apps)} app process{'es' if len(stack.apps) > 1 else ''}); "
          f"{client} clients; {load.describe()}")
    print(f"{'N':>3} {'step':<11} {'p50 ms':>8} {'p95 ms':>8} {'p95 / N=1':>10}")
    for n, r in out.items():
        for s in STEPS:
            v = [1000 * x for x in r["steps"][s]]
            ref = pct([1000 * x for x in out[levels[0]]["steps"][s]], 95)
            print(f"{n:>3} {s:<11} {pct(v, 50):8.0f} {pct(v, 95):8.0f} {pct(v, 95) / ref:9.2f}x")
        print(f"{n:>3} memory: {r['mb_per_session']:.1f} MB per session (server RSS {r['rss_mb']:.0f} MB); "
              f"server CPU {r['cpu_per_session']:.2f} s per session")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 1 on one server only (worst case unless --model)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--catalog", default=str(REPO / "evidence" / "catalog.db"),
                       help="catalogue the servers read (SQLite path or URL; default: the shipped catalog.db)")
    where.add_argument("--postgres", action="store_true",
                       help="start a throw-away PostgreSQL (tests/pgserver.py), `evidence build` into it as the owner role, "
                            "and serve it with the read-only role (the team path); instead of --catalog")
    ap.add_argument("--client", choices=("protocol", "chromium"), default="protocol",
                    help="protocol: websocket sessions without a browser (the server's capacity); chromium: real browsers")
    ap.add_argument("--model", choices=("both", "realistic", "worst"), default=None,
                    help="load model(s) to print (default: both; worst with --quick or --think)")
    ap.add_argument("--think-mean", type=float, default=5.0, help="realistic model: mean think time (s), exponential")
    ap.add_argument("--ramp", type=float, default=20.0, help="realistic model: session starts spread over this many seconds")
    ap.add_argument("--seed", type=int, default=1, help="realistic model: seed of the arrivals and think times")
    ap.add_argument("--think", type=float, default=0.0,
                    help="a fixed think time (s) between steps, all sessions at once; printed with the worst case")
    args = ap.parse_args(argv)
    if args.client == "chromium" and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    levels = [1] if args.quick else [1, 5, 20]
    model = args.model or ("worst" if args.quick or args.think > 0 else "both")
    realistic = Load("realistic", ramp=args.ramp, think_mean=args.think_mean, seed=args.seed)
    loads = {"both": [realistic, WORST], "realistic": [realistic], "worst": [WORST]}[model]
    if args.think > 0:
        loads = [Load(f"fixed think time {args.think:g} s", fixed_think=args.think), *loads]
    with postgres_catalogue() if args.postgres else contextlib.nullcontext(args.catalog) as catalog:
        return run(args, catalog, levels, loads)


@contextlib.contextmanager
def postgres_catalogue():
    """A throw-away PostgreSQL server with the catalogue built into it by ``evidence build --catalog`` as
    the owner role; yields the read-only role's URL (what the app replicas connect as)."""
    import subprocess

    from pgserver import PgServer, available

    why = available()
    if why:
        raise SystemExit(f"bench_load --postgres: {why}")
    pg = PgServer().start()
    try:
        owner, reader = pg.create_database("evidence_load")
        built = subprocess.run([sys.executable, "-m", "evidence.cli.main", "build", "--catalog", owner], cwd=REPO,
                               capture_output=True, text=True, timeout=600)
        if built.returncode:
            raise SystemExit(f"bench_load --postgres: evidence build failed:\n{built.stdout}{built.stderr}")
        yield reader
    finally:
        pg.stop()


def run(args, catalog: str, levels: list[int], loads: list[Load]) -> int:
    """The measurements and their tables, on ``catalog`` (a path or URL the servers read)."""
    print(f"catalogue: {target_display(catalog)}; levels N = {levels}; step timeout {STEP_TIMEOUT_MS / 1000:.0f} s")
    print(SESSION[args.client])
    results = {}
    one = Stack([catalog], proxy=False).start()
    try:
        for i, load in enumerate(loads):
            results["one", load.name] = measure(one, levels, "one server", args.client, load, warm=i == 0)
    finally:
        one.stop()
    if not args.quick:
        two = Stack([catalog, catalog]).start()
        try:
            for i, load in enumerate(loads):
                results["two", load.name] = measure(two, levels, "two replicas behind nginx", args.client, load, warm=i == 0)
        finally:
            two.stop()
        print("\ntarget: p95 at N = 20 within 3x of N = 1 on one server")
        for stack, name in ("one", "one server"), ("two", "two replicas"):
            for load in loads:
                r = results[stack, load.name]
                worst = max(pct(r[20]["steps"][s], 95) / pct(r[1]["steps"][s], 95) for s in STEPS)
                met = "met" if worst <= 3 else "NOT met"
                print(f"  {name}, {load.name}: worst step {worst:.2f}x ({met if stack == 'one' else 'for comparison'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
