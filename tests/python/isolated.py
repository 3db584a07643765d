"""A process environment with none of the caller's Jupyter, Python or prov settings, for tests
that start Jupyter, pip or prov-kernel the way a user's shell would."""

from __future__ import annotations

import os
from pathlib import Path

# Settings that would let the test runner's own environment leak in: its venv, its Jupyter
# search path and data dirs, its store.
_DROPPED = (
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "JUPYTER_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_RUNTIME_DIR",
    "JUPYTER_PREFER_ENV_PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "IPYTHONDIR",
    "PROV_DB",
    "PROV_TRIAL_NAME",
)


def isolated_env(
    root: Path, path: list[Path | str] | None = None, **set_vars: str
) -> dict[str, str]:
    """os.environ without the settings above, HOME and Jupyter's user dirs in `root` (so no
    user-level kernelspec is found), PATH = `path` then /usr/bin:/bin, then `set_vars`."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["JUPYTER_DATA_DIR"] = str(root / "jupyter-data")
    env["JUPYTER_CONFIG_DIR"] = str(root / "jupyter-config")
    env["JUPYTER_RUNTIME_DIR"] = str(root / "jupyter-runtime")
    env["PATH"] = os.pathsep.join([*(str(p) for p in path or []), "/usr/bin", "/bin"])
    env.update(set_vars)
    return env
