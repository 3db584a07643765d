"""The kernel as a person uses it in JupyterLab, for "Python (prov)" and "Python 3" side by side:
the launcher entry and its logo, running cells, completion, inspection, `input()`, interrupting a
long cell from the toolbar, the debugger stopping at a breakpoint, and a restart from the menu
(which, for prov, starts a new trial in the store).
"""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from playwright.sync_api import expect

from jlab import KERNELS, Lab, Notebook, provctl, write_notebook

BOTH = ["python-prov", "python3"]


def test_launcher_lists_prov_with_logo(lab: Lab):
    with lab.step("launcher"):
        lab.goto("e2e-launcher")
        lab.page.locator('[data-command="launcher:create"]').first.click()
        for display in KERNELS.values():
            card = lab.page.locator(
                f'.jp-LauncherCard[data-category="Notebook"][title="{display}"]')
            expect(card).to_be_visible()
            img = card.locator(".jp-LauncherCard-icon img")
            expect(img).to_be_visible()
            loaded = img.evaluate("i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0")
            assert loaded, f"the launcher's logo for {display} did not load"
            box = img.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, f"{display} logo has no size"


@pytest.fixture(scope="module", params=BOTH)
def nb(request, lab: Lab) -> Notebook:
    kernel = request.param
    name = f"kernel-{kernel}.ipynb"
    write_notebook(lab.server.root / name, kernel, [""])
    with lab.step(f"{kernel}-open"):
        return lab.open_notebook(f"e2e-{kernel}", name, kernel)


def test_cells_run(nb: Notebook):
    with nb.lab.step(f"{nb.kernel}-run"):
        cell = nb.run("import numpy as np\narr = np.arange(6) * 7\nprint('sum', arr.sum())")
        expect(nb.outputs(cell)).to_have_text(re.compile(r"sum 105"))
        cell = nb.run("arr[-1]")
        expect(nb.outputs(cell)).to_contain_text("np.int64(35)")


@contextlib.contextmanager
def popup(nb: Notebook, step: str, code: str, key: str, selector: str) -> None:
    """A step: type CODE, press KEY, see the popup SELECTOR open and hand it to the caller's
    checks; then close it with Escape and empty the cell again."""
    popup = nb.page.locator(selector)
    with nb.lab.step(f"{nb.kernel}-{step}"):
        nb.type(code)
        nb.page.keyboard.press(key)
        expect(popup).to_be_visible()
        yield popup
    nb.page.keyboard.press("Escape")
    expect(popup).to_be_hidden()
    nb.clear_last()


def test_completion(nb: Notebook):
    with popup(nb, "complete", "arr.", "Tab", ".jp-Completer") as completer:
        expect(completer.locator('.jp-Completer-item[data-value="argmax"]')).to_be_visible()


def test_inspect(nb: Notebook):
    with popup(nb, "inspect", "np.arange(", "Shift+Tab", ".jp-Tooltip") as tooltip:
        expect(tooltip).to_contain_text("arange")


def test_input_through_stdin_box(nb: Notebook):
    with nb.lab.step(f"{nb.kernel}-input"):
        cell = nb.run("name = input('Your name? ')\nprint('hello', name)", wait=False)
        box = cell.locator(".jp-Stdin-input")
        expect(box).to_be_visible()
        box.fill("Ada")
        box.press("Enter")
        nb.wait_done(cell)
        expect(nb.outputs(cell).last).to_contain_text("hello Ada")


def test_interrupt_from_toolbar(nb: Notebook):
    with nb.lab.step(f"{nb.kernel}-interrupt"):
        start = time.monotonic()
        cell = nb.run("import time\ntime.sleep(30)", wait=False)
        nb.wait_status("Busy")
        nb.toolbar("notebook:interrupt-kernel").click()
        nb.wait_done(cell)
        expect(nb.outputs(cell).last).to_contain_text("KeyboardInterrupt")
        assert time.monotonic() - start < 25, "the sleep was not interrupted"
        nb.wait_status("Idle")
    with nb.lab.step(f"{nb.kernel}-alive-after-interrupt"):
        cell = nb.run("arr.sum() + 1")
        expect(nb.outputs(cell)).to_contain_text("106")


def test_debugger_stops_at_breakpoint(nb: Notebook):
    page = nb.page
    with nb.lab.step(f"{nb.kernel}-debugger-on"):
        toggle = nb.panel.locator(".jp-DebuggerBugButton")
        expect(toggle).to_be_visible()
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        sidebar = page.locator(".jp-DebuggerSidebar")
        expect(sidebar).to_be_visible()
    with nb.lab.step(f"{nb.kernel}-debugger-breakpoint"):
        cell = nb.type("total = 0\nfor k in range(3):\n    total += k\nprint('total', total)")
        # The gutter's first element is a hidden spacer, so nth(3) is line 3, `total += k`.
        line3 = cell.locator(".cm-breakpoint-gutter .cm-gutterElement").nth(3)
        line3.click()
        expect(line3.locator(".cm-breakpoint-icon")).to_have_count(1)
        expect(sidebar.locator(".jp-DebuggerBreakpoint-line")).to_have_text("3")
    with nb.lab.step(f"{nb.kernel}-debugger-paused"):
        page.keyboard.press("Shift+Enter")
        k = sidebar.locator(".jp-DebuggerVariables jp-tree-item", has=page.locator(
            ".jp-DebuggerVariables-name", has_text=re.compile(r"^k$")))
        expect(k.locator(".jp-DebuggerVariables-detail")).to_have_text("0", timeout=60_000)
        expect(sidebar.locator(".jp-DebuggerCallstackFrame-location")).to_contain_text(":3")
        expect(cell.locator(".jp-DebuggerEditor-highlight")).to_be_visible()
    with nb.lab.step(f"{nb.kernel}-debugger-continue"):
        cont = sidebar.locator('[data-command="debugger:continue"]')
        for value in ("1", "2"):  # the loop stops at the breakpoint again, one k further
            cont.click()
            expect(k.locator(".jp-DebuggerVariables-detail")).to_have_text(value)
        cont.click()
        nb.wait_done(cell)
        expect(nb.outputs(cell).last).to_contain_text("total 3")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")


def test_restart_from_menu(nb: Notebook):
    prov = nb.kernel == "python-prov"
    before = len(provctl(nb.lab.server, "trials")) if prov else 0
    with nb.lab.step(f"{nb.kernel}-restart"):
        nb.lab.menu("Kernel", "kernelmenu:restart")
        dialog = nb.page.locator(".jp-Dialog")
        expect(dialog).to_be_visible()
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        expect(dialog).to_be_hidden()
        nb.wait_status("Idle")
        cell = nb.run("'arr' in globals()")
        expect(nb.outputs(cell)).to_have_text("False")
    if prov:
        with nb.lab.step(f"{nb.kernel}-restart-new-trial"):
            trials = provctl(nb.lab.server, "trials")
            assert len(trials) == before + 1, f"trials before {before}, after: {trials}"
