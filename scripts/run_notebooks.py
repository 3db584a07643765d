"""Execute notebooks with nbclient through a named kernel; write executed copies.

Usage: python scripts/run_notebooks.py --kernel python-prov --output-dir DIR
           [--param NAME=VALUE ...] NB...

The kernel's working directory is --cwd (default: the current directory), so
with the default store location the provenance lands in <cwd>/.prov/prov.db.
Prints the path of every executed copy. Exits non-zero if a cell fails
(cells tagged "raises-exception" are expected to fail).

--param NAME=VALUE runs a notebook with another parameter, as papermill does:
in the code cell tagged "parameters", the line assigning NAME becomes
`NAME = VALUE` (VALUE is Python source, e.g. 0.01 or "'adam'"). The executed
copy keeps the rewritten cell, and prov records the run like an edit of that
cell. Notebooks without a "parameters" cell run unchanged.

--name-trials names the trial of each notebook that has a "parameters" cell
after the parameters it ran with, e.g. "C=0.01, seed=7" (through the prov
kernel's PROV_TRIAL_NAME; a name already in the store gets ", run 2", ", run 3"...),
so `provctl trials`, `provctl diff` and the evolution plot say which run is
which.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def parse_param(text: str) -> tuple[str, str]:
    """NAME=VALUE from the command line, NAME a Python identifier."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.isidentifier() or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. C=0.01), got {text!r}")
    return name, value


def apply_params(nb: nbformat.NotebookNode, params: list[tuple[str, str]], path: Path) -> bool:
    """Rewrites the assignments of `params` in the cell tagged "parameters". Returns whether
    the notebook has such a cell; a parameter it does not assign is an error."""
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return False
    cell = cells[0]
    lines = cell.source.split("\n")
    for name, value in params:
        assignment = re.compile(rf"^{re.escape(name)}\s*=(?!=)")
        hits = [i for i, line in enumerate(lines) if assignment.match(line)]
        if not hits:
            raise SystemExit(f"error: the parameters cell of {path} does not assign {name}; "
                             f"it has:\n{cell.source}")
        for i in hits:
            lines[i] = f"{name} = {value}"
    cell.source = "\n".join(lines)
    return True


ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(.*?)\s*(#.*)?$")


def parameters_name(nb: nbformat.NotebookNode) -> str | None:
    """"C=0.01, seed=7": the assignments of the cell tagged "parameters", as a trial name."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            pairs = [m.group(1) + "=" + m.group(2)
                     for m in map(ASSIGNMENT.match, cell.source.split("\n")) if m]
            return ", ".join(pairs)[:200] or None
    return None


def execute(path: Path, kernel: str, cwd: Path, params: list[tuple[str, str]],
            name_trials: bool = False, timeout: int = 120) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    if params and apply_params(nb, params, path):
        shown = ", ".join(f"{n} = {v}" for n, v in params)
        print(f"{path}: parameters {shown}", file=sys.stderr)
    # The kernel inherits this process's environment: name its trial, or make sure an earlier
    # notebook's name does not stick.
    os.environ.pop("PROV_TRIAL_NAME", None)
    name = parameters_name(nb) if name_trials else None
    if name:
        os.environ["PROV_TRIAL_NAME"] = name
    # Jupyter's server tells kernels which notebook they run through this variable; prov
    # records it as the trial's notebook.
    os.environ["JPY_SESSION_NAME"] = str(path.resolve())
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        startup_timeout=60,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="python-prov", help="kernelspec name")
    ap.add_argument("--output-dir", required=True, type=Path)
    ap.add_argument("--cwd", type=Path, default=Path.cwd(), help="kernel working directory")
    ap.add_argument("--suffix", default="", help="appended to each output file's stem")
    ap.add_argument("--param", action="append", default=[], type=parse_param,
                    metavar="NAME=VALUE",
                    help="set a parameter in notebooks with a cell tagged 'parameters'")
    ap.add_argument("--name-trials", action="store_true",
                    help="name each parameterised notebook's trial after its parameters")
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args(argv)

    args.output_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for path in args.notebooks:
        out = args.output_dir / f"{path.stem}{args.suffix}.ipynb"
        try:
            nb = execute(path, args.kernel, args.cwd.resolve(), args.param, args.name_trials)
        except CellExecutionError as err:
            print(f"error: {path} failed under kernel {args.kernel}:\n{err}", file=sys.stderr)
            failed = True
            continue
        nbformat.write(nb, out)
        print(os.path.relpath(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
