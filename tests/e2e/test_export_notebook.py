"""A trial exported as a notebook (`provctl export T --format ipynb`), opened in JupyterLab as a
person would: a cell per execution in the order they ran (a cell run twice shows twice), each
with its `[n]:` and the outputs it showed when it ran (printed text, a DataFrame's table, a
figure, a failure's traceback), without running anything."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

from jlab import REPO_ROOT, Lab, Notebook, provctl

NAME = "export_source.ipynb"
EXPORTED = "exported_trial.ipynb"
SOURCES = [
    "import pandas as pd\nimport matplotlib.pyplot as plt\nprint('loaded')",
    "df = pd.DataFrame({'rooms': [3, 4], 'price': [250, 320]})\ndf",
    "fig, ax = plt.subplots(figsize=(3, 2))\nax.plot(df.rooms, df.price)\nplt.show()",
    "1 / 0",
]


def test_an_exported_trial_opens_with_its_outputs(lab: Lab):
    with lab.step("export-source-ran"):
        lab.run_all("e2e-export-source", NAME, "python-prov", SOURCES)
    trial = next(t for t in reversed(provctl(lab.server, "trials"))
                 if (t.get("notebook") or "").endswith(NAME))
    out = lab.server.root / EXPORTED
    exe = REPO_ROOT / "target" / "release" / "provctl"
    done = subprocess.run([str(exe), "--db", str(lab.server.db), "export", str(trial["id"]),
                           "--format", "ipynb", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    nb = lab.open_notebook("e2e-export-open", EXPORTED, "python-prov")
    cells = nb.cells
    with lab.step("export-opened", target=nb.panel):
        expect(cells).to_have_count(len(SOURCES))
        prompts = [cells.nth(i).locator(".jp-InputArea-prompt").inner_text()
                   for i in range(len(SOURCES))]
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), prompts
        expect(Notebook.outputs(cells.nth(0))).to_have_text("loaded")
        table = Notebook.outputs(cells.nth(1)).locator("table")
        expect(table).to_have_count(1)
        expect(table.locator("tbody tr")).to_have_count(2)
        image = Notebook.outputs(cells.nth(2)).locator("img")
        expect(image).to_have_count(1)
        assert image.evaluate("img => img.naturalWidth") > 100, "the figure itself, not a stub"
        error = Notebook.outputs(cells.nth(3))
        expect(error).to_contain_text("ZeroDivisionError")
        assert error.first.get_attribute("data-mime-type") == "application/vnd.jupyter.stderr"
