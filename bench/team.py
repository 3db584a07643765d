"""A team store on PostgreSQL at scale (issue 17, point 5): optional, several minutes long.

Not in the default run: `bash scripts/bench.sh --team` adds it to a full run (BENCHMARKS.md is
rewritten with its rows), `--only team` runs it alone.  What it does:

1. Starts a throwaway PostgreSQL (`scripts/pg.sh`, a cluster under bench/out/team/) and makes
   the synthetic team store once per hash of the sources that decide its bytes: real trials
   pushed by the real `provctl push` (synth_diff's two trials of 5,000 executions, recorded
   through provstore as a kernel records them, with their bundles), then 100 users x 1,000
   trials x 100 executions filled in SQL (`INSERT … SELECT generate_series`) into
   `prov_trials`, `prov_executions` and `prov_values`.  These clones have no bundle: they
   serve the cross-trial queries (the list, `values`), which never read bundles.
2. Times whole `provctl` processes against it, in turn: the first page of `trials --remote`,
   `values acc --remote` over every trial, `diff` of the two pushed trials, and `push` of a
   5,000-execution trial (its remote row deleted, untimed, before each run).
3. Saves the plans PostgreSQL ran for the reads (auto_explain, EXPLAIN ANALYZE of each
   statement of the real binary) to bench/out/team-explain.txt.

Until `provctl` reads remotes (team-read), the list and values rows time the design's SQL
through `psql` instead and say so in their note; the diff is then not measured (the size row
says so).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

from benchmarks import OUT_DIR, PROVCTL, REPO_ROOT, need_binary, source_hash, timed_process
from harness import BenchError, Context, Row, benchmark, median, prov_row
from million import ms_rows, time_rounds

PG_SH = REPO_ROOT / "scripts" / "pg.sh"
SYNTH_DIFF = REPO_ROOT / "target" / "release" / "examples" / "synth_diff"
DATABASE = "prov_team_bench"
REMOTE = "team"
EXPLAIN_FILE = OUT_DIR / "team-explain.txt"
# What decides the team store's contents: this file (the SQL fill), the push and the PostgreSQL
# schema (provteam), the bundle (provstore), the real trials' generator.
TEAM_SOURCES = ["bench/team.py", "team/src", "provstore/src", "provstore/examples/synth_diff.rs",
                "provstore/examples/common"]
# The variable every clone captures twice (a tagged score), the cross-trial query's subject.
VALUE = "acc"

# The clones, in one transaction with foreign-key triggers off (session_replication_role: the
# rows are consistent by construction, and the checks would double the time).  psql variables:
# base (largest real team id), users, per_user, execs, schema (the bundles' store version).
# Trial g (1-based) belongs to user (g * 7919) mod users, so each user gets exactly per_user
# trials spread over the whole period; ids follow start time (with jitter), as pushes do.
FILL_SQL = r"""
\set ON_ERROR_STOP on
SELECT setseed(0.17);
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO prov_trials (id, uuid, name, status, started_at, ended_at, user_name, host, notebook,
                         cwd, python_version, executions, tags, store_schema, bundle_sha256,
                         pushed_at)
SELECT :base + g,
       gen_random_uuid()::text,
       CASE WHEN g % 10 = 0 THEN 'run-' || g END,
       CASE WHEN g % 53 = 0 THEN 'crashed' WHEN g % 211 = 0 THEN 'running' ELSE 'finished' END,
       st,
       CASE WHEN g % 211 <> 0 THEN st + :execs * interval '21 seconds' END,
       'user' || lpad(u::text, 3, '0'),
       CASE WHEN g % 5 = 0 THEN 'gpu-' || lpad((1 + g % 8)::text, 2, '0')
            ELSE 'laptop-' || lpad(u::text, 3, '0') END,
       'projects/p' || (u % 20) || '/' || (ARRAY['train', 'tune', 'eval', 'explore'])[1 + g % 4]
           || '.ipynb',
       '/home/user' || lpad(u::text, 3, '0') || '/p' || (u % 20),
       (ARRAY['3.10.12', '3.11.6', '3.12.1'])[1 + u % 3],
       :execs,
       ARRAY['acc']
           || CASE WHEN g % 3 = 0 THEN ARRAY['lr'] ELSE '{}' END
           || CASE WHEN g % 17 = 0 THEN ARRAY['baseline'] WHEN g % 23 = 0 THEN ARRAY['best']
                   ELSE '{}' END,
       :schema,
       md5('bundle' || g) || md5('sha' || g),
       st + :execs * interval '21 seconds' + random() * interval '1 hour'
  FROM (SELECT g, (g * 7919) % :users AS u,
               now() - interval '181 days' + g * (interval '180 days' / (:users * :per_user))
                   + random() * interval '3 hours' AS st
          FROM generate_series(1, :users * :per_user) g) s;
SELECT setval(pg_get_serial_sequence('prov_trials', 'id'), (SELECT max(id) FROM prov_trials));
-- Each trial's rows come together, as a push writes them: the LATERAL series keeps the trials
-- outermost, read in the order they were written (no sort of 10 million rows); 25 cells run four times over, a cell's code changes every 40 trials.
INSERT INTO prov_executions (trial_id, seq, execution_count, cell_id, code_sha256, status,
                             started_at, duration_ms)
SELECT t.id, s, s, 'cell-' || ((s - 1) % 25),
       encode(sha256(convert_to(t.notebook || ':' || ((s - 1) % 25) || ':' || (t.id / 40), 'UTF8')),
              'hex'),
       CASE WHEN random() < 0.02 THEN 'error' ELSE 'ok' END,
       t.started_at + s * interval '21 seconds',
       (random() * random() * 8000)::bigint
  FROM prov_trials t CROSS JOIN LATERAL generate_series(1, t.executions) s
 WHERE t.id > :base;
-- One captured value per execution (position 0: the cell's variable) and, at every 50th
-- execution, the tagged score `acc` (position 1), rising over the months, per user, noisy.
INSERT INTO prov_values (trial_id, seq, position, name, type_name, value_json, summary_json,
                         tagged, label, execution_count, started_at)
SELECT t.id, x.s, x.p,
       CASE WHEN x.p = 1 THEN 'acc' WHEN x.c < 8 THEN (ARRAY['lr', 'epochs', 'df', 'X', 'y',
            'model', 'history', 'loss'])[1 + x.c] ELSE 'v' || x.c END,
       CASE WHEN x.p = 1 THEN 'float' WHEN x.c < 8 THEN (ARRAY['float', 'int', 'DataFrame',
            'ndarray', 'ndarray', 'Sequential', 'dict', 'float'])[1 + x.c] ELSE 'int' END,
       CASE WHEN x.p = 1 THEN
                round(least(0.99, 0.55 + 0.3 * (t.id - :base)::numeric / (:users * :per_user)
                                  + 0.05 * (t.user_name ~ '[13579]$')::int
                                  + (random() * 0.08)::numeric), 4)::text
            WHEN x.c = 0 THEN (ARRAY['0.1', '0.03', '0.01', '0.003', '0.001'])[1 + t.id % 5]
            WHEN x.c = 1 THEN (5 * (1 + t.id % 8))::text
            WHEN x.c = 7 THEN round((0.2 + random() * 0.6)::numeric, 4)::text
            WHEN x.c >= 8 THEN (t.id % 1000 + x.s)::text END,
       CASE WHEN x.p = 0 AND x.c = 2 THEN '{"shape": [' || (10000 + t.id % 977) || ', 12]}'
            WHEN x.p = 0 AND x.c = 3 THEN '{"shape": [' || (8000 + t.id % 977)
                                          || ', 11], "dtype": "float64"}' END,
       x.p = 1 OR (x.c = 0 AND 'lr' = ANY (t.tags)),
       CASE WHEN x.p = 1 AND 'baseline' = ANY (t.tags) THEN 'baseline'
            WHEN x.p = 1 AND 'best' = ANY (t.tags) THEN 'best' END,
       x.s, t.started_at + x.s * interval '21 seconds'
  FROM prov_trials t
       CROSS JOIN LATERAL (SELECT s, p, (s - 1) % 25 AS c
                             FROM generate_series(1, t.executions) s, (VALUES (0), (1)) v (p)
                            WHERE p = 0 OR s % 50 = 0) x
 WHERE t.id > :base;
COMMIT;
"""


class Server:
    """The throwaway PostgreSQL in ``directory`` (scripts/pg.sh): started on entry, stopped on
    exit; ``env`` holds PGPASSFILE (the password never travels in a URL or argument)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env: dict[str, str] = {}
        self.url = ""
        self.saved_passfile: str | None = None

    def __enter__(self) -> "Server":
        done = subprocess.run(["bash", str(PG_SH), "env", str(self.directory)], capture_output=True,
                              text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise BenchError(f"scripts/pg.sh could not start PostgreSQL: {done.stderr.strip()[-800:]}")
        exports = dict(re.findall(r"export (\w+)=(\S+)", done.stdout))
        if "PROV_TEST_PG" not in exports or "PGPASSFILE" not in exports:
            raise BenchError(f"scripts/pg.sh env printed no URL: {done.stdout!r}")
        # %q-quoted by bash; these paths and URLs have nothing to unquote.  The password file
        # goes into this process's environment while the server runs, so every child finds it
        # (million.time_rounds starts its processes with the inherited environment).
        self.saved_passfile = os.environ.get("PGPASSFILE")
        os.environ["PGPASSFILE"] = exports["PGPASSFILE"].strip("'")
        self.env = dict(os.environ)
        self.env.pop("PROV_DB", None)
        self.env.pop("PROV_PUSH", None)
        self.url = exports["PROV_TEST_PG"].strip("'")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.saved_passfile is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = self.saved_passfile
        stop_server(self.directory)

    @property
    def team_url(self) -> str:
        """The bench database's URL (the server's URL names the `postgres` database)."""
        return self.url.rsplit("/", 1)[0] + "/" + DATABASE

    def psql(self, sql: str, *, database: str = DATABASE, variables: dict[str, Any] | None = None,
             timeout: float = 3600) -> str:
        """Runs ``sql`` (a script, on stdin) with psql; its unaligned, tuples-only output."""
        url = self.url.rsplit("/", 1)[0] + "/" + database
        argv = [psql_binary(), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url]
        for name, value in (variables or {}).items():
            argv += ["-v", f"{name}={value}"]
        done = subprocess.run(argv, input=sql, capture_output=True, text=True, env=self.env,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise BenchError(f"psql failed: {done.stderr.strip()[-800:]}\n  SQL: {sql.strip()[:300]}")
        return done.stdout


def psql_binary() -> str:
    """The server's own psql: Debian's /usr/bin/psql is a Perl wrapper that adds ~50 ms a run."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    return str(found[-1]) if found else "psql"


def stop_server(directory: Path) -> None:
    """Stops the cluster in ``directory`` if one runs there (pg.sh stop is a no-op otherwise)."""
    subprocess.run(["bash", str(PG_SH), "stop", str(directory)], capture_output=True, timeout=120,
                   check=False)


def run(argv: list[str], env: dict[str, str], what: str, timeout: float = 600) -> str:
    """stdout of ``argv``; a failure is a BenchError naming ``what``."""
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
    return done.stdout


def local_store(folder: Path, executions: int) -> Path:
    """A local store in ``folder`` holding synth_diff's two trials of ``executions`` each."""
    binary = need_binary(SYNTH_DIFF, "cargo build --release -p provstore --example synth_diff")
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "prov.db"
    done = subprocess.run([str(binary), str(db), str(executions), "1"], capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise BenchError(f"synth_diff failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return db


def trial_uuids(db: Path) -> dict[int, str]:
    """{local trial id: uuid} of a local store, read with SQLite itself."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT id, uuid FROM trials ORDER BY id").fetchall())


def provctl_argv(db: Path, *args: str) -> list[str]:
    """argv of the real provctl on the local store ``db``."""
    return [str(need_binary(PROVCTL, "cargo build --release")), "--db", str(db), *args]


def reads_remotes(env: dict[str, str]) -> bool:
    """Whether this provctl's read commands take `--remote` (team-read has landed)."""
    done = subprocess.run([str(PROVCTL), "trials", "--help"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    return "--remote" in done.stdout


def build_team_store(server: Server, folder: Path, users: int, per_user: int, executions: int,
                     pair_executions: int) -> dict[str, Any]:
    """Pushes the real trials, fills the clones; the build's timings, sizes and the pair's ids."""
    facts: dict[str, Any] = {}
    server.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
    started = time.monotonic()
    pair = local_store(folder / "pair" / ".prov", pair_executions)
    facts["record_s"] = time.monotonic() - started
    run(provctl_argv(pair, "remote", "add", REMOTE, server.team_url), server.env, "provctl remote add")
    started = time.monotonic()
    run(provctl_argv(pair, "push", REMOTE), server.env, "provctl push (the real trials)")
    facts["push_real_s"] = time.monotonic() - started
    uuids = trial_uuids(pair)
    rows = server.psql("SELECT id, uuid, executions, store_schema FROM prov_trials ORDER BY id")
    pushed = [line.split("\t") for line in rows.splitlines() if line]
    by_uuid = {uuid: (int(tid), int(n), int(schema)) for tid, uuid, n, schema in pushed}
    if sorted(by_uuid) != sorted(uuids.values()):
        raise BenchError(f"provctl push left {len(pushed)} trials in the team store, not the {len(uuids)} pushed")
    facts["pair"] = [by_uuid[uuids[t]][0] for t in sorted(uuids)]
    base = max(tid for tid, _, _ in by_uuid.values())
    schema = next(iter(by_uuid.values()))[2]

    # Secondary indexes go while the rows come in and are rebuilt after: one sort each instead
    # of 10 million random insertions (their definitions are team-core's, read back here).
    indexes = server.psql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename IN ('prov_trials', 'prov_executions', 'prov_values') "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    definitions = [line.split("\t", 1) for line in indexes.splitlines() if line]
    server.psql("".join(f"DROP INDEX {name};\n" for name, _ in definitions))
    started = time.monotonic()
    server.psql(FILL_SQL, variables={"base": base, "users": users, "per_user": per_user,
                                     "execs": executions, "schema": schema})
    fill_later_columns(server, base, facts["pair"][0])
    facts["fill_s"] = time.monotonic() - started
    started = time.monotonic()
    server.psql("SET maintenance_work_mem = '512MB';\n" + "".join(f"{d};\n" for _, d in definitions))
    facts["index_s"] = time.monotonic() - started
    started = time.monotonic()
    # A long-lived store has been vacuumed and analysed by autovacuum; a fresh fill has not.
    server.psql("VACUUM (ANALYZE) prov_trials; VACUUM (ANALYZE) prov_executions; VACUUM (ANALYZE) prov_values;")
    facts["vacuum_s"] = time.monotonic() - started
    counts = server.psql(
        "SELECT (SELECT count(*) FROM prov_trials), (SELECT count(*) FROM prov_executions), "
        "(SELECT count(*) FROM prov_values), (SELECT count(*) FROM prov_bundles), "
        "pg_database_size(current_database())"
    ).split()
    facts["trials"], facts["executions"], facts["values"], facts["bundles"], facts["bytes"] = map(int, counts)
    facts["indexes"] = [name for name, _ in definitions]
    return facts


# The prov_trials columns FILL_SQL writes; those the team schema gains later are copied.
FILLED_TRIAL_COLUMNS = {"id", "uuid", "name", "status", "started_at", "ended_at", "user_name", "host",
                        "notebook", "cwd", "python_version", "executions", "tags", "store_schema",
                        "bundle_sha256", "pushed_at"}


def fill_later_columns(server: Server, base: int, real: int) -> None:
    """Gives the clones the pushed trial ``real``'s value of every prov_trials column FILL_SQL
    does not know (added by a later team schema, e.g. the platform), so they are not NULL."""
    columns = server.psql("SELECT column_name FROM information_schema.columns "
                          "WHERE table_schema = 'public' AND table_name = 'prov_trials'").split()
    later = [c for c in columns if c not in FILLED_TRIAL_COLUMNS]
    if later:
        listed = ", ".join(f'"{c}"' for c in later)
        server.psql(f"UPDATE prov_trials SET ({listed}) = (SELECT {listed} FROM prov_trials WHERE id = {real}) "
                    f"WHERE id > {base}")


def team_store(server_dir_parent: Path, users: int, per_user: int, executions: int,
               pair_executions: int) -> tuple[Path, dict[str, Any], str]:
    """The cached team store's folder (its cluster in ``pg/``), its build facts, how it came.

    Built once per hash of TEAM_SOURCES and the sizes; other builds are stopped and removed
    first (a store laid out by older code would time the old layout; they take gigabytes)."""
    key = source_hash([REPO_ROOT / p for p in TEAM_SOURCES if (REPO_ROOT / p).exists()])
    prefix = f"{users}x{per_user}x{executions}"
    folder = server_dir_parent / f"{prefix}-{key}"
    complete = folder / "complete.json"
    if complete.exists():
        return folder, json.loads(complete.read_text(encoding="utf-8")), f"cached as bench/out/team/{folder.name}"
    for old in server_dir_parent.glob("*-*"):
        stop_server(old / "pg")
        shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"[bench]   building the team store: {users} users x {per_user:,} trials x {executions} executions "
          "(once per source hash, minutes)", flush=True)
    started = time.monotonic()
    with Server(folder / "pg") as server:
        facts = build_team_store(server, folder, users, per_user, executions, pair_executions)
    facts["build_s"] = time.monotonic() - started
    complete.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return folder, facts, f"built this run, cached as bench/out/team/{folder.name}"


def explain_reads(server: Server, commands: dict[str, list[str]]) -> str:
    """The plans of every statement the given commands run, with their timings: auto_explain
    (EXPLAIN ANALYZE of each statement) on for the bench database while each runs once."""
    log = server.directory / "server.log"
    settings = {"session_preload_libraries": "'auto_explain'", "auto_explain.log_min_duration": "0",
                "auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on",
                "auto_explain.log_timing": "on"}
    server.psql("".join(f"ALTER DATABASE {DATABASE} SET {k} = {v};\n" for k, v in settings.items()),
                database="postgres")
    parts = []
    try:
        for name, argv in commands.items():
            offset = log.stat().st_size
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server.env,
                           timeout=600, check=False)
            time.sleep(0.2)  # the server's logger writes after the client has gone
            with open(log, encoding="utf-8", errors="replace") as handle:
                handle.seek(offset)
                parts.append(f"==== {' '.join(argv[3:])}\n{handle.read()}")
    finally:
        server.psql(f"ALTER DATABASE {DATABASE} RESET ALL", database="postgres")
    return "\n".join(parts)


def sql_stand_ins(server: Server, page: int) -> dict[str, list[str]]:
    """psql running the queries the design implies for the list and `values`, until provctl
    reads remotes: each a whole process, connection included, as provctl's would be."""
    psql = [psql_binary(), "-X", "-q", "-A", "-t", "-d", server.team_url, "-c"]
    page_ids = f"SELECT id FROM prov_trials ORDER BY id DESC LIMIT {page}"
    trials = (
        "SELECT id, uuid, name, status, started_at, ended_at, user_name, host, notebook, executions, tags "
        f"FROM prov_trials WHERE id IN ({page_ids}) ORDER BY id; "
        f"SELECT count(*) FROM prov_trials WHERE id < (SELECT min(id) FROM ({page_ids}) p); "
        "SELECT v.trial_id, v.name, v.value_json FROM prov_values v "
        f"WHERE v.tagged AND v.trial_id IN ({page_ids}) ORDER BY 1, v.seq, v.position"
    )
    values = (
        "SELECT v.trial_id, t.name, e.execution_count, v.seq, e.started_at, v.type_name, v.value_json, "
        "v.summary_json FROM prov_values v JOIN prov_executions e ON e.trial_id = v.trial_id AND e.seq = v.seq "
        f"JOIN prov_trials t ON t.id = v.trial_id WHERE v.name = '{VALUE}' ORDER BY v.trial_id, v.seq, v.position"
    )
    return {"trials": psql + [trials], "values": psql + [values]}


@benchmark(
    "team",
    full={"users": 100, "per_user": 1000, "executions": 100, "pair_executions": 5000, "runs": 11},
    quick={"users": 10, "per_user": 100, "executions": 100, "pair_executions": 5000, "runs": 3},
    needs_pair=False,
    optional=True,
)
def team(ctx: Context, users: int, per_user: int, executions: int, pair_executions: int,
         runs: int) -> list[Row]:
    """A team store on PostgreSQL: 100 users x 1,000 trials x 100 executions, queried and pushed to."""
    del ctx  # no kernels: provctl and PostgreSQL only
    parent = OUT_DIR / "team"
    parent.mkdir(parents=True, exist_ok=True)
    folder, facts, origin = team_store(parent, users, per_user, executions, pair_executions)
    with Server(folder / "pg") as server, own_cache(folder / "cache", server):
        return measure(server, folder, facts, origin, runs, pair_executions)


@contextlib.contextmanager
def own_cache(cache: Path, server: Server) -> Iterator[None]:
    """A cache folder of this run's own (XDG_CACHE_HOME), emptied first, for every provctl run:
    the scratch stores provctl keeps of remote trials start from nothing, and the user's own
    cache is neither read nor filled."""
    shutil.rmtree(cache, ignore_errors=True)
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = server.env["XDG_CACHE_HOME"] = str(cache)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved


def measure(server: Server, folder: Path, facts: dict[str, Any], origin: str, runs: int,
            pair_executions: int) -> list[Row]:
    """The timed runs and their rows."""
    pair = folder / "pair" / ".prov" / "prov.db"
    # The pushed trial: a store of its own, its remote row deleted before each timed push.
    push_db = folder / "push" / ".prov" / "prov.db"
    if not push_db.exists():
        local_store(push_db.parent, pair_executions)
        run(provctl_argv(push_db, "remote", "add", REMOTE, server.team_url), server.env, "provctl remote add")
    push_uuid = trial_uuids(push_db)[1]
    forget = f"DELETE FROM prov_trials WHERE uuid = '{push_uuid}'"
    left, right = facts["pair"]
    real = reads_remotes(server.env)
    if real:
        commands = {
            "trials": provctl_argv(pair, "trials", "--remote", REMOTE),
            "values": provctl_argv(pair, "values", VALUE, "--remote", REMOTE),
            "diff": provctl_argv(pair, "diff", f"{REMOTE}:{left}", f"{REMOTE}:{right}", "--json"),
        }
    else:
        commands = sql_stand_ins(server, 50)
    commands["start"] = [str(PROVCTL), "--version"]
    check_answers(server, commands, real, facts)
    samples = time_rounds(commands, runs)
    if "diff" in commands:
        # The diff with nothing cached: each run fetches and absorbs both bundles again.
        cold = []
        for _ in range(5):
            shutil.rmtree(os.environ["XDG_CACHE_HOME"], ignore_errors=True)
            cold.append(timed_process(commands["diff"], "provctl diff, nothing cached"))
        samples["diff_cold"] = cold
    pushes = []
    for _ in range(runs):
        server.psql(forget)
        pushes.append(timed_process(provctl_argv(push_db, "push", REMOTE, "1"), "provctl push"))
    pushed = server.psql(f"SELECT executions FROM prov_trials WHERE uuid = '{push_uuid}'").strip()
    if pushed != str(pair_executions):
        raise BenchError(f"after provctl push the team store holds {pushed or 'no'} executions of the pushed trial")
    EXPLAIN_FILE.write_text(explain_reads(server, {k: v for k, v in commands.items() if k != "start"}),
                            encoding="utf-8")
    return rows_of(samples, pushes, facts, origin, real, pair_executions)


def check_answers(server: Server, commands: dict[str, list[str]], real: bool, facts: dict[str, Any]) -> None:
    """One untimed run of each command (page cache; a check of its answer)."""
    clones = facts["trials"] - len(facts["pair"])
    for name, argv in commands.items():
        out = run(argv, server.env, name)
        if name == "trials" and real and "user" not in out:
            raise BenchError(f"provctl trials --remote shows no user: {out[:300]!r}")
        if name == "values" and out.count("\n") < 2 * clones:
            raise BenchError(f"{name}: {out.count(chr(10)):,} lines for {2 * clones:,} values of {VALUE}")
        if name == "diff":
            diff = json.loads(out)
            changed = sorted(v["name"] for v in diff["values"] if v["status"] == "changed")
            if "p" not in changed:
                raise BenchError(f"provctl diff of the pushed pair: not the expected answer (changed {changed})")


# The rows' names (bench/open_targets.md's sections name them too), whatever runs the query.
TRIALS_LABEL = "team store: trials, first page"
VALUES_LABEL = f"team store: values {VALUE} over every trial"
DIFF_LABEL = "team store: diff of two remote trials"
DIFF_COLD_LABEL = "team store: first diff of two remote trials"
PUSH_LABEL = "team store: push of a 5,000-execution trial"


def rows_of(samples: dict[str, list[float]], pushes: list[float], facts: dict[str, Any], origin: str,
            real: bool, pair_executions: int) -> list[Row]:
    """The report's rows: the four targets, then the store's build and size."""
    scale = f"{facts['trials']:,} trials, {facts['executions']:,} executions, {facts['values']:,} values"
    whole = "whole process, stdout to /dev/null"
    start = f"`provctl --version` alone {median(samples['start']) * 1e3:.1f} ms"
    if real:
        trials_how = f"`provctl trials --remote {REMOTE}`, {whole}"
        values_how = f"`provctl values {VALUE} --remote {REMOTE}`, {whole}"
    else:
        stand_in = "provctl cannot read remotes yet: a psql process running the design's SQL, connection included"
        trials_how = values_how = stand_in
    rows = [
        *ms_rows(TRIALS_LABEL, samples["trials"], 100.0,
                 f"{trials_how}; {scale}; the latest 50 with their tagged values; {start}"),
        *ms_rows(VALUES_LABEL, samples["values"], 1000.0,
                 f"{values_how}; {2 * (facts['trials'] - len(facts['pair'])):,} values of {VALUE}"),
    ]
    if "diff" in samples:
        rows += ms_rows(DIFF_LABEL, samples["diff"], 300.0,
                        f"`provctl diff {REMOTE}:A {REMOTE}:B --json`, {whole}; two pushed trials of "
                        f"{pair_executions:,} executions, diffed in the scratch store provctl keeps of them "
                        "(the untimed first run fetched and absorbed both bundles and kept it in the cache)")
        rows += ms_rows(DIFF_COLD_LABEL, samples["diff_cold"], 300.0,
                        f"the same diff with provctl's cache emptied before each run: both bundles fetched, "
                        "absorbed into a new scratch store and kept; what a first question about a new pair "
                        "of trials costs")
    rows += ms_rows(PUSH_LABEL, pushes, 2000.0,
                    f"`provctl push {REMOTE} 1`, whole process; its remote row deleted (untimed) before each "
                    f"run, so each push writes the whole trial: bundle, {pair_executions:,} executions, values")
    rows.append(prov_row(
        "team store on PostgreSQL", "size", "bytes", float(facts["bytes"]), facts["executions"],
        note=(f"pg_database_size; {scale} ({facts['bundles']} bundles: the pushed trials; the clones have none); "
              f"{origin}; build {facts['build_s']:.0f} s: record {facts['record_s']:.1f} s, real push "
              f"{facts['push_real_s']:.1f} s, SQL fill {facts['fill_s']:.0f} s, indexes {facts['index_s']:.0f} s "
              f"({', '.join(facts['indexes'])}), vacuum+analyze {facts['vacuum_s']:.0f} s; plans of the reads "
              "(auto_explain): bench/out/team-explain.txt"
              + ("" if real else "; the diff of remote trials not measured: provctl cannot read remotes yet")),
    ))
    return rows
