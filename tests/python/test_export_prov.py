"""W3C PROV export end to end: the example experiment's trial (examples/churn_regularisation.ipynb
run through the python-prov kernel with nbclient) exported by `provctl export` as PROV-JSON,
PROV-N and PROV-O (Turtle), and a small trial that writes and reads a file exported by
`%prov_export` in the kernel.

Checked with the reference implementation, the `prov` package (and rdflib for Turtle), with
warnings turned into errors: it reads our PROV-JSON and Turtle, the two are the same document,
and the records it holds are, kind by kind, what the store holds. `prov` cannot read PROV-N, so
`provn_grammar.py` (written from the PROV-N grammar) parses ours and the records must equal, one
for one, those of the document `prov` read from our PROV-JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from collections import Counter
from pathlib import Path

import nbformat
import prov
import pytest
from nbclient import NotebookClient
from prov.constants import PROV_N_MAP

import provn_grammar
from conftest import EXAMPLES_DIR, KERNEL_NAME, Kernel, magic_answer
from test_store import provctl, provctl_json

pytestmark = pytest.mark.prov

NOTEBOOK = EXAMPLES_DIR / "churn_regularisation.ipynb"
FORMATS = {"prov-json": "json", "prov-n": "provn", "prov-o": "ttl"}


@contextlib.contextmanager
def strict():
    """Every warning an error, but rdflib's DeprecationWarning about its own API, which `prov`
    calls (`Dataset.default_context`) whatever document it reads."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        yield


def read(path: Path):
    with strict():
        if path.suffix == ".ttl":
            return prov.read(str(path), format="rdf", rdf_format="turtle")
        return prov.read(str(path), format="json")


def kinds(doc) -> Counter:
    return Counter(PROV_N_MAP[r.get_type()] for r in doc.get_records())


def export_all(db: Path, folder: Path, trial: str = "1") -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, ext in FORMATS.items():
        paths[fmt] = folder / f"trial.{ext}"
        out = provctl(db, "export", trial, "--format", fmt, "-o", str(paths[fmt])).stdout
        assert out.startswith(f"Wrote trial {trial} as {fmt} to "), out
    return paths


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example experiment run once through the kernel, and its three exports."""
    tmp = tmp_path_factory.mktemp("export_prov")
    db = tmp / "prov.db"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PROV_DB", str(db))
        monkeypatch.setenv("JPY_SESSION_NAME", str(NOTEBOOK))
        NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=120, startup_timeout=60,
                       resources={"metadata": {"path": str(tmp)}}).execute()
    return db, export_all(db, tmp / "first")


def test_prov_json_is_read_without_warning_and_holds_what_the_store_holds(example):
    db, paths = example
    doc = read(paths["prov-json"])
    raw = json.loads(paths["prov-json"].read_text())
    got = kinds(doc)
    # The round trip keeps every record: as many of each kind as the file holds.
    assert got == Counter({k: len(v) for k, v in raw.items() if k != "prefix"})

    shown = provctl_json(db, "show", "1")
    executions = shown["executions"]
    graph = provctl_json(db, "graph", "--trial", "1")
    assert got["activity"] == 1 + len(executions) == 1 + shown["trial"]["executions"]
    assert got["agent"] == 2
    outputs = sum(len(e["outputs"]) for e in executions)
    codes = {e["code_sha256"] for e in executions}
    variables = sum(1 for g in graph["executions"] for d in g["defines"] if not d.startswith("/"))
    assert variables > 10
    by_type = Counter(str(t) for r in doc.get_records() if r.is_element()
                      for t in r.get_asserted_types())
    assert by_type["pk:Code"] == len(codes)
    assert by_type["pk:Output"] == outputs
    assert by_type["pk:Execution"] == len(executions)
    assert by_type["pk:VariableVersion"] == variables
    assert got["entity"] == len(codes) + outputs + variables + len(graph["files"])
    assert got["wasInformedBy"] == len(graph["edges"])
    assert got["wasGeneratedBy"] == outputs + variables
    assert got["used"] >= len(executions) + len(graph["edges"])
    assert got["wasAssociatedWith"] == 2 and got["actedOnBehalfOf"] == 1
    assert got["wasDerivedFrom"] > 0

    # prov writes it back as PROV-JSON and reads that as the same document.
    with strict():
        again = prov.read(source=doc.serialize(format="json"), format="json")
    assert again == doc


def test_variable_versions_carry_their_values_and_the_trial_its_environment(example):
    db, paths = example
    doc = read(paths["prov-json"])
    accuracy = provctl_json(db, "values", "accuracy")[-1]
    [version] = [r for r in doc.get_records() if r.is_element()
                 and str(r.identifier).endswith(f"var-accuracy-{version_seq(db, 'accuracy')}")]
    attrs = {str(k): v for k, v in version.extra_attributes}
    assert attrs["pk:type"] == "float"
    assert float(attrs["prov:value"]) == accuracy["value"]
    # A tagged DataFrame carries its summary.
    [data] = [r for r in doc.get_records() if r.is_element() and str(r.identifier).startswith(
        f"{version.identifier.namespace.prefix}:var-data-")]
    summary = json.loads(dict((str(k), v) for k, v in data.extra_attributes)["pk:summary"])
    assert summary["kind"] == "dataframe", summary
    trial = doc.get_record("trial:trial")[0]
    env = {}
    for k, v in trial.extra_attributes:
        env.setdefault(str(k), set()).add(str(v))
    packages = provctl_json(db, "show", "1")["trial"]
    assert env["pk:pythonVersion"] == {packages["python_version"]}
    assert any(p.startswith("sklearn==") or p.startswith("scikit-learn==")
               for p in env["pk:package"]), env["pk:package"]
    start = trial.get_startTime()
    assert start is not None and start.tzinfo is not None


def version_seq(db: Path, name: str) -> int:
    """The order (seq) of the last execution that defined `name`."""
    graph = provctl_json(db, "graph", "--trial", "1")
    order = {e["id"]: e["order"] for e in provctl_json(db, "show", "1")["executions"]}
    return max(order[g["execution_id"]] for g in graph["executions"] if name in g["defines"])


def test_turtle_is_the_same_document(example):
    _, paths = example
    assert read(paths["prov-o"]) == read(paths["prov-json"])


def test_provn_follows_the_grammar_and_holds_the_same_records(example):
    _, paths = example
    ours = provn_grammar.read(paths["prov-n"].read_text())
    theirs = provn_grammar.records_of(read(paths["prov-json"]))
    assert len(ours) == len(theirs) > 100
    assert sorted(ours) == sorted(theirs)


def test_exports_are_the_same_every_time(example, tmp_path):
    db, paths = example
    again = export_all(db, tmp_path)
    for fmt in FORMATS:
        assert again[fmt].read_bytes() == paths[fmt].read_bytes(), fmt
    # Printed without -o: the same document.
    assert provctl(db, "export", "1", "--format", "prov-n").stdout == paths["prov-n"].read_text()


@pytest.mark.parametrize("bad", [
    'entity(trial:a b)',            # a space in a qualified name (MLProvCodeGen's bug)
    'entity(nope:a)',               # an undeclared prefix
    'entity(trial:a, [prov:label="x"y"])',  # an unescaped quote
    'used(trial:a)',                # too few arguments
    'entity(trial:a, [prov:label="line\nbreak"])',  # a raw line break in a string
])
def test_the_provn_reader_rejects_what_the_grammar_does(bad):
    text = f"document\n  prefix trial <urn:x#>\n  {bad}\nendDocument\n"
    with pytest.raises(provn_grammar.ProvNError):
        provn_grammar.read(text)
    provn_grammar.read("document\n  prefix trial <urn:x#>\n  entity(trial:a%20b)\nendDocument\n")


WRITE = "with open('prices.csv', 'w') as f:\n    f.write('rooms,price\\n3,250\\n')"
READ = "text = open('prices.csv').read()\nrows = text.splitlines()"


def test_prov_export_magic_shows_files_and_writes(kernel: Kernel, tmp_path: Path):
    kernel.run(WRITE)
    kernel.run(READ)
    reply, outputs = kernel.execute("%prov_export --format prov-json")
    assert reply["content"]["status"] == "ok", reply["content"]
    answer = magic_answer(outputs)
    assert "Trial 1 as prov-json" in answer["text/html"]
    assert answer.json["format"] == "prov-json"
    shown = tmp_path / "shown.json"
    shown.write_text(answer["text/plain"])
    doc = read(shown)
    sha = hashlib.sha256(b"rooms,price\n3,250\n").hexdigest()
    [file] = [r for r in doc.get_records() if r.is_element() and "pk:FileVersion" in
              {str(t) for t in r.get_asserted_types()}]
    attrs = {str(k): str(v) for k, v in file.extra_attributes}
    assert attrs["pk:sha256"] == sha and attrs["pk:path"] == "prices.csv"
    rels = {(PROV_N_MAP[r.get_type()], str(r.formal_attributes[0][1]),
             str(r.formal_attributes[1][1])) for r in doc.get_records() if r.is_relation()}
    assert ("wasGeneratedBy", str(file.identifier), "trial:execution-1") in rels
    assert ("used", "trial:execution-2", str(file.identifier)) in rels
    assert ("wasInformedBy", "trial:execution-2", "trial:execution-1") in rels

    answer = magic_answer(kernel.execute("%prov_export 1 --format prov-n -o 'out dir.provn'")[1])
    path = tmp_path / "out dir.provn"
    assert answer["text/plain"] == (f"Wrote trial 1 as prov-n to out dir.provn (1 file, "
                                    f"{path.stat().st_size} bytes).\n")
    records = provn_grammar.read(path.read_text())
    assert any(r[0] == "entity" and r[2][0] == str(file.identifier) for r in records)

    reply, outputs = kernel.execute("%prov_export --format prov-xml")
    assert reply["content"]["status"] == "error"
    assert "prov-json" in reply["content"]["evalue"], reply["content"]


AWKWARD = [
    "café = 1\nd = {'a b': 2, 'q\"': 3}\nd['a b'] += café",
    "import math\nnan, big, nothing, pair = math.nan, 2**70, None, (1, 'x')",
    "print('\\x1b[31mred\\x1b[0m \\\\ \"quoted\"\\ttab\\r\\n')",
    "d['a b'] / 0",
    "s = 'line\\nbreak ' + str(d['a b']) + str(big)",
]


def test_awkward_names_values_and_text_stay_valid(kernel: Kernel, tmp_path: Path):
    """Non-ASCII names, keys with spaces and quotes, NaN, a huge int, None, a tuple, ANSI
    colours, backslashes, tabs and a failed cell: all three documents stay valid and agree."""
    for code in AWKWARD:
        kernel.execute(code)
    paths = export_all(kernel.db, tmp_path)
    doc = read(paths["prov-json"])
    assert read(paths["prov-o"]) == doc
    assert sorted(provn_grammar.read(paths["prov-n"].read_text())) == \
        sorted(provn_grammar.records_of(doc))
    ids = {str(r.identifier) for r in doc.get_records() if r.is_element()}
    assert "trial:var-caf%C3%A9-1" in ids, ids
    assert "trial:var-d%5B%27a%20b%27%5D-1" in ids, ids
    failed = doc.get_record("trial:execution-4")[0]
    attrs = {str(k): v for k, v in failed.extra_attributes}
    assert attrs["pk:status"] == "error" and attrs["pk:error"].startswith("ZeroDivisionError")
    printed = [dict((str(k), v) for k, v in r.extra_attributes) for r in doc.get_records()
               if str(r.identifier).startswith("trial:output-3-")]
    assert printed[0]["prov:value"] == '\x1b[31mred\x1b[0m \\ "quoted"\ttab\r\n\n'
