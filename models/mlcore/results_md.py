"""``models/RESULTS.md`` is shared by several pipelines (defects, cdvae, properties);
each one rewrites only its own section, delimited by HTML comments, so that
retraining one model never erases another's numbers."""

from __future__ import annotations

import os
import re

# models/RESULTS.md: one folder up from this package.
RESULTS_MD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "RESULTS.md")
ORDER = ("defects", "defects-spin", "defects-relax", "cdvae", "cdvae-novelty", "properties")
HEADER = ("# Model results\n\nEach section is written by its pipeline's script; "
          "rerun the script to refresh it.\n")


_SECTION = re.compile(r"<!-- section:([\w-]+) -->\n(.*?)<!-- /section:\1 -->", re.S)


def _parse(text: str) -> dict[str, str]:
    """Every delimited section in the file, in file order."""
    return {m.group(1): m.group(2) for m in _SECTION.finditer(text)}


def update_section(key: str, body: str, path: str = RESULTS_MD) -> None:
    """Replace (or add) section ``key``.  The pipelines' sections come in
    ``ORDER``; any other section (an experiment's, or one written by hand)
    is kept after them in file order: rewriting must never drop numbers."""
    if not re.fullmatch(r"[\w-]+", key):
        raise ValueError(f"bad section key {key!r}")
    sections = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            sections = _parse(fh.read())
    sections[key] = body if body.endswith("\n") else body + "\n"
    keys = [k for k in ORDER if k in sections] + [k for k in sections if k not in ORDER]
    parts = [HEADER]
    for k in keys:
        parts.append(f"<!-- section:{k} -->\n{sections[k]}<!-- /section:{k} -->\n")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
