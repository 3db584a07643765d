"""`%prov_export` as JupyterLab draws it: after two cells (the second using the first's value),
`%prov_export --format prov-n` shows the trial's PROV-N under a title, as HTML (not JupyterLab's
JSON tree) in a box that scrolls rather than pushing the notebook away, and `%prov_export
--format prov-json -o trial.json` says where it wrote a file that is there, next to the
notebook."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from jlab import Lab, Notebook, write_notebook

NAME = "export.ipynb"
CELLS = ["x = 1", "y = x + 1\nprint(y)"]


@pytest.fixture(scope="module")
def export_cells(lab: Lab):
    write_notebook(lab.server.root / NAME, "python-prov", [""])
    with lab.step("export-run"):
        nb = lab.open_notebook("e2e-export", NAME, "python-prov")
        for code in CELLS:
            nb.run(code)
        shown = nb.run("%prov_export --format prov-n")
        written = nb.run("%prov_export --format prov-json -o e2e_trial.json")
    return shown, written


def only_html_output(cell):
    outs = Notebook.outputs(cell)
    expect(outs).to_have_count(1)
    assert not outs.locator(".jp-RenderedJSON").count(), "a JSON tree, not the answer"
    assert outs.first.get_attribute("data-mime-type") == "text/html"
    return outs.first


def test_prov_export_shows_the_document(lab: Lab, export_cells):
    cell, _ = export_cells
    cell.scroll_into_view_if_needed()
    with lab.step("export-shown", target=cell):
        out = only_html_output(cell)
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
    cell.scroll_into_view_if_needed()
    path = lab.server.root / "e2e_trial.json"
    with lab.step("export-written", target=cell):
        out = only_html_output(cell)
        size = path.stat().st_size
        expect(out).to_contain_text(f"as prov-json to e2e_trial.json (1 file, {size} bytes).")
    doc = json.loads(path.read_text())
    assert "trial:execution-2" in doc["activity"]
