"""What a real cell did to a file, taken from the disk right after it ran (its path, and the hash
and size of the bytes it read or left), and the `file_accesses` rows the store wrote for it from
the probe's `files` note (`provstore/src/files.rs`), found once the kernel's writer indexed it."""

from __future__ import annotations

import hashlib
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
