"""Driving JupyterLab 4 in Chromium as a person would: open a notebook, type into a cell, run it,
wait for what the page shows. Every wait is on page state (a locator, the status bar's kernel
text), never a fixed sleep.

Each step of a test runs inside `Lab.step(name)`, which writes `target/e2e/NN-name.png` when the
step ends, and on a failure writes `NN-name-FAILED.png` and re-raises with the step's name and
the screenshot's path in the message.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOTS = REPO_ROOT / "target" / "e2e"

# Page-state timeouts: generous, as the machine may be busy with builds.
KERNEL_TIMEOUT = 90_000
CELL_TIMEOUT = 60_000
UI_TIMEOUT = 30_000

KERNELS = {"python-prov": "Python (prov)", "python3": "Python 3 (ipykernel)"}

_counter = itertools.count(1)
expect.set_options(timeout=UI_TIMEOUT)


@dataclass
class Server:
    url: str
    token: str
    root: Path
    db: Path
    env: dict
    log: Path


def provctl(server: Server, *args: str):
    """`provctl ARGS --json` against the server's store, parsed."""
    exe = REPO_ROOT / "target" / "release" / "provctl"
    out = subprocess.run([str(exe), "--db", str(server.db), *args, "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"provctl {' '.join(args)} failed: {out.stderr}"
    return json.loads(out.stdout)


class StepFailed(AssertionError):
    pass


def write_notebook(path: Path, kernel: str, sources: list[str]):
    """A notebook with code cells of SOURCES (no outputs) for kernelspec KERNEL."""
    cells = [
        {"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "execution_count": None,
         "outputs": [], "source": src}
        for i, src in enumerate(sources)
    ]
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": kernel, "display_name": KERNELS.get(kernel, kernel),
                           "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


class Lab:
    def __init__(self, page: Page, server: Server):
        self.page = page
        self.server = server
        page.set_default_timeout(UI_TIMEOUT)

    # ---- steps and screenshots

    @contextlib.contextmanager
    def step(self, name: str, target: Locator | None = None) -> Iterator[None]:
        """Run a named step; screenshot the page (or TARGET) after it, or on failure."""
        n = next(_counter)
        base = f"{n:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}"
        try:
            yield
        except Exception as e:
            shot = SHOTS / f"{base}-FAILED.png"
            self._shot(shot, target)
            raise StepFailed(f"step '{name}' failed (screenshot: {shot}): {e}") from e
        self._shot(SHOTS / f"{base}.png", target)

    def _shot(self, path: Path, target: Locator | None) -> None:
        """Screenshot TARGET (the page when None, or when TARGET cannot be shot)."""
        try:
            if target is not None:
                try:
                    self._shot_element(path, target)
                    return
                except Exception:
                    pass
            self.page.screenshot(path=str(path), timeout=UI_TIMEOUT)
        except Exception as e:  # a screenshot must never hide the step's own error
            print(f"screenshot {path} failed: {e}")

    def _shot_element(self, path: Path, target: Locator) -> None:
        """An element taller than the window is shot in a window made tall enough for it: the
        notebook scrolls inside the page, so the page itself has nothing below the window."""
        view = self.page.viewport_size
        box = target.bounding_box()
        need = int(box["height"]) + 300 if box else 0
        if view and need > view["height"]:
            self.page.set_viewport_size({"width": view["width"], "height": min(need, 8000)})
            try:
                target.scroll_into_view_if_needed()
                target.screenshot(path=str(path), timeout=10_000)
            finally:
                self.page.set_viewport_size(view)
        else:
            target.screenshot(path=str(path), timeout=10_000)

    # ---- navigation

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.server.url}{path}{sep}token={self.server.token}"

    def goto(self, workspace: str, tree: str | None = None) -> None:
        """Open a fresh workspace (nothing restored from an earlier one), at TREE if given."""
        path = f"/lab/workspaces/{workspace}"
        if tree:
            path += f"/tree/{tree}"
        self.page.goto(self.url(path + "?reset"))
        expect(self.page.locator("#jp-main-dock-panel")).to_be_visible(timeout=KERNEL_TIMEOUT)

    def open_notebook(self, workspace: str, name: str, kernel: str) -> "Notebook":
        self.goto(workspace, name)
        nb = Notebook(self, kernel)
        expect(nb.cells.first).to_be_visible(timeout=KERNEL_TIMEOUT)
        nb.wait_status("Idle")
        return nb

    def run_cells(self, workspace: str, name: str, sources: list[str],
                  kernel: str = "python-prov") -> tuple["Notebook", list[Locator]]:
        """Writes a notebook of one empty cell, opens it, then types and runs each of SOURCES
        in turn as a person would (Shift+Enter, each waited for); the notebook and the cells
        that ran, in order."""
        write_notebook(self.server.root / name, kernel, [""])
        nb = self.open_notebook(workspace, name, kernel)
        return nb, [nb.run(code) for code in sources]

    def run_all(self, workspace: str, name: str, kernel: str, sources: list[str]) -> "Notebook":
        """Writes a notebook of SOURCES, opens it, runs all its cells from the Run menu and
        waits until every cell ran and the kernel is idle again."""
        write_notebook(self.server.root / name, kernel, sources)
        nb = self.open_notebook(workspace, name, kernel)
        expect(nb.cells).to_have_count(len(sources))
        self.menu("Run", "runmenu:run-all")
        for i in range(len(sources)):
            nb.wait_done(nb.cells.nth(i), timeout=KERNEL_TIMEOUT)
        nb.wait_status("Idle")
        return nb

    @contextlib.contextmanager
    def answer(self, name: str, cell: Locator) -> Iterator[Locator]:
        """Step NAME on CELL, scrolled into view and shot: yields the cell's HTML answer
        (`Notebook.html_answer`) for the step to check."""
        cell.scroll_into_view_if_needed()
        with self.step(name, target=cell):
            yield Notebook.html_answer(cell)

    def menu(self, menu: str, command: str) -> None:
        """Click MENU in the menu bar, then the item running COMMAND."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


class Notebook:
    """The notebook shown in the main area of the current workspace."""

    def __init__(self, lab: Lab, kernel: str):
        self.lab = lab
        self.page = lab.page
        self.kernel = kernel
        self.display = KERNELS[kernel]
        self.panel = self.page.locator(".jp-NotebookPanel:visible")
        self.cells = self.panel.locator(".jp-Notebook .jp-Cell")

    def status(self) -> Locator:
        return self.page.locator("#jp-main-statusbar")

    def wait_status(self, state: str, timeout: float = KERNEL_TIMEOUT) -> None:
        """Wait for the status bar to read e.g. 'Python (prov) | Idle'."""
        expect(self.status()).to_contain_text(f"{self.display} | {state}", timeout=timeout)

    def toolbar(self, command: str) -> Locator:
        return self.panel.locator(f'.jp-Toolbar [data-command="{command}"]')

    def edit_last(self) -> Locator:
        """Put the cursor into the last cell's editor; returns that cell."""
        cell = self.cells.nth(self.cells.count() - 1)  # pinned: .last moves on Shift+Enter
        cell.locator(".cm-content").click()
        expect(cell.locator(".cm-editor.cm-focused")).to_be_visible()
        return cell

    def type(self, code: str) -> Locator:
        cell = self.edit_last()
        self.page.keyboard.insert_text(code)
        return cell

    def run(self, code: str, wait: bool = True, timeout: float = CELL_TIMEOUT) -> Locator:
        """Type CODE into the last (empty) cell and run it with Shift+Enter."""
        n = self.cells.count()
        cell = self.type(code)
        self.page.keyboard.press("Shift+Enter")
        # Shift+Enter on the last cell appends a new one for the next run.
        expect(self.cells).to_have_count(n + 1)
        if wait:
            self.wait_done(cell, timeout)
        return cell

    def wait_done(self, cell: Locator, timeout: float = CELL_TIMEOUT) -> None:
        expect(cell.locator(".jp-InputArea-prompt")).to_have_text(
            re.compile(r"^\[\d+\]:$"), timeout=timeout)

    @staticmethod
    def outputs(cell: Locator) -> Locator:
        return cell.locator(".jp-OutputArea-output")

    @staticmethod
    def html_answer(cell: Locator) -> Locator:
        """The cell's only output, checked to be a magic's HTML answer (not JupyterLab's JSON
        tree of it)."""
        outs = Notebook.outputs(cell)
        expect(outs).to_have_count(1)
        assert not outs.locator(".jp-RenderedJSON").count(), "a JSON tree, not the answer"
        assert outs.first.get_attribute("data-mime-type") == "text/html"
        return outs.first

    @staticmethod
    def expect_rows(table: Locator, rows: list[list[str]]) -> None:
        """TABLE's body has as many rows as ROWS, each showing every text of its entry."""
        shown = table.locator("tbody tr")
        expect(shown).to_have_count(len(rows))
        for i, texts in enumerate(rows):
            for text in texts:
                expect(shown.nth(i)).to_contain_text(text)

    @staticmethod
    def only_table(answer: Locator) -> tuple[Locator, list[str]]:
        """The one table in ANSWER, checked to be the only one, and its header cells' texts."""
        tables = answer.locator("table")
        expect(tables).to_have_count(1)
        return tables.first, tables.first.locator("th").all_inner_texts()

    def clear_last(self) -> None:
        """Empty the last cell's editor (after a completion or tooltip try)."""
        self.edit_last()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
