"""A throw-away PostgreSQL 15 server for the tests: initdb + pg_ctl in a temporary directory, on a free
loopback port, with a database, an owner role (what ``evidence build`` connects as) and a read-only
role (what the app connects as).

Why real: the PostgreSQL paths (schema swap, advisory lock, read-only role, connection errors) are
exactly the parts SQLite cannot exercise. initdb refuses to run as root, so when the tests run as
root (CI here) the server runs as the ``postgres`` user via ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(os.environ.get("EVIDENCE_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER, OWNER_PW = "evidence_owner", "owner-pw"
READER, READER_PW = "evidence_reader", "reader-pw"
DB = "evidence"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> str | None:
    """None when a server can be started here, else why not."""
    if not (BIN / "initdb").exists():
        return f"PostgreSQL binaries not found in {BIN} (apt-get install postgresql; bash dev.sh test does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no 'postgres' user to run the server as"
    return None


@dataclass
class PgServer:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="evidence-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, user: str = OWNER, password: str | None = None, db: str = DB) -> str:
        pw = {OWNER: OWNER_PW, READER: READER_PW}.get(user) if password is None else password
        auth = f"{user}:{pw}@" if pw else f"{user}@"
        return f"postgresql+psycopg://{auth}127.0.0.1:{self.port}/{db}"

    @property
    def owner_url(self) -> str:
        return self.url(OWNER)

    @property
    def reader_url(self) -> str:
        return self.url(READER)

    def _as_postgres(self, *cmd: str, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        argv = [str(c) for c in cmd]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=timeout, **kw)

    def start(self) -> PgServer:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            self._as_postgres(BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        self.pg_ctl("start", "-w", "-t", "60", "-l", self.root / "server.log",
                    "-o", f"-k {self.root} -h 127.0.0.1 -p {self.port} -c fsync=off -c full_page_writes=off")
        if not getattr(self, "_ready", False):
            self.psql(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{OWNER_PW}'",
                      f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PW}'")
            self.create_database(DB)
            self._ready = True
        return self

    def create_database(self, name: str) -> tuple[str, str]:
        """A database owned by the owner role, readable by the reader role (as docs/deploy.md sets one
        up); returns its (owner URL, reader URL). One per test module keeps modules independent."""
        self.psql(f"CREATE DATABASE {name} OWNER {OWNER}")
        self.psql(f"ALTER SCHEMA public OWNER TO {OWNER}", "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                  f"GRANT USAGE ON SCHEMA public TO {READER}",
                  f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} GRANT SELECT ON TABLES TO {READER}", db=name)
        return self.url(OWNER, db=name), self.url(READER, db=name)

    def pg_ctl(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        return self._as_postgres(BIN / "pg_ctl", "-D", self.data, *args, check=check)

    def psql(self, *statements: str, db: str = "postgres") -> str:
        """Run statements as the superuser over the server's Unix socket; returns the output."""
        argv = [BIN / "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", self.root, "-p", str(self.port),
                "-U", "postgres", "-d", db]
        for s in statements:
            argv += ["-c", s]
        return self._as_postgres(*argv).stdout.strip()

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash, not a shutdown); :meth:`start` recovers."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # its backends notice the postmaster died and exit

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
