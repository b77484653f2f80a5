"""The crystals the property model learns from: Materials Project subsets in
``../shared/data/crystals/`` (see that folder's README for sources and
licences), deduplicated by ``material_id``, with a stable 80/10/10 split.

Subsets, in the order a duplicate is resolved (the first one read wins, and
its name is the row's ``subset`` in every per-subset table):

* ``mp_20_pilot`` (train/val/test files; MP-20, up to 20 atoms),
* ``mp_20_biternary`` (val/test; the binary and ternary part of MP-20),
* ``mpts_52`` (val/test; up to 52 atoms, MP crystals with a known year).

Targets (NaN where a subset has no value, masked in the loss):

* ``eform``: formation energy per atom, eV/atom (all three);
* ``gap``: PBE band gap, eV (the mp_20 subsets only);
* ``ehull``: energy above the convex hull, eV/atom (all three; mp_20 calls it
  ``e_above_hull``, mpts_52 ``energy_above_hull``).

The files' own train/val/test names are ignored: they are the benchmarks'
generation splits, only partly available here (shared/data/README.md), so
every row is assigned by :func:`split_of`, a hash of its material_id.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "crystals"))

#: (subset, files) in the order duplicates are resolved.
SOURCES = (
    ("mp_20_pilot", ("train", "val", "test")),
    ("mp_20_biternary", ("val", "test")),
    ("mpts_52", ("val", "test")),
)
TARGETS = ("eform", "gap", "ehull")
TARGET_UNITS = {"eform": "eV/atom", "gap": "eV", "ehull": "eV/atom"}
SPLIT_SALT = "properties-v1"

# CSV cells hold whole CIFs.
csv.field_size_limit(sys.maxsize)


def split_of(material_id: str) -> str:
    """sha1('properties-v1:' + id), first 8 hex digits mod 100: < 80 train,
    < 90 val, else test.  Stable across runs, machines and pipelines."""
    h = int(hashlib.sha1(f"{SPLIT_SALT}:{material_id}".encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 80 else "val" if h < 90 else "test"


def _float(row: dict, *keys: str) -> float:
    for k in keys:
        v = row.get(k)
        if v not in (None, ""):
            x = float(v)
            return x if math.isfinite(x) else math.nan
    return math.nan


def read_rows(root: str = SHARED) -> list[dict]:
    """Every distinct material: id, subset, cif and the three targets."""
    seen: dict[str, dict] = {}
    for subset, parts in SOURCES:
        for part in parts:
            path = os.path.join(root, subset, part + ".csv.gz")
            with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    mid = row["material_id"]
                    rec = {
                        "id": mid,
                        "subset": subset,
                        "cif": row["cif"],
                        "eform": _float(row, "formation_energy_per_atom"),
                        "gap": _float(row, "band_gap"),
                        "ehull": _float(row, "e_above_hull", "energy_above_hull"),
                    }
                    old = seen.get(mid)
                    if old is None:
                        seen[mid] = rec
                    else:  # fill targets the first subset lacked (mpts_52 has no gap)
                        for t in TARGETS:
                            if math.isnan(old[t]) and not math.isnan(rec[t]):
                                old[t] = rec[t]
    rows = sorted(seen.values(), key=lambda r: r["id"])
    for r in rows:
        r["split"] = split_of(r["id"])
    return rows


def parse_cif(text: str):
    """(lattice rows [3, 3] in Å, species list, fractional coords [N, 3])
    of a pymatgen-written CIF, read by pymatgen itself."""
    from pymatgen.core import Structure
    s = Structure.from_str(text, fmt="cif")
    if not s.is_ordered:
        raise ValueError("disordered structure")
    return (np.array(s.lattice.matrix, dtype=np.float64),
            [site.specie.symbol for site in s],
            np.array(s.frac_coords, dtype=np.float64))


def lattice_from_parameters(a, b, c, alpha, beta, gamma) -> np.ndarray:
    """Lattice rows in the convention of src/core/lattice.ts and pymatgen
    (c along z, a in the xz-plane: pymatgen's ``Lattice.from_parameters``)."""
    from pymatgen.core import Lattice
    return np.array(Lattice.from_parameters(a, b, c, alpha, beta, gamma).matrix)


def open_text(path: str) -> io.TextIOBase:
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")
