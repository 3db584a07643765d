"""`provctl export --format ro-crate|ipynb|py` on trials recorded through the real kernel.

The example experiment (examples/churn_regularisation.ipynb, run with nbclient) exports to a
Workflow Run RO-Crate that the reference package `rocrate` reads back with warnings as errors,
as a folder and as a zip, and that `runcrate report` walks; its notebook holds the outputs the
frontend got, and its script, run by plain Python, prints what the notebook printed. A notebook
that reads a data file is exported after the file was deleted: the crate still lists the file
with the hash recorded when it was read, and says it is gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from rocrate.rocrate import ROCrate

from conftest import EXAMPLES_DIR, KERNEL_NAME
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

EXAMPLE = EXAMPLES_DIR / "churn_regularisation.ipynb"
INPUT = "id,amount\n1,10\n2,32\n"


def run_notebook(nb: nbformat.NotebookNode, db: Path, cwd: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("PROV_DB", str(db))
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=120, startup_timeout=60,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Trial 1: the example experiment. Trial 2: a notebook that reads input.csv and writes
    summary.txt; input.csv is deleted afterwards."""
    tmp = tmp_path_factory.mktemp("crate")
    db = tmp / "prov.db"
    (tmp / "input.csv").write_text(INPUT)
    reader = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("text = open('input.csv').read()\nprint(len(text.splitlines()))"),
        nbformat.v4.new_code_cell("with open('summary.txt', 'w') as f:\n    f.write(text.upper())"),
    ])
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("JPY_SESSION_NAME", str(EXAMPLE))
        example = run_notebook(nbformat.read(EXAMPLE, as_version=4), db, tmp, monkeypatch)
        monkeypatch.delenv("JPY_SESSION_NAME")
        run_notebook(reader, db, tmp, monkeypatch)
    (tmp / "input.csv").unlink()
    return db, tmp, example


def read_crate(path: Path) -> ROCrate:
    """The crate as the reference package reads it; any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ROCrate(path)


def ids(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v.id if hasattr(v, "id") else v["@id"] for v in values if v is not None]


def check_example_crate(crate: ROCrate, root: Path, executions: int) -> None:
    workflow = crate.mainEntity
    assert workflow.id == "notebook.ipynb"
    assert set(workflow.type) >= {"File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"}
    conforms = ids(crate.root_dataset["conformsTo"])
    assert "https://w3id.org/ro/wfrun/provenance/0.5" in conforms
    steps = ids(workflow["step"])
    assert len(steps) == executions

    actions = [e for e in crate.get_entities() if e.type == "CreateAction"]
    assert len(actions) == executions + 1, "one per execution, and the trial's run"
    run = crate.get("#trial-run")
    assert run["instrument"].id == "notebook.ipynb"
    for n in range(1, executions + 1):
        action = crate.get(f"#execution-{n}")
        code = action["instrument"]
        assert code.id == f"code/exec-{n:04d}.py"
        assert (root / code.id).is_file()
        assert crate.get(f"#control-{n}")["object"].id == action.id
        assert crate.get(f"#step-{n}")["workExample"].id == code.id
        assert action["actionStatus"] == "http://schema.org/CompletedActionStatus"
    data_ids = {e.id for e in crate.data_entities}
    assert {"notebook.ipynb", "prov.json", "requirements.txt", "README.md"} <= data_ids
    for name in ("notebook.ipynb", "prov.json", "requirements.txt", "README.md"):
        assert (root / name).is_file(), name


def test_the_example_trial_exports_to_a_crate_the_reference_package_reads(recorded, tmp_path):
    db, _, example = recorded
    executions = len([c for c in example.cells if c.cell_type == "code"])
    out = tmp_path / "crate"
    said = provctl_json(db, "export", "1", "--format", "ro-crate", "-o", str(out))
    assert said["files"] == 5 + executions and said["notes"] == []
    crate = read_crate(out)
    check_example_crate(crate, out, executions)

    # The PROV file is the trial's PROV-JSON; requirements pin what the code imported.
    assert json.loads((out / "prov.json").read_text()) == json.loads(
        provctl(db, "export", "1", "--format", "prov-json").stdout)
    import numpy, pandas, sklearn
    pins = set((out / "requirements.txt").read_text().splitlines())
    for dist, module in (("numpy", numpy), ("pandas", pandas), ("scikit-learn", sklearn)):
        assert f"{dist}=={module.__version__}" in pins, pins
    code = [c.source for c in example.cells if c.cell_type == "code"]
    assert [(out / f"code/exec-{n:04d}.py").read_text() for n in range(1, executions + 1)] == code


def test_a_zip_crate_reads_the_same(recorded, tmp_path):
    db, _, example = recorded
    executions = len([c for c in example.cells if c.cell_type == "code"])
    out = tmp_path / "trial.zip"
    provctl(db, "export", "1", "--format", "ro-crate", "-o", str(out))
    crate = read_crate(out)
    check_example_crate(crate, Path(crate.source), executions)
    assert not [p for p in tmp_path.iterdir() if p.name != "trial.zip"], "no temporary left"


def test_runcrate_reports_every_execution(recorded, tmp_path):
    db, _, example = recorded
    out = tmp_path / "crate"
    provctl(db, "export", "1", "--format", "ro-crate", "-o", str(out))
    report = subprocess.run([sys.executable, "-m", "runcrate.cli", "report", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    executions = len([c for c in example.cells if c.cell_type == "code"])
    for n in range(1, executions + 1):
        assert f"action: #execution-{n}\n  step: #step-{n}\n" in report.stdout, report.stdout


def test_the_notebook_holds_what_the_frontend_got(recorded, tmp_path):
    db, _, example = recorded
    out = tmp_path / "trial.ipynb"
    provctl(db, "export", "1", "--format", "ipynb", "-o", str(out))
    exported = nbformat.read(out, as_version=4)
    nbformat.validate(exported)
    assert exported.metadata.kernelspec.display_name == "Python (prov)"
    ran = [c for c in example.cells if c.cell_type == "code"]
    assert len(exported.cells) == len(ran)

    def shown(output):
        keep = {k: output[k] for k in ("output_type", "name", "text", "ename", "evalue")
                if k in output}
        if "data" in output:
            keep["data"] = dict(output["data"])
        return keep

    for got, had in zip(exported.cells, ran):
        assert got.source == had.source
        assert got.execution_count == had.execution_count
        assert [shown(o) for o in got.outputs] == [shown(o) for o in had.outputs]
    assert any("image/png" in o.get("data", {}) for c in exported.cells for o in c.outputs)


def test_the_script_runs_under_plain_python(recorded, tmp_path):
    db, _, example = recorded
    script = tmp_path / "trial.py"
    provctl(db, "export", "1", "--format", "py", "-o", str(script))
    text = script.read_text()
    assert "\n# %tag_var C parameter\n" in text and "\n# %matplotlib inline\n" in text
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
    assert ran.returncode == 0, ran.stderr
    printed = "".join(o.get("text", "") for c in example.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream" and o.name == "stdout")
    assert ran.stdout == printed


def test_a_gone_input_is_listed_with_its_recorded_hash(recorded, tmp_path):
    db, cwd, _ = recorded
    out = tmp_path / "crate"
    said = provctl(db, "export", "2", "--format", "ro-crate", "--include-data", "-o", str(out))
    gone = str((cwd / "input.csv").resolve())
    recorded_sha = hashlib.sha256(INPUT.encode()).hexdigest()
    assert f"note: {gone} is gone: the crate lists it with the sha256 recorded ({recorded_sha})" \
        in said.stdout, said.stdout
    crate = read_crate(out)
    listed = [e for e in crate.get_entities() if e.get("alternateName") == gone]
    assert len(listed) == 1
    entry = listed[0]
    assert entry["sha256"] == recorded_sha and entry.type == "CreativeWork"
    assert "Gone:" in entry["description"]
    assert ids(crate.get("#trial-run")["object"]) == [entry.id]
    assert ids(crate.get("#execution-1")["object"]) == [entry.id]
    # What the trial wrote is a result, present but not copied (only inputs are).
    written = [e for e in crate.get_entities() if e.get("name") == "summary.txt"]
    assert ids(crate.get("#execution-2")["result"]) == [written[0].id]
    assert not (out / "data").exists()
    readme = (out / "README.md").read_text()
    assert f"| `input.csv` | 1 /  | `{recorded_sha}` | **gone** |" in readme, readme


def test_a_crate_needs_an_output_and_never_overwrites(recorded, tmp_path):
    db, _, _ = recorded
    refused = provctl(db, "export", "1", "--format", "ro-crate", check=False)
    assert refused.returncode == 2 and "-o DIR" in refused.stderr
    (tmp_path / "mine.txt").write_text("keep")
    refused = provctl(db, "export", "1", "--format", "ro-crate", "-o", str(tmp_path), check=False)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_include_data_is_for_a_crate(recorded, tmp_path):
    db, _, _ = recorded
    refused = provctl(db, "export", "2", "--format", "ipynb", "--include-data",
                      "-o", str(tmp_path / "t.ipynb"), check=False)
    assert refused.returncode == 2 and "needs --format ro-crate" in refused.stderr
    assert not list(tmp_path.iterdir())
