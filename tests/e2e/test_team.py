"""The magics on a team store as JupyterLab draws them: a trial is pushed to a real PostgreSQL
(`$PROV_TEST_PG`, a database of this test's own), then `%trials --remote team` answers with the
team's trial list as a table (who ran each trial, where), and `%trial_diff team:1` compares the
pushed trial with the kernel's next one (after a restart)."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from playwright.sync_api import expect

from jlab import Lab, Notebook, provctl, write_notebook

NAME = "team.ipynb"


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   capture_output=True, timeout=60)


def _with_database(url: str, db: str) -> str:
    base, sep, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{db}{sep}{query}"


@pytest.fixture(scope="module")
def team_url():
    admin = os.environ.get("PROV_TEST_PG")
    if not admin:
        if os.environ.get("CI") == "true":
            pytest.fail("PROV_TEST_PG is not set: scripts/test.sh starts the test server")
        pytest.skip("no PostgreSQL (eval \"$(bash scripts/pg.sh env target/pg)\")")
    name = f"prov_test_{uuid.uuid4().hex}"
    _psql(admin, f"CREATE DATABASE {name}")
    try:
        yield _with_database(admin, name)
    finally:
        _psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_remote_trials_and_diff_look_right(lab: Lab, team_url: str):
    write_notebook(lab.server.root / NAME, "python-prov", [""])
    with lab.step("team-record"):
        nb = lab.open_notebook("e2e-team", NAME, "python-prov")
        nb.run("%trial_name e2e-team")
        nb.run("lr = 0.1\nacc = 0.91")
        nb.run("%tag_var acc metric")
    local = provctl(lab.server, "trials", "--all")
    mine = next(t for t in local if t["name"] == "e2e-team")
    provctl(lab.server, "remote", "add", "team", team_url)
    provctl(lab.server, "push", "team", str(mine["id"]))

    # A new trial in the same notebook: restart the kernel, try another learning rate.
    with lab.step("team-restart"):
        lab.menu("Kernel", "kernelmenu:restart")
        dialog = nb.page.locator(".jp-Dialog")
        expect(dialog).to_be_visible()
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        expect(dialog).to_be_hidden()
        nb.wait_status("Idle")
        nb.run("lr = 0.2\nacc = 0.95")

    with lab.step("team-trials"):
        cell = nb.run("%trials --remote team")
    outs = Notebook.outputs(cell)
    cell.scroll_into_view_if_needed()
    with lab.step("team-trials-answer", target=cell):
        expect(outs).to_have_count(1)
        assert outs.first.get_attribute("data-mime-type") == "text/html"
        assert not outs.locator(".jp-RenderedJSON").count(), "a JSON tree, not the answer"
        table = outs.locator("table")
        expect(table).to_have_count(1)
        rows = table.first.locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("e2e-team")
        expect(rows.first).to_contain_text("acc=0.91")
        assert mine["user"], f"the kernel records who ran the trial: {mine}"
        expect(rows.first).to_contain_text(mine["user"])

    with lab.step("team-diff"):
        cell = nb.run("%trial_diff team:1")
    outs = Notebook.outputs(cell)
    cell.scroll_into_view_if_needed()
    with lab.step("team-diff-answer", target=cell):
        expect(outs.first).to_contain_text("Diff of")
        expect(outs.first).to_contain_text("lr = 0.1")
        expect(outs.first).to_contain_text("lr = 0.2")
        assert "error" not in (outs.first.get_attribute("class") or ""), "the magic failed"

    with lab.step("team-unknown-remote"):
        cell = nb.run("%trials --remote nope")
    expect(Notebook.outputs(cell).first).to_contain_text("no remote named \"nope\"")
    expect(Notebook.outputs(cell).first).to_contain_text("team")
