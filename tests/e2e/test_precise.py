"""What a precise answer looks like in JupyterLab: a change prov only assumes is said to be one
in the `%backwards_deps --statements` answer, as a visible line of its own, not hidden in JSON;
and a one-cell alias with a mutation is in the `%slice` the page shows."""

from __future__ import annotations

from playwright.sync_api import expect

from jlab import Lab

NAME = "precise.ipynb"
# A module of the user's that prov has no list for: calling its function for its effect may
# change what it is given, an assumption the answer must say.
HELPERS = "def tidy(xs):\n    xs.sort()\n"
SOURCES = [
    "from prov_e2e_helpers import tidy\ndata = [3, 1, 2]\ntidy(data)\ntotal = data[0] * 10",
    "%backwards_deps total --statements",
    "a = [1, 2]\nb = a\nb.append(3)\nc = sum(a) * 2",
    "%slice c",
]


def test_assumed_changes_and_in_cell_aliases_show_in_the_page(lab: Lab):
    (lab.server.root / "prov_e2e_helpers.py").write_text(HELPERS)
    with lab.step("precise-run-all"):
        nb = lab.run_all("e2e-precise", NAME, "python-prov", SOURCES)

    deps = nb.cells.nth(1)
    deps.scroll_into_view_if_needed()
    with lab.step("precise-assumed", target=deps):
        shown = nb.outputs(deps)
        expect(shown.first).to_contain_text("tidy(data) may change data")
        expect(shown.first).to_contain_text("assumed")
        assert not shown.locator(".jp-RenderedJSON").count(), "a JSON tree, not the answer"

    sliced = nb.cells.nth(3)
    sliced.scroll_into_view_if_needed()
    with lab.step("precise-slice", target=sliced):
        text = nb.outputs(sliced).first.inner_text()
        for line in ("a = [1, 2]", "b = a", "b.append(3)", "c = sum(a) * 2"):
            assert line in text, text
