"""`prov-kernel doctor`, healthy and broken: the real binary built by scripts/test.sh, real
interpreters and kernelspecs in a temporary Jupyter search path. Broken means exit status 1 and
a line saying what to do. (The wheel's own doctor, installed by pip: test_wheel.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from isolated import isolated_env

pytestmark = pytest.mark.prov

KERNEL = REPO_ROOT / "target" / "release" / "prov-kernel"


def put_spec(root: Path, argv: list[str]) -> Path:
    """A python-prov kernelspec in root/jp/kernels, the folder JUPYTER_PATH names."""
    spec = root / "jp" / "kernels" / "python-prov"
    spec.mkdir(parents=True)
    kernel_json = {"argv": argv, "display_name": "Python (prov)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel_json))
    return spec


def doctor(root: Path, **env: str) -> subprocess.CompletedProcess:
    work = root / "work"
    work.mkdir(exist_ok=True)
    full_env = isolated_env(root, JUPYTER_PATH=str(root / "jp"), **env)
    return subprocess.run([str(KERNEL), "doctor"], capture_output=True, text=True,
                          cwd=work, env=full_env, timeout=60)


def test_healthy(tmp_path: Path) -> None:
    spec = put_spec(tmp_path, [str(KERNEL), "run", "--python", sys.executable,
                               "-f", "{connection_file}"])
    result = doctor(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    import ipykernel

    out = result.stdout
    assert f"prov-kernel 0.1.0: {KERNEL.resolve()}" in out, out
    assert f"{spec} (the one Jupyter started from this shell uses)" in out, out
    assert "runs: this prov-kernel" in out, out
    assert f"Python: {sys.executable} (--python in kernel.json)" in out, out
    assert f"ipykernel {ipykernel.__version__}" in out, out
    assert f"Store: {tmp_path / 'work' / '.prov' / 'prov.db'}" in out, out
    assert "No problems found" in out, out


def test_no_kernelspec(tmp_path: Path) -> None:
    result = doctor(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "no kernelspec named `python-prov`" in result.stdout
    assert "fix: `pip install prov-kernel`" in result.stdout


def test_stale_kernelspec_pointing_at_a_missing_binary(tmp_path: Path) -> None:
    gone = tmp_path / "old-env" / "bin" / "prov-kernel"
    put_spec(tmp_path, [str(gone), "run", "-f", "{connection_file}"])
    result = doctor(tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"runs: {gone}, which is NOT THERE" in result.stdout, result.stdout
    assert "fix: remove it (`jupyter kernelspec remove python-prov`" in result.stdout


def test_python_without_ipykernel(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    put_spec(tmp_path, [str(KERNEL), "run", "--python", str(python), "-f", "{connection_file}"])
    result = doctor(tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"Python {python} has no ipykernel" in result.stdout, result.stdout
    assert f"fix: `{python} -m pip install 'ipykernel>=7'`" in result.stdout, result.stdout


def test_a_python_prov_that_is_not_prov_and_an_unwritable_store(tmp_path: Path) -> None:
    put_spec(tmp_path, ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = doctor(tmp_path, PROV_DB=str(blocker / "prov.db"))
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "2 problems:" in out, out
    assert "which is NOT prov-kernel" in out, out
    assert f"the store {blocker / 'prov.db'} cannot be written: {blocker} is not a folder" in out
    assert "(from $PROV_DB)" in out, out
