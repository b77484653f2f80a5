"""Generation metrics of CDVAE (Xie et al., ICLR 2022, section 5.2), computed
the way the official code computes them (github.com/txie-93/cdvae,
``scripts/compute_metrics.py`` and ``scripts/eval_utils.py``), without SMACT
or matminer: their data tables are read from
``../shared/data/generation-metrics/`` (see its README.md) and the
algorithms are re-implemented here, using pymatgen's ``CrystalNN`` and
``LocalStructOrderParams`` where matminer uses them.

* ``structural_valid``: eval_utils.py ``structure_validity``: the shortest
  distance between two different atoms (minimum image) is at least 0.5 Å and
  the cell volume at least 0.1 Å^3.
* ``compositional_valid``: eval_utils.py ``smact_validity`` with SMACT 2.2.1
  (the version CDVAE's env.yml pins): a single element is valid; all
  elements in SMACT's ``metals`` list is valid (alloys); otherwise some
  combination of the elements' oxidation states (SMACT's 2014
  ``oxidation_states.txt``) must be charge neutral for the crystal's
  gcd-reduced counts (``smact.neutral_ratios`` is called with
  ``stoichs=[(c,) for c in count]``, so only those exact counts are tried and
  ``threshold`` plays no part) and pass ``smact.screening.pauling_test``
  (``eneg_states_test``) on ``element_data.txt``'s Pauling column. Missing
  electronegativities (He, Ne, Ar, Pm, Rn, Lr) behave as in SMACT under
  CDVAE: comparing a missing value raises TypeError, which CDVAE catches and
  counts as passing; a pair of two cations or two anions with a missing value
  fails.
* ``composition_fingerprint``: matminer ``ElementProperty.from_preset("magpie")``
  (matminer/featurizers/composition/composite.py, stats from
  matminer/featurizers/utils/stats.py ``PropertyStats``): 22 properties x
  (minimum, maximum, range, mean, avg_dev, mode), property-major, weights =
  element amounts; mode = the smallest property value among the most
  abundant elements; standardised with CDVAE's ``CompScalerMeans/Stds``
  (cdvae/common/constants.py), NaN -> 0 (``StandardScaler(replace_nan_token=0)``).
* ``structure_fingerprint``: matminer ``CrystalNNFingerprint.from_preset("ops")``
  (matminer/featurizers/site/fingerprint.py) per site, averaged over sites
  (compute_metrics.py ``Crystal.get_fingerprints``): ``CrystalNN()`` with
  pymatgen's defaults (the preset passes no settings), for CN 1..24 the
  CN weight ("wt"), and for CN 1..12 the motif order parameters of
  matminer's ``cn_target_motif_op.yaml`` with pymatgen's
  ``cn_opt_params.yaml`` parameters, each multiplied by that CN's weight
  (0 where the weight is 0 or the parameter is None); 61 numbers per site.
* ``coverage``: eval_utils.py ``compute_cov``: Euclidean distances; COV-R =
  share of test crystals whose nearest generated structure fingerprint is
  within the structure cutoff AND whose nearest generated composition
  fingerprint is within the composition cutoff (nearest taken separately);
  COV-P = number of generated crystals within both cutoffs of the test set,
  divided by *all* generated crystals. As in the official code the
  generated side is every generated crystal whose fingerprints could be
  computed, valid or not (``GenEval.get_coverage`` passes ``self.crys``, all
  of them; only crystals whose CrystalNN raised are dropped, and they still
  count in COV-P's denominator). Cutoffs: ``COV_CUTOFFS`` (compute_metrics.py).
* ``wasserstein``: compute_metrics.py ``get_density_wdist`` /
  ``get_num_elem_wdist``: scipy's 1-D Wasserstein distance between valid
  samples (the paper: 1,000 drawn at random) and the test crystals.

Remaining differences from the paper's numbers: pymatgen 2022.11 instead of
2020.12.31 (CrystalNN / VoronoiNN may differ in details; not checked);
SMACT 2.2.1 listed Zr's Pauling electronegativity as 0.33 (a typo fixed in
2023), the shared table has 1.33 (only matters where Zr is a cation next to
an anion of electronegativity between 0.33 and 1.33, e.g. Na-, K-, Cs-);
our test split is not CDVAE's (models/cdvae/data.py); far fewer samples
than the paper's 10,000.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import warnings
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("LATTICE_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
TABLES = os.path.join(SHARED, "data", "generation-metrics")

STRUCT_CUTOFF = 0.5   # Å, structure_validity
# compute_metrics.py COV_Cutoffs: (structure, composition)
COV_CUTOFFS = {"perov_5": (0.2, 4.0), "carbon_24": (0.2, 4.0), "mp_20": (0.4, 10.0)}

MAGPIE_PROPS = ("Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row",
                "CovalentRadius", "Electronegativity", "NsValence", "NpValence", "NdValence",
                "NfValence", "NValence", "NsUnfilled", "NpUnfilled", "NdUnfilled", "NfUnfilled",
                "NUnfilled", "GSvolume_pa", "GSbandgap", "GSmagmom", "SpaceGroupNumber")
MAGPIE_STATS = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
COMP_FP_LEN = len(MAGPIE_PROPS) * len(MAGPIE_STATS)     # 132

# matminer cn_target_motif_op.yaml; "wt" first for every CN 1..24
CN_MOTIFS = {
    1: ("sgl_bd",),
    2: ("L-shaped", "water-like", "bent 120 degrees", "bent 150 degrees", "linear"),
    3: ("trigonal planar", "trigonal non-coplanar", "T-shaped"),
    4: ("square co-planar", "tetrahedral", "rectangular see-saw-like", "see-saw-like",
        "trigonal pyramidal"),
    5: ("pentagonal planar", "square pyramidal", "trigonal bipyramidal"),
    6: ("hexagonal planar", "octahedral", "pentagonal pyramidal"),
    7: ("hexagonal pyramidal", "pentagonal bipyramidal"),
    8: ("body-centered cubic", "hexagonal bipyramidal"),
    9: ("q2", "q4", "q6"), 10: ("q2", "q4", "q6"), 11: ("q2", "q4", "q6"),
    12: ("cuboctahedral", "q2", "q4", "q6"),
}
MAX_CN = 24
STRUCT_FP_LEN = MAX_CN + sum(len(v) for v in CN_MOTIFS.values())   # 61


def structure(lengths, angles, frac, numbers):
    from pymatgen.core import Lattice, Structure
    return Structure(Lattice.from_parameters(*lengths, *angles), list(map(int, numbers)), frac)


def structural_valid(s) -> bool:
    if s.volume < 0.1:
        return False
    if len(s) == 1:
        return True
    d = s.distance_matrix + np.eye(len(s)) * (STRUCT_CUTOFF + 10.0)
    return bool(d.min() >= STRUCT_CUTOFF)


# ---------------------------------------------------------------- SMACT

def _rows(path):
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line.split()


def _float_or_none(x):
    try:
        return float(x)
    except ValueError:
        return None


@functools.lru_cache(maxsize=None)
def smact_tables():
    """(symbol by Z, oxidation states by symbol, Pauling X by symbol or None, metals)."""
    d = os.path.join(TABLES, "smact")
    symbol, eneg = {}, {}
    for r in _rows(os.path.join(d, "element_data.txt")):
        # Symbol Name Z Mass r_cov e_affinity p_eig s_eig Abundance el_neg ion_pot dipol
        symbol[int(r[2])] = r[0]
        eneg[r[0]] = _float_or_none(r[9])
    ox = {r[0]: tuple(int(q) for q in r[1:]) for r in _rows(os.path.join(d, "oxidation_states.txt"))}
    with open(os.path.join(d, "metals.json")) as fh:
        metals = frozenset(json.load(fh))
    return symbol, ox, eneg, metals


class _Missing(Exception):
    pass


def _less(a, b):
    if a is None or b is None:
        raise _Missing()
    return a < b


def pauling_ok(ox_states, enegs) -> bool:
    """SMACT ``eneg_states_test`` as CDVAE calls it: every cation less
    electronegative than every anion, pairs in order; a comparison with a
    missing electronegativity raises in SMACT, and CDVAE counts that as
    passing; two same-sign ions with a missing value fail."""
    try:
        for (o1, e1), (o2, e2) in itertools.combinations(list(zip(ox_states, enegs)), 2):
            if o1 > 0 and o2 < 0 and not _less(e1, e2):      # eneg1 >= eneg2
                return False
            elif o1 < 0 and o2 > 0 and not _less(e2, e1):    # eneg1 <= eneg2
                return False
            elif e1 is None or e2 is None:
                return False
        return True
    except _Missing:
        return True


def compositional_valid(numbers) -> bool:
    """CDVAE's ``smact_validity(elems, comps)`` for a crystal's atomic numbers."""
    symbol, ox, eneg, metals = smact_tables()
    counts = Counter(int(z) for z in numbers)
    zs = sorted(counts)
    g = math.gcd(*counts.values())
    count = [counts[z] // g for z in zs]          # Crystal.get_composition
    syms = [symbol[z] for z in zs]
    if len(syms) == 1:
        return True
    if all(s in metals for s in syms):
        return True
    enegs = [eneg[s] for s in syms]
    return _neutral_and_pauling(tuple(tuple(ox[s]) for s in syms), tuple(count), tuple(enegs))


def _neutral_and_pauling(states: tuple, count: tuple, enegs: tuple) -> bool:
    """Whether some choice of oxidation states (one per element) is charge
    neutral for ``count`` and passes ``pauling_ok``: CDVAE tries every
    combination (``itertools.product``), which a poorly trained model's
    10-element compositions turn into 10^7-10^8 tries each. The same answer
    by a depth-first search that extends a partial choice only while the
    remaining elements can still cancel its charge and, when every
    electronegativity is known (then ``pauling_ok`` is exactly "every pair
    passes"), while every pair so far passes. ``src/core/generate/validity.ts``
    is the same search; ``_neutral_and_pauling_brute`` is CDVAE's loop, kept
    for the test that compares them."""
    k = len(states)
    reach = [set() for _ in range(k)] + [{0}]       # charges elements i.. can sum to
    for i in range(k - 1, -1, -1):
        reach[i] = {q * count[i] + r for q in states[i] for r in reach[i + 1]}
    known = all(e is not None for e in enegs)
    chosen = [0] * k

    def pair_ok(o1, e1, o2, e2):
        return not ((o1 > 0 and o2 < 0 and not e1 < e2) or (o1 < 0 and o2 > 0 and not e2 < e1))

    def search(i: int, charge: int) -> bool:
        if i == k:
            return known or pauling_ok(chosen, enegs)
        for q in states[i]:
            if -(charge + q * count[i]) not in reach[i + 1]:
                continue
            if known and not all(pair_ok(chosen[j], enegs[j], q, enegs[i]) for j in range(i)):
                continue
            chosen[i] = q
            if search(i + 1, charge + q * count[i]):
                return True
        return False

    return search(0, 0)


def _neutral_and_pauling_brute(states: tuple, count: tuple, enegs: tuple) -> bool:
    for combo in itertools.product(*states):
        # smact.neutral_ratios(states, stoichs=[(c,) for c in count]): the one
        # ratio `count`, kept if neutral and its gcd is 1 (always, reduced)
        if sum(q * c for q, c in zip(combo, count)) == 0 and pauling_ok(combo, enegs):
            return True
    return False


# ---------------------------------------------------------------- magpie

@functools.lru_cache(maxsize=None)
def magpie_table() -> np.ndarray:
    """(104, 22): row Z (1..103) = the 22 magpie properties, NaN where missing."""
    out = np.full((104, len(MAGPIE_PROPS)), np.nan)
    for j, p in enumerate(MAGPIE_PROPS):
        with open(os.path.join(TABLES, "magpie_elementdata", p + ".table")) as fh:
            lines = fh.readlines()
        for z in range(1, 104):
            try:
                out[z, j] = float(lines[z - 1])
            except (ValueError, IndexError):
                pass
    return out


@functools.lru_cache(maxsize=None)
def comp_scaler() -> tuple[np.ndarray, np.ndarray]:
    with open(os.path.join(TABLES, "cdvae_comp_scaler.json")) as fh:
        s = json.load(fh)
    return np.array(s["means"], dtype=float), np.array(s["stds"], dtype=float)


def composition_fingerprint(numbers, standardise: bool = True) -> np.ndarray:
    """132 numbers: ElementProperty magpie, CDVAE-standardised (NaN -> 0)."""
    zs, counts = np.unique(np.asarray(numbers, dtype=int), return_counts=True)
    props = magpie_table()[zs]                                 # (k, 22)
    w = counts.astype(float)
    out = np.empty((len(MAGPIE_PROPS), len(MAGPIE_STATS)))
    with np.errstate(invalid="ignore"):
        out[:, 0] = props.min(0)                               # NaN if any NaN
        out[:, 1] = props.max(0)
        out[:, 2] = out[:, 1] - out[:, 0]
        mean = (w[:, None] * props).sum(0) / w.sum()
        out[:, 3] = mean
        out[:, 4] = (w[:, None] * np.abs(props - mean)).sum(0) / w.sum()
        out[:, 5] = props[np.isclose(w, w.max())].min(0)       # PropertyStats.mode
    fp = out.reshape(-1)
    if not standardise:
        return fp
    means, stds = comp_scaler()
    z = (fp - means) / stds
    return np.where(np.isnan(z), 0.0, z)


# ---------------------------------------------------------------- CrystalNN

@functools.lru_cache(maxsize=None)
def _crystalnn_ops():
    """CrystalNN() and, per CN, one LocalStructOrderParams per motif (as
    CrystalNNFingerprint.__init__ builds them from cn_opt_params.yaml)."""
    import yaml
    import pymatgen.analysis.local_env as le
    with open(os.path.join(os.path.dirname(le.__file__), "cn_opt_params.yaml")) as fh:
        params = yaml.safe_load(fh)
    ops = {}
    for cn, motifs in CN_MOTIFS.items():
        ops[cn] = []
        for t in motifs:
            ot, p = t, None
            if cn in params and t in params[cn]:
                ot = params[cn][t][0]
                if len(params[cn][t]) > 1:
                    p = params[cn][t][1]
            ops[cn].append(le.LocalStructOrderParams([ot], parameters=[p]))
    return le.CrystalNN(), ops


def site_fingerprint(s, idx: int, cnn=None) -> np.ndarray:
    """CrystalNNFingerprint.from_preset("ops").featurize(s, idx): 61 numbers.
    ``cnn``: another CrystalNN (matminer's tests use non-default settings)."""
    default_cnn, ops = _crystalnn_ops()
    cnn = cnn or default_cnn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nndata = cnn.get_nn_data(s, idx)
        out = []
        for cn in range(1, MAX_CN + 1):
            wt = nndata.cn_weights.get(cn, 0)
            out.append(wt)
            for op in ops.get(cn, ()):
                if wt == 0:
                    out.append(0.0)
                    continue
                neigh = [d["site"] for d in nndata.cn_nninfo[cn]]
                v = op.get_order_parameters([s[idx]] + neigh, 0,
                                            indices_neighs=list(range(1, len(neigh) + 1)))[0]
                out.append(wt * (v or 0))
    return np.array(out, dtype=float)


def structure_fingerprint(s) -> np.ndarray:
    """Mean over sites of the CrystalNN "ops" site fingerprint (61 numbers).
    Raises where CrystalNN fails (CDVAE then drops the crystal from COV)."""
    return np.mean([site_fingerprint(s, i) for i in range(len(s))], axis=0)


# ---------------------------------------------------------------- coverage

def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For every row of a, the Euclidean distance to its nearest row of b."""
    out = np.empty(len(a))
    for k in range(0, len(a), 512):
        d = np.sqrt(((a[k:k + 512, None, :] - b[None]) ** 2).sum(-1))
        out[k:k + 512] = d.min(1)
    return out


def _with_fingerprints(gen_s, gen_c) -> tuple[np.ndarray, np.ndarray]:
    """The generated crystals whose fingerprints both exist (rows of None or
    NaN dropped, as eval_utils.py ``filter_fps``), as two float arrays."""
    keep = [i for i in range(len(gen_s)) if gen_s[i] is not None and gen_c[i] is not None
            and np.all(np.isfinite(gen_s[i])) and np.all(np.isfinite(gen_c[i]))]
    return (np.array([gen_s[i] for i in keep], dtype=float).reshape(len(keep), -1),
            np.array([gen_c[i] for i in keep], dtype=float).reshape(len(keep), -1))


def coverage(gen_s, gen_c, ref_s, ref_c, t_s: float, t_c: float,
             num_gen: int | None = None) -> tuple[float, float]:
    """COV-R and COV-P as eval_utils.py ``compute_cov``. ``gen_s``/``gen_c``:
    fingerprints of the generated crystals (rows of None / NaN for crystals
    whose fingerprint failed: dropped, as ``filter_fps``); composition
    fingerprints already standardised. ``num_gen``: COV-P's denominator,
    the number of generated crystals before dropping (default: len(gen_s))."""
    if num_gen is None:
        num_gen = len(gen_s)
    gs, gc = _with_fingerprints(gen_s, gen_c)
    if not len(gs) or num_gen == 0:
        return 0.0, 0.0
    rs, rc = np.asarray(ref_s, dtype=float), np.asarray(ref_c, dtype=float)
    recall = np.mean((nearest(rs, gs) <= t_s) & (nearest(rc, gc) <= t_c))
    precision = np.sum((nearest(gs, rs) <= t_s) & (nearest(gc, rc) <= t_c)) / num_gen
    return float(recall), float(precision)


def precision_parts(gen_s, gen_c, ref_s, ref_c, t_s: float, t_c: float,
                    num_gen: int | None = None) -> tuple[float, float]:
    """COV-P's two conditions apart: the share of generated crystals (same
    denominator and dropping as ``coverage``) whose nearest reference
    structure fingerprint is within ``t_s``, and whose nearest composition
    fingerprint is within ``t_c``. Not in the paper: says which of the two
    a low COV-P comes from."""
    if num_gen is None:
        num_gen = len(gen_s)
    gs, gc = _with_fingerprints(gen_s, gen_c)
    if not len(gs) or num_gen == 0:
        return 0.0, 0.0
    return (float(np.sum(nearest(gs, np.asarray(ref_s, float)) <= t_s) / num_gen),
            float(np.sum(nearest(gc, np.asarray(ref_c, float)) <= t_c) / num_gen))


def wasserstein(a, b) -> float:
    from scipy.stats import wasserstein_distance
    if len(a) == 0 or len(b) == 0:
        return math.nan
    return float(wasserstein_distance(a, b))
