"""Live warnings as JupyterLab draws them: after `%prov_warn on`, the cell that fits a model on
the test part of a split (a notebook-local `train_test_split` and model, so nothing beyond the
standard library is needed) shows one stderr line under its own output, and the cells before
it show none; a cell edited in place and re-run under a cell that read it warns that the
reader is stale."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jlab import Lab, Notebook

NAME = "warn.ipynb"
SPLIT = (
    "def train_test_split(X, y):\n    return X[:6], X[6:], y[:6], y[6:]\n\n"
    "class Model:\n    def fit(self, X, y):\n        self.n = len(X)\n        return self\n\n"
    "X = list(range(10))\ny = [v % 2 for v in X]\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y)"
)
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


@pytest.fixture(scope="module")
def warned(lab: Lab):
    with lab.step("warn-run"):
        nb, ran = lab.run_cells("e2e-warn", NAME, [
            "%prov_warn on",
            SPLIT,
            "model = Model()\n_ = model.fit(X_train, y_train)",
            "print('fitting on', len(X_test), 'rows')\n_ = model.fit(X_test, y_test)",
            "a = 1",
            "b = a * 2",
        ])
        nb.wait_status("Idle")
    return nb, *ran


def test_the_leaking_cell_shows_the_warning_under_its_output(lab: Lab, warned):
    nb, on, split, train, leak, *_ = warned
    leak.scroll_into_view_if_needed()
    with lab.step("warn-leak", target=leak):
        outs = Notebook.outputs(leak)
        expect(outs).to_have_count(2)
        expect(outs.first).to_contain_text("fitting on 4 rows")
        expect(outs.last).to_have_attribute("data-mime-type", "application/vnd.jupyter.stderr")
        expect(outs.last).to_contain_text("prov error (data-leakage): In[4] line 2: "
                                          "`model.fit(X_test, y_test)`")
        assert outs.last.inner_text().count("prov ") == 1
    for quiet in (split, train):
        expect(quiet.locator(STDERR)).to_have_count(0)
    expect(Notebook.outputs(on).first).to_contain_text("Live warnings are now on")


def test_an_edited_cell_re_run_warns_under_itself(lab: Lab, warned):
    nb, *_, first, reader = warned
    first.locator(".cm-content").click()
    lab.page.keyboard.press("Control+a")
    lab.page.keyboard.insert_text("a = 2")
    lab.page.keyboard.press("Control+Enter")  # run in place
    expect(first.locator(".jp-InputArea-prompt")).to_have_text("[7]:")
    nb.wait_status("Idle")
    first.scroll_into_view_if_needed()
    with lab.step("warn-stale", target=first):
        warning = first.locator(STDERR)
        expect(warning).to_have_count(1)
        expect(warning).to_contain_text("prov warning (stale-result): In[6] used `a` from "
                                        "In[5], but that cell was edited and re-run since (In[7])")
        expect(reader.locator(STDERR)).to_have_count(0)
