"""`%expectations` as JupyterLab draws it: a cell with three asserts fails at the second (its
traceback is the user's, as usual); `%expectations` answers with a table, not JupyterLab's JSON
tree: the first assert passed, the second failed with its message, the third not reached."""

from __future__ import annotations

from playwright.sync_api import expect

from jlab import Lab, Notebook

NAME = "expectations.ipynb"
CHECK = ("assert acc > 0.5\n"
         "assert acc > 0.9, f'acc {acc} too low'\n"
         "assert acc < 1")


def test_expectations_answer_is_a_table(lab: Lab):
    with lab.step("expectations-run"):
        _, (_, failing, cell) = lab.run_cells(
            "e2e-expectations", NAME, ["acc = 0.8", CHECK, "%expectations"])
        expect(Notebook.outputs(failing).first).to_contain_text("AssertionError: acc 0.8 too low")
    with lab.answer("expectations-answer", cell) as answer:
        expect(answer).to_contain_text("1 passed, 1 failed, 1 not reached")
        table, header = Notebook.only_table(answer)
        assert header == ["cell", "line", "expectation", "latest", "history", "message"], header
        Notebook.expect_rows(table, [["passed"], ["failed", "acc 0.8 too low"], ["not reached"]])
