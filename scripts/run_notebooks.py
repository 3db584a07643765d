"""Execute notebooks with nbclient through a named kernel; write executed copies.

Usage: python scripts/run_notebooks.py --kernel python-prov --output-dir DIR NB...

The kernel's working directory is --cwd (default: the current directory), so
with the default store location the provenance lands in <cwd>/.prov/prov.db.
Prints the path of every executed copy. Exits non-zero if a cell fails
(cells tagged "raises-exception" are expected to fail).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def execute(path: Path, kernel: str, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
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
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args(argv)

    args.output_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for path in args.notebooks:
        out = args.output_dir / f"{path.stem}{args.suffix}.ipynb"
        try:
            nb = execute(path, args.kernel, args.cwd.resolve())
        except CellExecutionError as err:
            print(f"error: {path} failed under kernel {args.kernel}:\n{err}", file=sys.stderr)
            failed = True
            continue
        nbformat.write(nb, out)
        print(os.path.relpath(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
