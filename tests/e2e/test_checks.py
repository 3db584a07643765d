"""`%prov_check` as JupyterLab draws it: cells that fit a model on the test part of a split (a
notebook-local `train_test_split` and model, so nothing beyond the standard library is needed),
then `%prov_check`: the answer is HTML, one entry per finding with its severity, rule,
executions and message, not JupyterLab's JSON tree; `%prov_check --rules` is a table."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jlab import Lab, Notebook

NAME = "checks.ipynb"
CELLS = [
    "def train_test_split(X, y):\n    return X[:6], X[6:], y[:6], y[6:]\n\n"
    "class Model:\n    def fit(self, X, y):\n        self.n = len(X)\n        return self",
    "X = list(range(10))\ny = [v % 2 for v in X]\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y)",
    "model = Model()\nmodel.fit(X_test, y_test)",
]


@pytest.fixture(scope="module")
def check_cells(lab: Lab):
    with lab.step("checks-run"):
        _, ran = lab.run_cells("e2e-checks", NAME, CELLS + ["%prov_check", "%prov_check --rules"])
    return ran[-2], ran[-1]


def test_prov_check_shows_the_finding_as_html(lab: Lab, check_cells):
    cell, _ = check_cells
    with lab.answer("checks-answer", cell) as answer:
        expect(answer).to_contain_text("checks of trial")
        expect(answer).to_contain_text("1 finding")
        heading = answer.locator("span", has_text="data-leakage")
        expect(heading).to_have_count(1)
        expect(heading).to_contain_text("error")
        expect(heading).to_contain_text("In[2] In[3]")
        expect(answer).to_contain_text("In[3] line 2: `model.fit(X_test, y_test)`")
        expect(answer).to_contain_text("rules that ran: data-leakage, stale-result")


def test_prov_check_rules_is_a_table(lab: Lab, check_cells):
    _, cell = check_cells
    with lab.answer("checks-rules", cell) as answer:
        table, header = Notebook.only_table(answer)
        assert header == ["rule", "severity", "finds"], header
        expect(table.locator("tbody tr")).to_have_count(6)
        expect(table.locator("tbody tr").first).to_contain_text("data-leakage")
        expect(table.locator("tbody tr").last).to_contain_text("expectation-not-reached")
        expect(answer).to_contain_text("data-leakage: X_train, X_test, y_train, y_test = "
                                       "train_test_split(X, y); model.fit(X_test, y_test)")
        clipped = answer.evaluate("o => o.scrollWidth > o.clientWidth + 1")
        assert not clipped, "the rules are cut off at the right edge"
