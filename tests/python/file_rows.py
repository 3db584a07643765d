"""`file_accesses` rows written by hand into a real kernel's store, as the store writes them from
the probe's `files` note (`provstore/src/files.rs`), so `%files` and `provctl files` can be tried
through a real kernel while no probe records files. Each row is the truth about a file a real
cell opened: its path, and the hash and size of the bytes it read or left, taken from the disk
right after the cell ran. Tests that need the probe's own rows skip when `recorded_rows` finds
none (see README "Data files")."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Access:
    """A cell that opened one file: its code (unique in the store), the file, how, and the bytes
    it read or left (None: the file was gone)."""

    code: str
    path: str
    access: str
    content: bytes | None

    @property
    def sha256(self) -> str | None:
        return None if self.content is None else hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int | None:
        return None if self.content is None else len(self.content)


def _connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(db), timeout=30)


def indexed_execution(db: Path, code: str, timeout: float = 20.0) -> int:
    """The id of the newest execution of CODE once the kernel's writer has stored and indexed it
    (indexing rewrites the execution's file rows from its notes)."""
    deadline = time.monotonic() + timeout
    while True:
        with _connect(db) as conn:
            row = conn.execute(
                "SELECT e.id FROM executions e JOIN code c ON c.id = e.code_id"
                " JOIN dataflow_indexed i ON i.trial_id = e.trial_id"
                " WHERE c.text = ? AND i.through_id >= e.id ORDER BY e.id DESC LIMIT 1",
                (code,)).fetchone()
        if row:
            return row[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the execution of {code!r} was not recorded and indexed")
        time.sleep(0.05)


def recorded_rows(db: Path, execution_ids: list[int]) -> int:
    """How many file rows the store holds for these executions."""
    marks = ",".join("?" * len(execution_ids))
    with _connect(db) as conn:
        return conn.execute(
            f"SELECT COUNT(*) FROM file_accesses WHERE execution_id IN ({marks})",
            execution_ids).fetchone()[0]


def write_rows(db: Path, folder: Path, accesses: list[Access]) -> None:
    """The rows the store would hold for ACCESSES (each opened at line 1, the cell's first
    statement) of files in FOLDER, the kernel's working directory."""
    with _connect(db) as conn:
        for a in accesses:
            execution = indexed_execution(db, a.code)
            seq = conn.execute("SELECT COUNT(*) FROM file_accesses WHERE execution_id = ?",
                               (execution,)).fetchone()[0]
            conn.execute(
                "INSERT INTO file_accesses (execution_id, seq, path, resolved, access, line,"
                " statement, size, mtime, sha256, sampled) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?, 0)",
                (execution, seq, a.path, os.path.realpath(folder / a.path), a.access, a.size,
                 time.time(), a.sha256))
