"""Crystal datasets for the CDVAE: read, canonicalise, split, cache.

The benchmark CSVs live in ``../shared/data/crystals/<name>/`` (see that
folder's README for sources and licences; perov_5 and carbon_24 come from the
CDVAE repository, MIT). Only their val and test files are available, so the
two are pooled and split again, deterministically:

    sha1("lattice-lab-cdvae-split-v1:<dataset>:<row id>")[:8] as int mod 100
    -> < 80 train, < 90 val, else test

The row id is the CSV's ``material_id`` column (unique within a dataset).

Every structure is canonicalised like CDVAE's ``build_crystal``
(Xie et al., ICLR 2022, code ``cdvae/common/data_utils.py``): primitive cell,
Niggli reduction, then the lattice rebuilt from its six parameters. Only the
parameters and fractional coordinates are kept; ``model.lattice_from_params``
turns them into vectors (a along x, b in the xy plane, as the app's
``Lattice.fromParameters``). Parsed datasets are cached as ``.pt``
files under ``cache/`` (ignored by git).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import os
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get(
    "LATTICE_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
CRYSTALS = os.path.join(SHARED, "data", "crystals")
CACHE = os.path.join(HERE, "cache")
SPLIT_SALT = "lattice-lab-cdvae-split-v1"
SPLIT_RULE = ("sha1('lattice-lab-cdvae-split-v1:<dataset>:<material_id>')[:8] "
              "as int mod 100: <80 train, <90 val, else test")

# Property column the model's property head learns, per dataset (eV/atom).
PROPERTY = {"perov_5": "heat_ref", "carbon_24": "energy_per_atom",
            "mp_20_biternary": "formation_energy_per_atom",
            "mp20_biternary_pilot": "formation_energy_per_atom"}

#: Datasets made of several folders of ../shared/data/crystals (read in this
#: order; a material_id seen in an earlier folder is skipped). The mp_20
#: benchmark's own train split is not available, so the MP model trains on
#: what is: the binary/ternary subset of mp_20 plus the pilot's random mp_20
#: crystals, all of at most 20 atoms. Named for what it is, not "mp_20".
COMBINED = {"mp20_biternary_pilot": ["mp_20_biternary", "mp_20_pilot"]}

csv.field_size_limit(sys.maxsize)


@dataclass
class Crystal:
    id: str
    lengths: np.ndarray      # (3,) Å
    angles: np.ndarray       # (3,) degrees
    frac: np.ndarray         # (n, 3) in [0, 1)
    numbers: np.ndarray      # (n,) atomic numbers
    prop: float              # the dataset's property (eV/atom), nan if none
    split: str


def split_of(dataset: str, row_id: str) -> str:
    h = hashlib.sha1(f"{SPLIT_SALT}:{dataset}:{row_id}".encode()).hexdigest()
    k = int(h[:8], 16) % 100
    return "train" if k < 80 else "val" if k < 90 else "test"


def _open(path: str):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def _files(dataset: str) -> list[str]:
    if dataset in COMBINED:
        return [f for part in COMBINED[dataset] for f in _files(part)]
    folder = os.path.join(CRYSTALS, dataset)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{folder} not found: the crystal datasets live in ../shared/data/"
            "crystals beside the checkout (or set LATTICE_SHARED)")
    names = sorted(f for f in os.listdir(folder) if f.endswith((".csv", ".csv.gz")))
    return [os.path.join(folder, f) for f in names]


def canonical(cif: str):
    """(lengths, angles, frac, numbers) of the Niggli-reduced primitive cell."""
    from pymatgen.core import Lattice, Structure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = Structure.from_str(cif, fmt="cif")
        s = s.get_primitive_structure()
        s = s.get_reduced_structure()
        lat = Lattice.from_parameters(*s.lattice.parameters)
        s = Structure(lat, s.species, s.frac_coords, coords_are_cartesian=False)
    frac = np.mod(s.frac_coords, 1.0)
    frac[frac >= 1.0] = 0.0
    return (np.array(s.lattice.abc), np.array(s.lattice.angles), frac,
            np.array([site.specie.Z for site in s]))


def read_rows(dataset: str):
    seen = set()
    for path in _files(dataset):
        with _open(path) as fh:
            for row in csv.DictReader(fh):
                rid = str(row.get("material_id") or row.get(""))
                if rid in seen:
                    continue
                seen.add(rid)
                yield rid, row


def load(dataset: str, limit: int | None = None, verbose: bool = True) -> list[Crystal]:
    """All crystals of a dataset (val+test pooled), canonicalised, cached."""
    os.makedirs(CACHE, exist_ok=True)
    cache = os.path.join(CACHE, f"{dataset}.pt")
    if limit is None and os.path.exists(cache):
        return [Crystal(**d) for d in torch.load(cache)]
    prop_col = PROPERTY.get(dataset)
    out: list[Crystal] = []
    for k, (rid, row) in enumerate(read_rows(dataset)):
        if limit is not None and k >= limit:
            break
        lengths, angles, frac, numbers = canonical(row["cif"])
        try:
            prop = float(row[prop_col]) if prop_col else math.nan
        except (KeyError, ValueError):
            prop = math.nan
        out.append(Crystal(rid, lengths, angles, frac, numbers, prop,
                           split_of(dataset, rid)))
        if verbose and (k + 1) % 1000 == 0:
            print(f"  {dataset}: {k + 1} structures parsed", flush=True)
    if limit is None:
        # plain dicts, so the cache does not depend on the module's name
        torch.save([vars(c) for c in out], cache)
    return out


def splits(crystals: list[Crystal]) -> dict[str, list[Crystal]]:
    out = {"train": [], "val": [], "test": []}
    for c in crystals:
        out[c.split].append(c)
    return out


def vocabulary(crystals: list[Crystal]) -> list[int]:
    """Sorted atomic numbers present in the dataset: the model's type vocabulary."""
    return sorted({int(z) for c in crystals for z in c.numbers})


def main() -> int:
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", nargs="+")
    args = p.parse_args()
    for name in args.dataset:
        cs = load(name)
        sp = splits(cs)
        print(f"{name}: {len(cs)} crystals; " +
              ", ".join(f"{k} {len(v)}" for k, v in sp.items()) +
              f"; {len(vocabulary(cs))} elements; atoms "
              f"{min(len(c.numbers) for c in cs)}-{max(len(c.numbers) for c in cs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
