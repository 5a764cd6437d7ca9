"""Start app replicas and the reverse proxy of ``deploy/nginx.conf`` on loopback, for the replica test
and ``benchmarks/bench_load.py``. Everything runs as a child process on free 127.0.0.1 ports and is
stopped by :meth:`Stack.stop`; nginx runs in the foreground with its own prefix (logs, pid, temp)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from pgserver import free_port

REPO = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: {_tail(proc)}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s: {_tail(proc)}")


def _tail(proc: subprocess.Popen) -> str:
    log = getattr(proc, "log_path", None)
    return Path(log).read_text(errors="replace")[-3000:] if log and Path(log).exists() else ""


#: How a served replica runs: no watching of the source files (Streamlit's default development watcher
#: resolves the path of every imported module after each script run, about a third of a warm rerun's
#: server CPU here; a deployed replica's code does not change under it).
SERVED = ("--server.fileWatcherType", "none", "--server.runOnSave", "false")


def start_app(catalogue: str, port: int, logdir: Path, env: dict | None = None) -> subprocess.Popen:
    """One replica of the explorer on ``port``, reading ``catalogue`` (a SQLite path or a URL)."""
    env = {**os.environ, **(env or {})}
    env.pop("EVIDENCE_CATALOG_PATH", None)
    env["EVIDENCE_CATALOG_URL"] = catalogue
    log = logdir / f"app-{port}.log"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", *SERVED],
                            cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    proc.log_path = log
    return proc


def nginx_conf(listen: int, upstreams: list[int]) -> str:
    """``deploy/nginx.conf`` with its listen port and upstream servers replaced -- nothing else."""
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    conf, n = re.subn(r"listen 127\.0\.0\.1:\d+;", f"listen 127.0.0.1:{listen};", conf)
    assert n == 1, "deploy/nginx.conf: expected one 'listen 127.0.0.1:PORT;'"
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;\n" for p in upstreams)
    conf, n = re.subn(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, conf)
    assert n == 1, "deploy/nginx.conf: expected the upstream's server lines"
    return conf


def start_nginx(listen: int, upstreams: list[int], prefix: Path) -> subprocess.Popen:
    for d in ("logs", "temp"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    # Started as root (CI), nginx's workers run as an unprivileged user ("nobody") and write the static
    # cache under temp/: every directory down to it must let them through (mkdtemp makes it 0700).
    for d in (prefix.parent, prefix, prefix / "temp"):
        d.chmod(0o755)
    (prefix / "nginx.conf").write_text(nginx_conf(listen, upstreams))
    log = prefix / "logs" / "stderr.log"
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr",
                             "-g", "daemon off;"], stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    proc.log_path = log
    return proc


@dataclass
class Stack:
    """``len(catalogues)`` app replicas, and nginx in front of them when ``proxy``."""
    catalogues: list[str]
    proxy: bool = True
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="evidence-replicas-")))
    apps: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    proxy_port: int | None = None

    def start(self) -> Stack:
        try:
            for cat in self.catalogues:
                port = free_port()
                self.ports.append(port)
                self.apps.append(start_app(cat, port, self.root))
            for port, proc in zip(self.ports, self.apps):
                wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc)
            if self.proxy:
                self.proxy_port = free_port()
                self.nginx = start_nginx(self.proxy_port, self.ports, self.root / "nginx")
                wait_http(f"{self.url}/_stcore/health", self.nginx, 30)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}" if self.proxy else f"http://127.0.0.1:{self.ports[0]}"

    def stop(self) -> None:
        for proc in [self.nginx, *self.apps]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [self.nginx, *self.apps]:
            if proc is not None:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
