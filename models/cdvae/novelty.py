"""Novelty and uniqueness of generated crystals, without a structure matcher
in the browser: the same descriptor and test here (numpy) and in
``src/core/generate/novelty.ts`` (the fixture ``fixtures/novelty.json``
holds the two to the same numbers).

A crystal is **new** when no training crystal matches it, **unique** when no
earlier crystal of its batch matches it. Two crystals match when

1. their reduced formulas are equal (``reduced_formula``: elements in order
   of atomic number, counts divided by their gcd, e.g. ``O3TiSr``);
2. their primitive cells hold the same number of atoms (``primitive_size``:
   N divided by the number of translations, atom to atom of the rarest
   element, that map every atom onto an atom of its element within 0.25 Å,
   pymatgen's default ``get_primitive_structure`` tolerance).
   ``StructureMatcher`` never matches cells of different primitive size
   (``attempt_supercell=False``), and without this rule the RDF alone
   confuses carbon polytypes;
3. the distance between their descriptors is at most the dataset's
   threshold (``THRESHOLDS``).

Descriptor: with s = (V/N)^(1/3) (distances in units of s, so a uniform
scaling matches, as StructureMatcher's volume scaling does), for every
element e of the crystal (in order of Z) the per-atom average over the
atoms of element e of a Gaussian-smeared radial distribution of ALL their
periodic neighbours:

    h[e, b] = 1/N * sum_{i of element e} sum_{j, image: 0 < d_ij < (r_max + 4 sigma) s}
              exp(-(x_b - d_ij / s)^2 / (2 sigma^2)),    x_b = (b + 1/2) bin

with r_max 3, bin 0.2, sigma 0.2 (reduced units): 15 bins per element. It
does not depend on the cell (primitive or supercell), origin or atom order.
Resolving the centre atom's element is needed: perov_5's crystals of one
formula are A/B-site swaps (e.g. two TlRuO2F), whose total RDF is the same.

Distance: the 1-D Wasserstein (earth mover's) distance per element channel,
summed, relative to the descriptors' mean mass:
``sum_e sum_b |cumsum_b(h1 - h2)[e, b]| * bin / mean(sum h1, sum h2)``.
Unlike an L2 distance of smeared RDFs, it grows steadily with the shift of
the neighbour shells, so small strains and displacements stay below the
threshold while different arrangements do not.

Thresholds (``--calibrate``) are compared with pymatgen's
``StructureMatcher()`` defaults (ltol 0.2, stol 0.3, angle_tol 5°, primitive
cells, volume scaling) on (a) pairs: real crystals of one composition
(perov_5: all 1,473 same-formula pairs, all of them different; carbon_24:
each of 1,500 sampled crystals with its 4 nearest descriptors, plus random
pairs) and perturbed copies of 300 crystals (random supercells with shuffled
atoms and shifted origin, strain 1-10 %, Gaussian noise 0.05-0.3 Å, 5 %
scaling, two species swapped); (b) the validation split's answers "new
against the training split". The threshold maximises balanced agreement on
(a) plus agreement on (b): perov_5 0.014 (pairs 0.91, validation 0.998),
carbon_24 0.0016 (pairs 0.87, validation 0.97), mp20_biternary_pilot 0.0032
(pairs 0.79, validation 0.98; all 2,837 same-formula pairs, 230 of which
StructureMatcher matches: MP holds such near-duplicates under different ids;
it passes 1-2 % strains and 0.05 Å noise, 86 % of 0.1 Å noise, and calls 18 %
of distinct same-formula polymorphs the same). carbon_24 is the hard case:
about 1 in 5 of its validation crystals has no StructureMatcher match in the
training split although a training crystal with the same number of atoms
lies within a distance of 0.002-0.004 (different sp2/sp3 networks with
nearly the same radial distribution), so its threshold is small and the
check is stricter than StructureMatcher on distorted copies: 94 % of 1 %
strains, 75 % of 0.05 Å and 18 % of 0.1 Å random displacements still match
(perov_5: all of them, and 97 % at 0.2 Å). StructureMatcher matches up to
~0.2 Å noise, which no radial-distribution threshold that still separates
carbon_24's distinct structures can.

    cd models
    /usr/bin/python3 -m cdvae.novelty --dataset perov_5            # export/perov_5/known.json
    /usr/bin/python3 -m cdvae.novelty --dataset carbon_24 --calibrate
    /usr/bin/python3 -m cdvae.novelty --dataset perov_5 --test-split 200
    /usr/bin/python3 -m cdvae.novelty --fixture                    # fixtures/novelty.json

known.json (format ``latticelab-known/1``): the training split's crystals as
{reduced formula: [[primitive size, q_1, ..., q_(k*15)], ...]}, the
descriptor quantised to integers (h ~ quantum * q; ``quantise``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FORMAT = "latticelab-known/1"

R_MAX = 3.0          # reduced units (s = (V/N)^(1/3))
BIN = 0.2
SIGMA = 0.2
REACH = 4.0          # neighbours up to (R_MAX + REACH * SIGMA) * s
PRIM_TOL = 0.25      # Å, primitive_size
BINS = int(round(R_MAX / BIN))
PARAMS = {"r_max": R_MAX, "bin": BIN, "sigma": SIGMA, "reach": REACH, "prim_tol": PRIM_TOL,
          "bins": BINS, "distance": "wasserstein-1 per element channel / mean mass"}
# Calibrated against StructureMatcher() by --calibrate (see the docstring).
THRESHOLDS = {"perov_5": 0.014, "carbon_24": 0.0016, "mp20_biternary_pilot": 0.0032}
DEFAULT_THRESHOLD = 0.0016
# known.json quantum (descriptor units); perov_5's is coarser to keep its file small.
QUANTUM = {"perov_5": 0.05, "carbon_24": 0.02}

SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").split()


@dataclass
class Descriptor:
    formula: str
    nprim: float             # atoms in the primitive cell (N / translations)
    hist: np.ndarray         # (elements, BINS)


def lattice_from_params(lengths, angles) -> np.ndarray:
    """Rows a, b, c; a along x, b in the xy plane (the app's Lattice.fromParameters)."""
    a, b, c = (float(x) for x in lengths)
    al, be, ga = (math.radians(float(x)) for x in angles)
    snap = lambda x: 0.0 if abs(x) < 1e-12 else x  # noqa: E731
    ca, cb, cg = snap(math.cos(al)), snap(math.cos(be)), snap(math.cos(ga))
    sg = math.sin(ga)
    cx = c * cb
    cy = c * (ca - cb * cg) / sg
    return np.array([[a, 0, 0], [b * cg, b * sg, 0], [cx, cy, math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))]])


def reduced_formula(numbers) -> str:
    """Elements in increasing Z, counts divided by their gcd, count 1 omitted: 'O3TiSr'."""
    counts = Counter(int(z) for z in numbers)
    if not counts:
        raise ValueError("a crystal needs at least one atom")
    g = 0
    for n in counts.values():
        g = math.gcd(g, n)
    return "".join(SYMBOLS[z - 1] + (str(n // g) if n // g != 1 else "") for z, n in sorted(counts.items()))


def _cell(lattice, frac, numbers):
    L = np.asarray(lattice, dtype=float).reshape(3, 3)
    f = np.asarray(frac, dtype=float).reshape(-1, 3)
    z = np.asarray(numbers, dtype=int).reshape(-1)
    if len(z) == 0 or len(z) != len(f):
        raise ValueError(f"{len(f)} positions for {len(z)} atomic numbers")
    if np.any(z < 1) or np.any(z > len(SYMBOLS)):
        raise ValueError("atomic numbers must be 1-118")
    if not (np.all(np.isfinite(L)) and np.all(np.isfinite(f))):
        raise ValueError("lattice and positions must be finite")
    if abs(np.linalg.det(L)) < 1e-8:
        raise ValueError("the cell has no volume")
    return L, f, z


def neighbour_distances(lattice, frac, cutoff: float):
    """(centre index, distance) of every periodic neighbour with 0 < d < cutoff."""
    L, f, _ = _cell(lattice, frac, np.ones(len(np.asarray(frac).reshape(-1, 3)), int))
    f = f - np.floor(f)
    vol = abs(np.linalg.det(L))
    heights = [vol / np.linalg.norm(np.cross(L[(k + 1) % 3], L[(k + 2) % 3])) for k in range(3)]
    reach = [int(math.ceil(cutoff / h)) + 1 for h in heights]
    grid = np.meshgrid(*[np.arange(-m, m + 1) for m in reach], indexing="ij")
    shifts = np.stack([g.ravel() for g in grid], 1) @ L
    cart = f @ L
    centres, dists = [], []
    for i in range(len(cart)):
        d = np.linalg.norm(cart[None, :, :] + shifts[:, None, :] - cart[i], axis=-1).ravel()
        d = d[(d > 0) & (d < cutoff)]
        centres.append(np.full(len(d), i))
        dists.append(d)
    return np.concatenate(centres), np.concatenate(dists)


_IMAGES = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)


def primitive_size(lattice, frac, numbers, tol: float = PRIM_TOL) -> float:
    """N / the number of translations f_j - f_0 (j, 0 of the rarest element, 0 its
    first atom) that move every atom to within tol Å of an atom of its element."""
    L, f, z = _cell(lattice, frac, numbers)
    f = f - np.floor(f)
    elements, counts = np.unique(z, return_counts=True)
    rare = elements[np.argmin(counts)]          # smallest count, lowest Z on ties
    cand = np.nonzero(z == rare)[0]
    groups = [f[z == e] for e in elements]
    t2 = tol * tol
    found = 0
    for j in cand:
        t = f[j] - f[cand[0]]
        ok = True
        for g in groups:
            d = g[None, :, :] - (g[:, None, :] + t)        # target k - moved i
            d -= np.round(d)
            c = (d[:, :, None, :] + _IMAGES) @ L
            if np.any(np.min(np.sum(c * c, -1), axis=(1, 2)) > t2):
                ok = False
                break
        found += ok
    return len(z) / max(found, 1)


def histogram(lattice, frac, numbers) -> np.ndarray:
    L, f, z = _cell(lattice, frac, numbers)
    n = len(z)
    s = (abs(np.linalg.det(L)) / n) ** (1 / 3)
    centre, d = neighbour_distances(L, f, (R_MAX + REACH * SIGMA) * s)
    x = d / s
    elements = sorted(set(z.tolist()))
    channel = np.searchsorted(elements, z)[centre]
    xb = (np.arange(BINS) + 0.5) * BIN
    w = np.exp(-((xb[None, :] - x[:, None]) ** 2) / (2 * SIGMA * SIGMA))
    out = np.zeros((len(elements), BINS))
    for c in range(len(elements)):
        out[c] = w[channel == c].sum(0)
    return out / n


def descriptor(lattice, frac, numbers) -> Descriptor:
    L, f, z = _cell(lattice, frac, numbers)
    return Descriptor(reduced_formula(z), primitive_size(L, f, z), histogram(L, f, z))


def of_crystal(c) -> Descriptor:
    """Descriptor of a data.Crystal, a (lattice, frac, numbers) triple or a Descriptor."""
    if isinstance(c, Descriptor):
        return c
    if hasattr(c, "lengths"):
        return descriptor(lattice_from_params(c.lengths, c.angles), c.frac, c.numbers)
    return descriptor(*c)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 per element channel, summed, over the mean mass (reduced units)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"descriptors of shapes {a.shape} and {b.shape} cannot be compared")
    mass = 0.5 * (a.sum() + b.sum())
    return float(np.abs(np.cumsum(a - b, axis=-1)).sum() * BIN / mass) if mass > 0 else 0.0


def same_cell_class(a: Descriptor, b: Descriptor) -> bool:
    return a.formula == b.formula and abs(a.nprim - b.nprim) < 1e-6


def match(a, b, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Same reduced formula, same primitive size, descriptor distance <= threshold."""
    a, b = of_crystal(a), of_crystal(b)
    return same_cell_class(a, b) and distance(a.hist, b.hist) <= threshold


# ---------------------------------------------------------------- known.json

def quantise(h: np.ndarray, quantum: float) -> list[int]:
    """Integers q with h ~ quantum * q, rounded with error feedback: q are the
    differences of round(cumsum(h) / quantum) per element channel, so every
    cumulative sum (what the distance compares) is within quantum / 2."""
    r = np.rint(np.cumsum(np.asarray(h, float).reshape(-1, BINS), axis=-1) / quantum)
    return [int(q) for q in np.diff(r, axis=-1, prepend=0).ravel()]


def known_entries(crystals, quantum: float) -> dict[str, list[list]]:
    out: dict[str, list[list]] = defaultdict(list)
    for c in crystals:
        d = of_crystal(c)
        n = round(d.nprim, 6)
        out[d.formula].append([int(n) if n == int(n) else n] + quantise(d.hist, quantum))
    return dict(sorted(out.items()))


def write_known(dataset: str, path: str | None = None) -> str:
    from cdvae import data
    train = data.splits(data.load(dataset, verbose=False))["train"]
    quantum = QUANTUM.get(dataset, 0.02)
    doc = {
        "format": FORMAT,
        "dataset": dataset,
        "split": "train",
        "split_rule": data.SPLIT_RULE,
        "count": len(train),
        "descriptor": {**PARAMS, "quantum": quantum},
        "threshold": THRESHOLDS.get(dataset, DEFAULT_THRESHOLD),
        "reference": "pymatgen StructureMatcher() defaults; calibration: models/cdvae/novelty.py --calibrate",
        "known": known_entries(train, quantum),
    }
    path = path or os.path.join(HERE, "export", dataset, "known.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    return path


def load_known(path: str) -> dict:
    with open(path) as fh:
        doc = json.load(fh)
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    q = doc["descriptor"]["quantum"]
    doc["entries"] = {f: [Descriptor(f, float(e[0]), np.asarray(e[1:], float).reshape(-1, BINS) * q)
                          for e in es] for f, es in doc["known"].items()}
    return doc


def is_new(crystal, known: dict) -> bool:
    d = of_crystal(crystal)
    th = known["threshold"]
    return not any(same_cell_class(d, k) and distance(d.hist, k.hist) <= th
                   for k in known["entries"].get(d.formula, ()))


def unique_flags(crystals, threshold: float = DEFAULT_THRESHOLD) -> list[bool]:
    ds = [of_crystal(c) for c in crystals]
    return [not any(same_cell_class(ds[i], ds[j]) and distance(ds[i].hist, ds[j].hist) <= threshold
                    for j in range(i)) for i in range(len(ds))]


# ---------------------------------------------------------------- calibration

def _structure(cell):
    from pymatgen.core import Lattice, Structure
    L, f, z = cell
    return Structure(Lattice(L), [int(q) for q in z], f)


def supercell(lattice, frac, numbers, S):
    """The cell S·L (S integer, det > 0) with all its atoms."""
    L, f, z = _cell(lattice, frac, numbers)
    S = np.asarray(S)
    Si = np.linalg.inv(S)
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]) @ S
    lo, hi = corners.min(0), corners.max(0)
    fs, zs = [], []
    for t in np.stack(np.meshgrid(*[np.arange(lo[k] - 1, hi[k] + 1) for k in range(3)], indexing="ij"), -1).reshape(-1, 3):
        g = ((f - np.floor(f)) + t) @ Si
        ok = np.all((g > -1e-9) & (g < 1 - 1e-9), axis=1)
        fs.append(g[ok] - np.floor(g[ok] + 1e-12))
        zs.append(z[ok])
    f2, z2 = np.vstack(fs), np.concatenate(zs)
    if len(z2) != round(abs(np.linalg.det(S))) * len(z):
        raise AssertionError("supercell lost atoms")
    return S @ L, f2, z2


def perturb(cell, kind: str, rng):
    L, f, z = cell
    if kind == "supercell":
        while True:
            S = rng.integers(-1, 3, (3, 3))
            if 2 <= round(np.linalg.det(S)) <= 4:
                break
        L, f, z = supercell(L, f, z, S)
        p = rng.permutation(len(z))
        return L, (f[p] + rng.uniform(0, 1, 3)) % 1.0, z[p]
    if kind.startswith("strain"):
        e = float(kind[6:]) / 100
        E = np.eye(3) + rng.uniform(-e, e, (3, 3))
        return L @ (0.5 * (E + E.T)), f, z
    if kind.startswith("noise"):
        cart = f @ L + rng.normal(0, float(kind[5:]), f.shape)
        return L, (cart @ np.linalg.inv(L)) % 1.0, z
    if kind == "scale":
        return L * 1.05, f, z
    if kind == "swap":
        pairs = [(i, j) for i in range(len(z)) for j in range(i + 1, len(z)) if z[i] != z[j]]
        if not pairs:
            return None
        i, j = pairs[rng.integers(len(pairs))]
        z = z.copy()
        z[i], z[j] = z[j], z[i]
        return L, f, z
    raise ValueError(kind)


PERTURBATIONS = ("supercell", "strain1", "strain2", "strain5", "strain10", "noise0.05", "noise0.1",
                 "noise0.2", "noise0.3", "scale", "swap")


def calibration_pairs(dataset: str, n_real: int, n_pert: int, seed: int = 1):
    """[(kind, cell_a, cell_b)]: real same-composition pairs and perturbed copies."""
    from cdvae import data
    crystals = data.load(dataset, verbose=False)
    rng = np.random.default_rng(seed)
    cell = lambda c: (lattice_from_params(c.lengths, c.angles), np.asarray(c.frac), np.asarray(c.numbers))  # noqa: E731
    pairs = []
    groups = defaultdict(list)
    for c in crystals:
        groups[reduced_formula(c.numbers)].append(c)
    if all(len(g) <= 20 for g in groups.values()):
        # every same-formula pair (perov_5: A/B-site swaps and the like)
        for g in groups.values():
            pairs += [("real, same formula", cell(g[i]), cell(g[j]))
                      for i in range(len(g)) for j in range(i + 1, len(g))]
    else:
        # one big formula (carbon_24): each sampled crystal with its 4 nearest
        # descriptors (the hard cases), and as many random pairs
        sub = [crystals[k] for k in rng.choice(len(crystals), min(n_real, len(crystals)), replace=False)]
        ds = [of_crystal(c) for c in sub]
        cum = np.array([np.cumsum(d.hist, -1).ravel() / d.hist.sum() for d in ds])
        seen = set()
        for i in range(len(sub)):
            dist = np.abs(cum - cum[i]).sum(1)
            dist[i] = np.inf
            for j in np.argsort(dist)[:4]:
                key = (min(i, j), max(i, j))
                if key not in seen and ds[i].formula == ds[j].formula:
                    seen.add(key)
                    pairs.append(("real, nearest descriptors", cell(sub[i]), cell(sub[j])))
        for _ in range(len(sub)):
            i, j = rng.choice(len(sub), 2, replace=False)
            pairs.append(("real, random", cell(sub[i]), cell(sub[j])))
    for k in rng.choice(len(crystals), min(n_pert, len(crystals)), replace=False):
        x = cell(crystals[k])
        for kind in PERTURBATIONS:
            y = perturb(x, kind, rng)
            if y is not None:
                pairs.append((kind, x, y))
    return pairs


def _matcher():
    import warnings
    from pymatgen.analysis.structure_matcher import StructureMatcher
    warnings.simplefilter("ignore")
    return StructureMatcher()


def pair_rows(dataset: str, n_real: int, n_pert: int, seed: int = 1):
    """[(kind, StructureMatcher's answer, same formula and primitive size, distance)]."""
    sm = _matcher()
    rows = []
    for kind, a, b in calibration_pairs(dataset, n_real, n_pert, seed):
        da, db = of_crystal(a), of_crystal(b)
        d = distance(da.hist, db.hist) if da.formula == db.formula else math.inf
        rows.append((kind, bool(sm.fit(_structure(a), _structure(b))), same_cell_class(da, db), d))
    return rows


def split_rows(dataset: str, split: str, n: int, seed: int = 0):
    """For (a sample of n of) a split's crystals: (distance to the nearest training
    crystal of the same formula and primitive size, inf if none; whether
    StructureMatcher() matches no training crystal)."""
    from cdvae import data
    sm = _matcher()
    sp = data.splits(data.load(dataset, verbose=False))
    groups = defaultdict(list)
    for c in sp["train"]:
        groups[reduced_formula(c.numbers)].append(c)
    cache = {}

    def info(c):
        if c.id not in cache:
            cell = (lattice_from_params(c.lengths, c.angles), c.frac, c.numbers)
            cache[c.id] = (of_crystal(cell), sm._get_reduced_structure(_structure(cell), True, True))
        return cache[c.id]

    rng = np.random.default_rng(seed)
    pool = sp[split]
    rows = []
    for c in [pool[k] for k in rng.choice(len(pool), min(n, len(pool)), replace=False)]:
        d, s = info(c)
        near, sm_new = math.inf, True
        for t in groups.get(d.formula, ()):
            dt, st = info(t)
            if same_cell_class(d, dt):
                near = min(near, distance(d.hist, dt.hist))
            # StructureMatcher never matches primitive cells of different sizes
            if sm_new and len(st) == len(s) and sm.fit(s, st, skip_structure_reduction=True):
                sm_new = False
        rows.append((near, sm_new, c))
    return rows


def calibrate(dataset: str, n_real: int = 1500, n_pert: int = 300, n_val: int = 400, seed: int = 1) -> float:
    """Prints the agreement with StructureMatcher() on pairs and on the
    validation split's new / not new answers; returns the threshold that
    maximises the mean of the two (balanced agreement on pairs, agreement on
    the validation split)."""
    t0 = time.time()
    rows = pair_rows(dataset, n_real, n_pert, seed)
    val = split_rows(dataset, "val", n_val)
    t1 = time.time()
    tag = np.array([r[0] for r in rows])
    lab = np.array([r[1] for r in rows])
    cls = np.array([r[2] for r in rows])
    dist = np.array([r[3] for r in rows])
    vnear = np.array([r[0] for r in val])
    vnew = np.array([r[1] for r in val])

    def pairs_score(t):
        pred = cls & (dist <= t)
        return 0.5 * (np.mean(pred[lab]) + np.mean(~pred[~lab]))

    def val_score(t):
        return float(np.mean((vnear > t) == vnew))

    finite = np.concatenate([dist[np.isfinite(dist)], vnear[np.isfinite(vnear)]])
    cands = np.unique(np.round(np.quantile(finite, np.linspace(0, 1, 2000)), 5))
    cands = cands[cands > 0]
    best = float(max(cands, key=lambda t: pairs_score(t) + val_score(t)))
    th = THRESHOLDS.get(dataset, DEFAULT_THRESHOLD)
    print(f"{dataset}: {len(rows)} pairs, {len(val)} validation crystals, {t1 - t0:.0f} s. Threshold in use {th}: "
          f"pairs {pairs_score(th):.3f} (balanced), validation {val_score(th):.3f}; best {best:.4f}: "
          f"pairs {pairs_score(best):.3f}, validation {val_score(best):.3f}")
    pred = cls & (dist <= th)
    print(f"\nAgreement with StructureMatcher() at threshold {th}:\n")
    print(f"| {'pairs':26s} | SM match | agree | SM no match | agree |")
    print(f"|{'-' * 28}|---------:|------:|------------:|------:|")
    fmt = lambda m: f"{np.mean(m):.3f}" if len(m) else "  -  "  # noqa: E731
    for k in list(dict.fromkeys(tag.tolist())) + ["all pairs"]:
        m = np.ones(len(rows), bool) if k == "all pairs" else tag == k
        print(f"| {k:26s} | {np.sum(m & lab):8d} | {fmt(pred[m & lab])} | {np.sum(m & ~lab):11d} | {fmt(~pred[m & ~lab])} |")
    ours = vnear > th
    print(f"| {'validation vs training':26s} | {np.sum(~vnew):8d} | {fmt(~ours[~vnew])} | "
          f"{np.sum(vnew):11d} | {fmt(ours[vnew])} |")
    print(f"\n(validation: 'SM match' = not new by StructureMatcher; new by StructureMatcher "
          f"{np.mean(vnew):.3f}, by this module {np.mean(ours):.3f})")
    return best


def test_split_novelty(dataset: str, n: int) -> None:
    """Share of (a sample of n of) the test split that is new against the
    training split: by this module (known.json, as the app) and by
    StructureMatcher()."""
    path = os.path.join(HERE, "export", dataset, "known.json")
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: run --dataset {dataset} first")
    known = load_known(path)
    t0 = time.time()
    rows = split_rows(dataset, "test", n)
    ours = np.array([is_new(c, known) for _, _, c in rows])
    exact = np.array([near > known["threshold"] for near, _, _ in rows])
    smn = np.array([r[1] for r in rows])
    print(f"{dataset}: {len(rows)} test crystals ({time.time() - t0:.0f} s), threshold {known['threshold']}: "
          f"new by this module {ours.mean():.3f} (unquantised descriptors {exact.mean():.3f}), "
          f"by StructureMatcher {smn.mean():.3f}; same answer {np.mean(ours == smn):.3f}")


# ---------------------------------------------------------------- fixture

def _fixture_cells():
    """A handful of crystals for the TypeScript parity test."""
    from cdvae import data
    out = []
    for dataset, ids in (("perov_5", 3), ("carbon_24", 3)):
        train = data.splits(data.load(dataset, verbose=False))["train"]
        for c in train[:ids]:
            out.append((f"{dataset} train {c.id}", dataset, (lattice_from_params(c.lengths, c.angles), c.frac, c.numbers)))
    rng = np.random.default_rng(5)
    base = out[3][2]
    L, f, z = supercell(*base, [[1, 1, 0], [0, 2, 0], [0, 0, 1]])
    p = rng.permutation(len(z))
    out.append(("carbon supercell [[1,1,0],[0,2,0],[0,0,1]], shuffled, shifted", "carbon_24", (L, (f[p] + 0.37) % 1.0, z[p])))
    out.append(("carbon strained 1 %", "carbon_24", (base[0] @ np.diag([1.01, 0.995, 1.0]), base[1], base[2])))
    b0 = out[0][2]
    out.append(("perov_5 first two atoms' species swapped", "perov_5", (b0[0], b0[1], np.asarray(b0[2])[[1, 0, 2, 3, 4]])))
    a = 5.64
    out.append(("rock salt NaCl", None, (np.eye(3) * a, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                                                          [.5, 0, 0], [0, .5, 0], [0, 0, .5], [.5, .5, .5]], [11] * 4 + [17] * 4)))
    out.append(("CsCl-type NaCl", None, (np.eye(3) * 3.3, [[0, 0, 0], [.5, .5, .5]], [11, 17])))
    # appended last so that the indices above stay what the TypeScript test reads
    for c in data.splits(data.load("mp20_biternary_pilot", verbose=False))["train"][:3]:
        out.append((f"mp20_biternary_pilot train {c.id}", "mp20_biternary_pilot",
                    (lattice_from_params(c.lengths, c.angles), c.frac, c.numbers)))
    return out


def write_fixture(path: str | None = None) -> str:
    cells = _fixture_cells()
    ds = [descriptor(*c) for _, _, c in cells]
    crystals = []
    for (name, dataset, (L, f, z)), d in zip(cells, ds):
        crystals.append({"name": name, "dataset": dataset,
                         "lattice": np.asarray(L, float).tolist(), "frac": np.asarray(f, float).tolist(),
                         "numbers": [int(q) for q in z], "formula": d.formula, "nprim": d.nprim,
                         "descriptor": d.hist.ravel().tolist()})
    n = len(ds)
    dist = [[distance(ds[i].hist, ds[j].hist) if ds[i].formula == ds[j].formula else None for j in range(n)] for i in range(n)]
    doc = {"note": "written by models/cdvae/novelty.py --fixture; descriptors unquantised",
           "params": PARAMS, "threshold": DEFAULT_THRESHOLD, "crystals": crystals, "distance": dist,
           "match": [[match(ds[i], ds[j], DEFAULT_THRESHOLD) for j in range(n)] for i in range(n)],
           "unique": unique_flags(ds, DEFAULT_THRESHOLD)}
    path = path or os.path.join(HERE, "fixtures", "novelty.json")
    with open(path, "w") as fh:
        json.dump(doc, fh)
        fh.write("\n")
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", action="append", help="perov_5, carbon_24, mp20_biternary_pilot (repeatable)")
    p.add_argument("--calibrate", action="store_true", help="print the agreement with StructureMatcher()")
    p.add_argument("--pairs", type=int, default=1500, help="crystals sampled for real pairs (carbon_24)")
    p.add_argument("--perturbed", type=int, default=300, help="crystals perturbed for --calibrate")
    p.add_argument("--val", type=int, default=400, help="validation crystals for --calibrate")
    p.add_argument("--test-split", type=int, default=0, metavar="N",
                   help="share of N test crystals that is new, by this module and by StructureMatcher")
    p.add_argument("--fixture", action="store_true", help="write fixtures/novelty.json")
    args = p.parse_args()
    if args.fixture:
        print(write_fixture())
    for dataset in args.dataset or []:
        if args.calibrate:
            calibrate(dataset, args.pairs, args.perturbed, args.val)
        elif args.test_split:
            test_split_novelty(dataset, args.test_split)
        else:
            t = time.time()
            path = write_known(dataset)
            print(f"{path}: {os.path.getsize(path) / 1e6:.2f} MB, {time.time() - t:.0f} s")
    if not args.fixture and not args.dataset:
        p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
