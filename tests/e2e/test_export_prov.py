"""`%prov_export` as JupyterLab draws it: after two cells (the second using the first's value),
`%prov_export --format prov-n` shows the trial's PROV-N under a title, as HTML (not JupyterLab's
JSON tree) in a box that scrolls rather than pushing the notebook away, and `%prov_export
--format prov-json -o trial.json` says where it wrote a file that is there, next to the
notebook."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from jlab import Lab

NAME = "export.ipynb"
CELLS = ["x = 1", "y = x + 1\nprint(y)"]


@pytest.fixture(scope="module")
def export_cells(lab: Lab):
    with lab.step("export-run"):
        _, ran = lab.run_cells("e2e-export", NAME, CELLS + [
            "%prov_export --format prov-n",
            "%prov_export --format prov-json -o e2e_trial.json",
        ])
    return ran[-2], ran[-1]


def test_prov_export_shows_the_document(lab: Lab, export_cells):
    cell, _ = export_cells
    with lab.answer("export-shown", cell) as out:
        expect(out).to_contain_text("as prov-n (")
        pre = out.locator("pre")
        expect(pre).to_have_count(1)
        expect(pre).to_contain_text("document")
        expect(pre).to_contain_text("wasInformedBy(trial:execution-2, trial:execution-1)")
        expect(pre).to_contain_text('prov:value="y = x + 1\\nprint(y)"')
        expect(pre).to_contain_text("endDocument")
        # The document scrolls inside its box: the output is no taller than the box allows.
        box = pre.bounding_box()
        font = float(pre.evaluate("p => parseFloat(getComputedStyle(p).fontSize)"))
        assert box and box["height"] <= 32 * font + 2, box
        assert pre.evaluate("p => p.scrollHeight > p.clientHeight"), "the whole document fits?"


def test_prov_export_says_where_it_wrote(lab: Lab, export_cells):
    _, cell = export_cells
    path = lab.server.root / "e2e_trial.json"
    with lab.answer("export-written", cell) as out:
        size = path.stat().st_size
        expect(out).to_contain_text(f"as prov-json to e2e_trial.json (1 file, {size} bytes).")
    doc = json.loads(path.read_text())
    assert "trial:execution-2" in doc["activity"]
