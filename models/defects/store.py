"""Crash-safe JSON-lines storage for the dataset and the references.

One record is one line.  Appends are written in a single ``write`` followed by
``flush`` and ``fsync``, so a kill (or a power cut) can at worst leave one
partial last line; every earlier line is intact.  Readers skip a line that does
not parse, and the writer cuts such a partial tail off before it appends, so the
next record never gets glued onto a broken one.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Iterator


def read_jsonl(path: str) -> Iterator[dict]:
    """Yield the records of ``path`` (none if it does not exist), skipping
    lines that do not parse (a partially written last line)."""
    if not os.path.exists(path):
        return
    with open(path, "r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                print(f"[store] {path}:{lineno}: skipping unparsable line "
                      f"(partial write?)", file=sys.stderr)


def repair_tail(path: str) -> bool:
    """Cut a partial last line (no trailing newline) off ``path``.

    Returns True if something was cut.  Call before appending.
    """
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return False
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        fh.seek(0)
        data = fh.read()
        keep = data.rfind(b"\n") + 1  # 0 if there is no complete line at all
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    print(f"[store] {path}: removed a partial last line "
          f"({len(data) - keep} bytes)", file=sys.stderr)
    return True


def append_jsonl(path: str, record: dict) -> None:
    """Append one record as one line, durably (flush + fsync)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    line = json.dumps(record, sort_keys=False, separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def load_dataset(path: str) -> dict[str, dict]:
    """Latest record per id.  A successful record always wins over an error
    record of the same id (``--retry-failed`` appends a new line and leaves
    the old error line in place)."""
    latest: dict[str, dict] = {}
    for rec in read_jsonl(path):
        old = latest.get(rec.get("id"))
        if old is not None and "error" not in old and "error" in rec:
            continue
        latest[rec.get("id")] = rec
    return latest
