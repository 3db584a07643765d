"""The runtime probe (kernel/src/probe/) as a plain module, without a kernel: loaded as the
package `_prov_probe`, the name the kernel installs it under, and run in a real IPython shell.

`ProbeShell` stands where ipykernel stands: it runs cells in an IPython InteractiveShell (so
the probe's post_run_cell hook fires as in a kernel) and evaluates the proxy's user expression
the way ipykernel does for an execute_request (`InteractiveShell.user_expressions`). The only
stand-in is the kernel object the probe asks for the current request's msg_id.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE_DIR = REPO_ROOT / "kernel" / "src" / "probe"
GOLDEN_DIR = REPO_ROOT / "tests" / "golden" / "probe"
PACKAGE = "_prov_probe"
# The user_expressions key the proxy uses (kernel/src/probe.rs, EXPRESSION_KEY).
EXPRESSION_KEY = "__prov_probe__"


def load_probe():
    """The probe package, imported from kernel/src/probe once per test process."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, PROBE_DIR / "__init__.py", submodule_search_locations=[str(PROBE_DIR)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ beside the kernel's sources
    try:
        spec.loader.exec_module(module)
        for name in ("limits", "files", "hashing", "arrays", "tensors", "frames", "estimators",
                     "changes", "fingerprints", "summaries", "notes", "packages"):
            importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def collect_expression(tags: list[str]) -> str:
    """The user expression the proxy sends (kernel/src/probe.rs, collect_expression): each tag
    as a JSON string literal, which Python reads as the same string."""
    if not tags:
        return f"__import__('{PACKAGE}').collect()"
    names = "".join(json.dumps(t, ensure_ascii=False) + ", " for t in tags)
    return f"__import__('{PACKAGE}').collect(({names.rstrip()}))"


def notes_of(answer: dict[str, Any], msg_id: str) -> dict[str, Any]:
    """The notes the proxy takes out of the answer to request `msg_id` (kernel/src/probe.rs,
    take_notes): the application/json, or, for an answer with no data (the probe's NOTHING),
    this request's note saying no name changed."""
    assert answer["status"] == "ok", answer
    if answer["data"] == {}:
        return {msg_id: {"bound": [], "deleted": []}}
    return answer["data"]["application/json"]


class _Kernel:
    """What the probe asks of ipykernel's kernel: the header of the request being answered."""

    def __init__(self):
        self.msg_id: str | None = None

    def get_parent(self, channel="shell"):
        return {"header": {"msg_id": self.msg_id}} if self.msg_id else {}


class ProbeShell:
    """A real IPython shell with the probe installed, running cells as execute requests."""

    def __init__(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        self.shell = InteractiveShell(config=config)
        self.shell.kernel = _Kernel()
        # IPython imports its traceback formatter's packages (stack_data, ...) on the first
        # error: import them before the probe looks, so notes do not depend on test order.
        self.shell.run_cell("1/0", store_history=False)
        self.probe_module = load_probe()
        self.probe_module.install(self.shell)
        self.probe = self.probe_module.probe

    def execute(self, msg_id: str, code: str, tags: list[str] = ()) -> dict[str, Any] | None:
        """Runs `code` as request `msg_id`: the answer to the proxy's user expression, as the
        execute_reply carries it, or None when the cell failed (ipykernel then evaluates no
        user expression)."""
        self.shell.kernel.msg_id = msg_id
        try:
            result = self.shell.run_cell(code, store_history=True)
            if not result.success:
                return None
            answers = self.shell.user_expressions({EXPRESSION_KEY: collect_expression(list(tags))})
            return answers[EXPRESSION_KEY]
        finally:
            self.shell.kernel.msg_id = None

    def close(self):
        self.shell.events.unregister("post_run_cell", self.probe.post_run_cell)
        if self.probe.files is not None:
            self.shell.events.unregister("pre_run_cell", self.probe.files.start)
            self.probe.files.close()
        self.shell.history_manager.end_session()
        self.shell.clear_instance()
