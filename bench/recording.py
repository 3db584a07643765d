"""What recording leaves: the store's bytes per execution of the example notebooks, and
`provctl show` of a trial of 10,000 synthetic executions (prov only: no direct side).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness import BenchError, Context
from rows import Row, benchmark, prov_row
from stores import PROVCTL, REPO_ROOT, median_ms_row, provctl, store_bytes, store_counts, synth_store, time_rounds

EXAMPLES = REPO_ROOT / "examples"


def run_notebook(ctx: Context, notebook: Path, db: Path, cwd: Path) -> None:
    """Execute ``notebook`` with nbclient through the prov kernel, recording into ``db``.

    The kernel's output goes to the kernel log.  Cells tagged
    ``raises-exception`` may fail (nbclient's rule); any other failure
    stops the benchmark.
    """
    import nbformat  # local: only these benchmarks need nbclient
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    kernel_name = ctx.kernel_names["prov"]
    ctx.kernel_log.write(f"==== {time.strftime('%H:%M:%S')} running {notebook.name} ({kernel_name})\n")
    ctx.kernel_log.flush()
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=300, startup_timeout=60)
    # JPY_SESSION_NAME names the notebook of the trial, as Jupyter's server would.
    env = dict(os.environ, PROV_DB=str(db), JPY_SESSION_NAME=notebook.name)
    try:
        client.execute(cwd=str(cwd), env=env, stdout=ctx.kernel_log, stderr=ctx.kernel_log)
    except CellExecutionError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{notebook.name} failed under {kernel_name}: {first}") from exc


@benchmark(
    "store",
    full={"notebooks": ["sales_report.ipynb", "iris_classifier.ipynb"]},
    quick={"notebooks": ["sales_report.ipynb"]},
    needs_pair=False,
)
def store_per_execution(ctx: Context, notebooks: list[str]) -> list[Row]:
    """Store bytes per execution: each example notebook run twice into a fresh store.

    The first run's figure is the whole store (schema included) over its
    executions; the second run, into the same store, shows what one more
    run adds per execution once code and payloads seen before are stored
    only once.  Sizes are taken after a WAL checkpoint (see store_bytes).
    """
    scratch = Path(ctx.workdir) / "store"
    empty_db = scratch / "empty.db"
    synth_store(empty_db, 0)
    empty = store_bytes(empty_db)
    rows = []
    for name in notebooks:
        notebook = EXAMPLES / name
        if not notebook.exists():
            raise BenchError(f"examples/{name} is missing")
        cwd = scratch / notebook.stem
        cwd.mkdir(parents=True)
        db = cwd / "prov.db"
        sizes, counts = [], []
        for _ in range(2):
            run_notebook(ctx, notebook, db, cwd)
            sizes.append(store_bytes(db))
            counts.append(store_counts(db))
        (trials1, execs1), (trials2, execs2) = counts
        if trials1 != 1 or trials2 != 2 or execs1 == 0 or execs2 != 2 * execs1:
            raise BenchError(
                f"{name}: expected 1 then 2 trials of the same number of executions, "
                f"got {trials1} trial(s) with {execs1} then {trials2} with {execs2}"
            )
        added = sizes[1] - sizes[0]
        label = f"store, {name}"
        rows.append(
            prov_row(
                label,
                "per execution, 1st run",
                "bytes",
                sizes[0] / execs1,
                execs1,
                note=(
                    f"1st run: {execs1} executions, store {sizes[0]:,} bytes, of which an empty "
                    f"store (schema, one trial) is {empty:,}: {(sizes[0] - empty) / execs1:,.0f} bytes "
                    f"per execution beyond it; 2nd run into the same store: +{execs2 - execs1} "
                    f"executions, +{added:,} bytes"
                ),
            )
        )
        rows.append(
            prov_row(label, "added per execution, 2nd run", "bytes", added / (execs2 - execs1), execs2 - execs1)
        )
    return rows


@benchmark(
    "provctl_show",
    full={"executions": 10_000, "runs": 7},
    quick={"executions": 10_000, "runs": 2},
    needs_pair=False,
)
def provctl_show(ctx: Context, executions: int, runs: int) -> list[Row]:
    """`provctl show` of a trial of many executions, as a whole process (text and --json).

    The store is written by provstore/examples/synth_store.rs (one trial of
    synthetic executions with outputs, some images and errors) because a
    real kernel needs ~8 ms per execute: 10,000 would take over a minute.
    Output goes to /dev/null; one untimed run of each form first (page
    cache, and a check that the JSON holds every execution).
    """
    db = Path(ctx.workdir) / "synthetic" / "prov.db"
    synth_store(db, executions)
    trials, recorded = store_counts(db)
    if (trials, recorded) != (1, executions):
        raise BenchError(f"synthetic store has {trials} trial(s), {recorded} executions; want 1, {executions}")
    size = store_bytes(db)
    forms = {"text": ["show", "1"], "--json": ["show", "1", "--json"]}
    output_bytes = {}
    for form, args in forms.items():
        output = provctl(db, *args).stdout
        output_bytes[form] = len(output.encode())
        if form == "--json" and len(json.loads(output)["executions"]) != executions:
            raise BenchError(f"provctl show --json did not list all {executions} executions")
    argv = [str(PROVCTL), "--db", str(db)]
    samples = time_rounds({form: argv + args for form, args in forms.items()}, runs, "provctl show")
    label = f"provctl show, {executions:,} executions"
    return [
        median_ms_row(
            label,
            f"median, {form}",
            times,
            form,
            f"{output_bytes[form]:,} bytes of output; synthetic store of {size:,} bytes",
        )
        for form, times in samples.items()
    ]
