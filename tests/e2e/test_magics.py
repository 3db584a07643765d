"""Every prov magic's answer as JupyterLab draws it: HTML (tables) or a picture, never JupyterLab's
JSON tree; `%backwards_deps` and `%var_evolution` draw a visible picture; `%trial_diff` shows the
changed value; `%prov help` is not clipped. Then the saved notebook, edited on disk so that its
signature no longer matches, is opened untrusted and must still show the pictures, with no text
of a stripped SVG leaking into the page.

A first trial ("baseline", acc = 0.125) is recorded beforehand through jupyter_client; the
notebook in the browser is the second (acc = 0.875), so the diffs and the evolution have content.

With PROV_E2E_DOCS=1 (scripts/screenshots.sh) the cells of `%backwards_deps`, `%trial_diff` and
`%var_evolution` are also written to docs/ for the README.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbformat.sign import NotebookNotary
from playwright.sync_api import Locator, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from jlab import Lab, Notebook, Server

NAME = "magics.ipynb"
UNTRUSTED = "magics-untrusted.ipynb"
# One statement a cell, so the dependency graph has several executions to draw.
SETUP = ["import numpy as np", "acc = {acc}", "base = np.arange(5)", "data = base * 2",
         "result = data.sum() + acc"]

# (magic line, what the answer must show beyond HTML-or-picture)
MAGICS = [
    ("%trial_name current", None),
    ("%tag_var acc metric", None),
    # Early, so that the code diff holds the changed cell rather than the magics that follow.
    ("%trial_diff baseline", "diff"),
    ("%trial_intersection_diff baseline", None),
    ("%prov help", "help"),
    ("%prov", None),
    ("%tag_var data\n%untag_var data", None),
    ("%tag_cell train", None),
    ("%tags", None),
    ("%trials", None),
    ("%backwards_deps result", "picture"),
    ("%backwards_deps result --statements", None),
    ("%global_backwards_deps result", None),
    ("%slice result", None),
    ("%var_values acc", None),
    ("%var_evolution acc", "picture"),
    ("%files", None),
    ("%expectations", None),
]
DOCS = {"%backwards_deps result": "backwards_deps.png", "%trial_diff baseline": "trial_diff.png",
        "%var_evolution acc": "var_evolution.png"}

ALLOWED_MIME = re.compile(r"^(text/html|image/(png|svg\+xml|jpeg|gif|webp))$")

# The visible pictures in an output: <svg> or loaded <img> with a real size.
JS_PICTURES = """out => [...out.querySelectorAll('svg, img')].filter(e => {
  const r = e.getBoundingClientRect();
  const s = getComputedStyle(e);
  const loaded = e.tagName.toLowerCase() !== 'img' || (e.complete && e.naturalWidth > 0);
  return r.width > 20 && r.height > 20 && s.visibility !== 'hidden' && s.display !== 'none'
         && loaded;
}).length"""

# An output wider than the room JupyterLab gives it: the answer's own HTML should wrap, or scroll
# in a box of its own; else the output node itself scrolls, with its right part cut off at the
# edge (and no scrollbar in sight until hovered). Returns the cut-off elements, [] when it fits.
JS_CLIPPED = """out => {
  if (out.scrollWidth <= out.clientWidth + 1) return [];
  const edge = out.getBoundingClientRect().left + out.clientWidth + 1;
  const cut = [...out.querySelectorAll('td, th, p, pre, div, span')].filter(
    e => e.getBoundingClientRect().right > edge && e.children.length === 0);
  return [`output scrollWidth ${out.scrollWidth} > clientWidth ${out.clientWidth}`].concat(
    cut.slice(0, 3).map(e => (e.textContent || '').trim().slice(0, 60)));
}"""


# The text of the outputs that is not inside an <svg> (where labels belong).
JS_TEXT_OUTSIDE_SVG = """os => os.map(o => {
  const walk = document.createTreeWalker(o, NodeFilter.SHOW_TEXT);
  let text = '', node;
  while ((node = walk.nextNode())) if (!node.parentElement.closest('svg')) text += node.data;
  return text;
}).join('')"""


def seed_baseline(server: Server) -> None:
    """Record the first trial, named 'baseline', through a plain jupyter_client kernel."""
    env = dict(server.env, PROV_TRIAL_NAME="baseline")
    km = KernelManager(kernel_name="python-prov")
    km.start_kernel(env=env, cwd=str(server.root))
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        for code in [c.format(acc=0.125) for c in SETUP] + ["%tag_var acc metric"]:
            reply = kc.execute_interactive(code, timeout=60, output_hook=lambda m: None)
            assert reply["content"]["status"] == "ok", reply["content"]
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=False)


@pytest.fixture(scope="module")
def magics_nb(lab: Lab) -> tuple[Notebook, dict[str, Locator]]:
    seed_baseline(lab.server)
    sources = [c.format(acc=0.875) for c in SETUP] + [m for m, _ in MAGICS]
    with lab.step("magics-run-all"):
        nb = lab.run_all("e2e-magics", NAME, "python-prov", sources)
        # Select the first cell, so no answer below is drawn as the active cell.
        nb.page.keyboard.press("Escape")
        nb.cells.first.locator(".jp-InputPrompt").click()
        expect(nb.cells.first).to_have_class(re.compile(r"jp-mod-active"))
    cells = {m: nb.cells.nth(len(SETUP) + i) for i, (m, _) in enumerate(MAGICS)}
    return nb, cells


def answer_problems(cell: Locator, magic: str) -> list[str]:
    """What is wrong with the answer of MAGIC as the page shows it in CELL (nothing: [])."""
    outs = Notebook.outputs(cell)
    n = outs.count()
    if n == 0:
        return ["no output"]
    problems = []
    for i in range(n):
        out = outs.nth(i)
        text = out.inner_text()[:100].replace("\n", " ")
        if "jp-RenderedJSON" in (out.get_attribute("class") or "") \
                or out.locator(".jp-RenderedJSON").count():
            problems.append(f"output {i} is JupyterLab's JSON tree: {text!r}")
            continue
        mime = out.get_attribute("data-mime-type") or "(no data-mime-type)"
        if not ALLOWED_MIME.match(mime):
            problems.append(f"output {i} is {mime}: {text!r}")
    what = dict(MAGICS)[magic]
    if what == "picture" and not visible_pictures(cell):
        problems.append("no visible picture (<svg>/<img> with a size)")
    if what == "diff":
        rows = outs.locator("tr", has_text="acc").filter(has_text="0.125")
        if not rows.filter(has_text="0.875").count():
            shown = [r.inner_text().replace("\n", " ")[:120]
                     for r in outs.locator("tr").all()][:20]
            problems.append("no table row shows acc changing from 0.125 to 0.875; rows: "
                            + repr(shown))
        # A changed output shows its content, never a line of MIME types and hashes, and
        # prov's own answers (here %trial_name's) are left out.
        text = outs.evaluate_all("os => os.map(o => o.innerText).join('\\n')")
        hashes = re.findall(r"\[[a-z]+/[\w.+-]+ [0-9a-f]{8,}\]", text)
        if hashes:
            problems.append(f"MIME-type hash lines among the outputs: {hashes[:3]}")
        if 'now named "current"' in text:
            problems.append("prov's own answer (%trial_name) is diffed among the outputs")
    if what == "help":
        for i in range(n):
            clipped = outs.nth(i).evaluate(JS_CLIPPED)
            if clipped:
                problems.append(f"output {i} is cut off at the right edge: {clipped}")
    return problems


def visible_pictures(cell: Locator) -> int:
    """How many pictures the cell's outputs show, once the images have loaded (or 10 s)."""
    area = cell.locator(".jp-OutputArea").element_handle()
    js = f"area => [...area.querySelectorAll('.jp-OutputArea-output')].map({JS_PICTURES})"
    try:
        cell.page.wait_for_function(f"area => ({js})(area).some(n => n > 0)", arg=area,
                                    timeout=10_000)
    except PlaywrightTimeout:
        return 0
    return sum(cell.page.evaluate(f"area => ({js})(area)", area))


@pytest.mark.parametrize("magic", [m for m, _ in MAGICS])
def test_magic_renders_as_html(lab: Lab, magics_nb, magic: str, docs_dir: Path | None):
    _, cells = magics_nb
    cell = cells[magic]
    cell.scroll_into_view_if_needed()
    with lab.step(f"magic-{magic}", target=cell):
        problems = answer_problems(cell, magic)
        assert not problems, f"{magic}: " + "; ".join(problems)
    if docs_dir is not None and magic in DOCS:
        lab._shot_element(docs_dir / DOCS[magic], cell)


def set_theme(lab: Lab, name: str, light: bool) -> None:
    """Settings > Theme > NAME, as a person picks it."""
    page = lab.page
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Settings$")).click()
    page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(
        r"^Theme$"))).click()
    page.locator('.lm-Menu-item[data-command="apputils:change-theme"]',
                 has_text=re.compile(rf"^{name}$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", str(light).lower())


def test_pictures_in_dark_theme(lab: Lab, magics_nb):
    """The pictures stay visible on a dark background (screenshots to look at)."""
    _, cells = magics_nb
    with lab.step("theme-dark"):
        set_theme(lab, "JupyterLab Dark", light=False)
    try:
        for magic in [m for m, what in MAGICS if what == "picture"]:
            cell = cells[magic]
            cell.scroll_into_view_if_needed()
            with lab.step(f"dark-{magic}", target=cell):
                assert visible_pictures(cell), f"{magic}: no visible picture in the dark theme"
    finally:
        with lab.step("theme-light"):
            set_theme(lab, "JupyterLab Light", light=True)


def svg_labels(outputs: list[dict]) -> list[str]:
    """The <text> labels of every SVG held in the outputs' HTML or SVG payloads."""
    labels = []
    for out in outputs:
        for mime, value in out.get("data", {}).items():
            if mime in ("text/html", "image/svg+xml"):
                text = "".join(value) if isinstance(value, list) else value
                labels += [html.unescape(t).strip()
                           for t in re.findall(r"<text[^>]*>([^<]*)</text>", text)]
    return [t for t in labels if t]


def leak_problems(cell: Locator, outputs: list[dict]) -> list[str]:
    """The labels of the answer's SVG showing up as run-on text: what JupyterLab's sanitizer
    leaves of an inline <svg> it strips from an untrusted notebook."""
    text = re.sub(r"\s+", "", Notebook.outputs(cell).evaluate_all(JS_TEXT_OUTSIDE_SVG))
    labels = svg_labels(outputs)
    run_on = re.sub(r"\s+", "", "".join(labels[:3]))
    if len(labels) >= 2 and len(run_on) >= 4 and run_on in text:
        return [f"the SVG's labels leak into the page as text ({run_on!r})"]
    return []


def test_untrusted_notebook_shows_pictures(lab: Lab, magics_nb):
    nb, _ = magics_nb
    server = lab.server
    notary = NotebookNotary(data_dir=server.env["JUPYTER_DATA_DIR"])
    path = server.root / NAME
    with lab.step("magics-save"):
        nb.page.keyboard.press("Escape")
        nb.page.keyboard.press("Control+s")
        tab = lab.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=NAME)
        expect(tab).not_to_have_class(re.compile(r"jp-mod-dirty"))
        saved = json.loads(path.read_text())
        assert notary.check_signature(nbformat.from_dict(saved)), \
            "JupyterLab did not sign the notebook it saved (so it was never trusted)"
    saved["metadata"]["edited_elsewhere"] = True
    (server.root / UNTRUSTED).write_text(json.dumps(saved, indent=1))
    assert not notary.check_signature(nbformat.from_dict(saved))
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in saved["cells"]]
    with lab.step("untrusted-open"):
        un = lab.open_notebook("e2e-untrusted", UNTRUSTED, "python-prov")
        expect(un.cells).to_have_count(len(sources))
    failures = []
    for magic in [m for m, _ in MAGICS]:
        i = sources.index(magic)
        cell = un.cells.nth(i)
        cell.scroll_into_view_if_needed()
        try:
            with lab.step(f"untrusted-{magic}", target=cell):
                problems = answer_problems(cell, magic) + leak_problems(
                    cell, saved["cells"][i]["outputs"])
                assert not problems, "; ".join(problems)
        except AssertionError as e:
            failures.append(f"{magic}: {e}")
    if failures:
        pytest.fail("in the untrusted notebook:\n" + "\n".join(failures), pytrace=False)
