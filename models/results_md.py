"""``models/RESULTS.md`` is shared by several pipelines (defects, cdvae);
each one rewrites only its own section, delimited by HTML comments, so that
retraining one model never erases another's numbers."""

from __future__ import annotations

import os

RESULTS_MD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
ORDER = ("defects", "defects-spin", "cdvae")
HEADER = ("# Model results\n\nEach section is written by its pipeline's script; "
          "rerun the script to refresh it.\n")


def _parse(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in ORDER:
        start, end = f"<!-- section:{key} -->\n", f"<!-- /section:{key} -->"
        if start in text and end in text:
            out[key] = text.split(start, 1)[1].split(end, 1)[0]
    return out


def update_section(key: str, body: str, path: str = RESULTS_MD) -> None:
    assert key in ORDER, key
    sections = _parse(open(path).read()) if os.path.exists(path) else {}
    sections[key] = body if body.endswith("\n") else body + "\n"
    parts = [HEADER]
    for k in ORDER:
        if k in sections:
            parts.append(f"<!-- section:{k} -->\n{sections[k]}<!-- /section:{k} -->\n")
    with open(path, "w") as fh:
        fh.write("\n".join(parts))
