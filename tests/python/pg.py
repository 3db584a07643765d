"""A real PostgreSQL for the team-store tests.

`scripts/test.sh` starts one server (`scripts/pg.sh`) and exports $PROV_TEST_PG (its URL, no
password) and $PGPASSFILE (where libpq finds the password). Each test gets a database of its own
on it (`conftest.py`'s `pg_db` fixture), so tests never see each other's trials. Without
$PROV_TEST_PG a throwaway server is started here (and stopped at the end); under CI=true a missing
server is a failure, never a skip.

A test that must stop and restart a server (the team store going down under a running kernel)
starts a private one with `PrivateServer`, so the shared server stays up for everyone else.

SQL goes through `psql` (installed with the server), as any operator would run it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_SH = REPO_ROOT / "scripts" / "pg.sh"


def psql_binary() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None)
    if found is None:
        raise RuntimeError("psql is missing (apt-get install postgresql-client)")
    return found


def with_database(url: str, database: str) -> str:
    """`url` naming another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@dataclass
class Server:
    """A PostgreSQL server: its URL (of the `postgres` database) and the password file."""

    url: str
    passfile: Path

    def env(self) -> dict[str, str]:
        """What a process needs in its environment to connect (the password file)."""
        return {"PGPASSFILE": str(self.passfile)}

    def sql(self, query: str, database: str | None = None) -> list[list[str]]:
        """Runs `query`; its rows, each a list of column texts."""
        url = with_database(self.url, database) if database else self.url
        result = subprocess.run(
            [psql_binary(), "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
             "-d", url, "-c", query],
            capture_output=True, text=True, timeout=60, env=dict(os.environ, **self.env()),
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed on {query!r}: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def create_database(self) -> "Database":
        name = f"prov_test_{uuid.uuid4().hex[:12]}"
        self.sql(f"CREATE DATABASE {name}")
        return Database(self, name)


@dataclass
class Database:
    """One test's own database on a server."""

    server: Server
    name: str

    @property
    def url(self) -> str:
        return with_database(self.server.url, self.name)

    def sql(self, query: str) -> list[list[str]]:
        return self.server.sql(query, self.name)

    def drop(self) -> None:
        self.server.sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def pg_sh(*args: str) -> str:
    result = subprocess.run(["bash", str(PG_SH), *args], capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/pg.sh {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


class PrivateServer:
    """A server of one test's own (scripts/pg.sh in a temporary folder), to stop and start."""

    def __init__(self) -> None:
        # Not under pytest's 0700 temporary folders: the server runs as `nobody` when we are
        # root, and must reach its folder.
        self.dir = Path(tempfile.mkdtemp(prefix="prov-pg-"))
        url = pg_sh("start", str(self.dir)).strip()
        self.server = Server(url, self.dir / "pgpass")

    def stop(self) -> None:
        pg_sh("stop", str(self.dir))

    def start(self) -> None:
        pg_sh("start", str(self.dir))

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def shared_server() -> tuple[Server | None, PrivateServer | None, str]:
    """The session's server: $PROV_TEST_PG, else one started here (None outside CI when that
    fails, with the reason)."""
    url = os.environ.get("PROV_TEST_PG")
    if url:
        passfile = os.environ.get("PGPASSFILE") or str(Path.home() / ".pgpass")
        return Server(url, Path(passfile)), None, ""
    try:
        private = PrivateServer()
    except Exception as e:  # no server binaries and no way to install them, here
        return None, None, f"no PostgreSQL: $PROV_TEST_PG is unset and scripts/pg.sh failed ({e})"
    return private.server, private, ""
