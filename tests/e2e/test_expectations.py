"""`%expectations` as JupyterLab draws it: a cell with three asserts fails at the second (its
traceback is the user's, as usual); `%expectations` answers with a table, not JupyterLab's JSON
tree: the first assert passed, the second failed with its message, the third not reached."""

from __future__ import annotations

from playwright.sync_api import expect

from jlab import Lab, Notebook, write_notebook

NAME = "expectations.ipynb"
CHECK = ("assert acc > 0.5\n"
         "assert acc > 0.9, f'acc {acc} too low'\n"
         "assert acc < 1")


def test_expectations_answer_is_a_table(lab: Lab):
    write_notebook(lab.server.root / NAME, "python-prov", [""])
    with lab.step("expectations-run"):
        nb = lab.open_notebook("e2e-expectations", NAME, "python-prov")
        nb.run("acc = 0.8")
        failing = nb.run(CHECK)
        expect(Notebook.outputs(failing).first).to_contain_text("AssertionError: acc 0.8 too low")
        cell = nb.run("%expectations")
    outs = Notebook.outputs(cell)
    cell.scroll_into_view_if_needed()
    with lab.step("expectations-answer", target=cell):
        expect(outs).to_have_count(1)
        assert not outs.locator(".jp-RenderedJSON").count(), "a JSON tree, not the answer"
        assert outs.first.get_attribute("data-mime-type") == "text/html"
        expect(outs.first).to_contain_text("1 passed, 1 failed, 1 not reached")
        tables = outs.locator("table")
        expect(tables).to_have_count(1)
        header = tables.first.locator("th").all_inner_texts()
        assert header == ["cell", "line", "expectation", "latest", "history", "message"], header
        rows = tables.first.locator("tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("passed")
        expect(rows.nth(1)).to_contain_text("failed")
        expect(rows.nth(1)).to_contain_text("acc 0.8 too low")
        expect(rows.nth(2)).to_contain_text("not reached")
