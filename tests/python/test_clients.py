"""What headless clients tell the kernel about the notebook they run, found by experiment: the
trials' notebook column. JupyterLab's server sets JPY_SESSION_NAME (the notebook's path) in the
kernel's environment; nbclient (and so nbconvert --execute and papermill, which run notebooks
through it) sets nothing of the kind, and its execute requests carry no cell ids either. So such
a run records its folder (the kernel's working directory) and an empty notebook column, unless
whoever runs it sets JPY_SESSION_NAME, as scripts/run_notebooks.py does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import KERNEL_NAME
from test_store import provctl_json

pytestmark = pytest.mark.prov


def small_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("print(x + 1)")]
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME,
                                 "language": "python"}
    path = folder / "analysis.ipynb"
    nbformat.write(nb, path)
    return path


def test_nbclient_tells_nothing_unless_the_runner_sets_the_path(tmp_path: Path, monkeypatch):
    path = small_notebook(tmp_path)
    db = tmp_path / "prov.db"
    monkeypatch.setenv("PROV_DB", str(db))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    NotebookClient(nbformat.read(path, as_version=4), kernel_name=KERNEL_NAME, timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    [trial] = provctl_json(db, "trials")
    assert trial["notebook"] is None, trial
    shown = provctl_json(db, "show")
    assert Path(shown["trial"]["cwd"]) == tmp_path
    assert [e["cell_id"] for e in shown["executions"]] == [None, None], "nbclient sent cell ids"

    # nbconvert --execute, as a user would run it, with the path told.
    env = {**os.environ, "JPY_SESSION_NAME": str(path)}
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "notebook",
                    "--output", "executed", str(path)],
                   env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    trials = provctl_json(db, "trials")
    assert len(trials) == 2 and trials[1]["notebook"] == str(path), trials
