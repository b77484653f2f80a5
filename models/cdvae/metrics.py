"""Generation metrics in the sense of CDVAE (Xie et al., ICLR 2022, section
5.2 and ``scripts/eval_utils.py`` of its code), computed with what Debian
ships (pymatgen, scipy), without SMACT or matminer. Differences are named.

* Structural validity: the shortest distance between two different atoms
  (minimum image) is at least 0.5 Å and the cell volume at least 0.1 Å^3;
  exactly CDVAE's rule.
* Compositional validity: CDVAE uses SMACT's charge-neutrality test with the
  Pauling electronegativity test, and counts all-metal compositions (alloys)
  and single elements as valid. Here the same logic runs on pymatgen's
  element data: every combination of each element's known oxidation states
  (``Element.oxidation_states``) is tried; a combination is valid when the
  charges sum to zero and every cation is less electronegative (Pauling) than
  every anion. pymatgen's oxidation-state lists differ in places from SMACT's.
* Coverage (COV-R, COV-P): CDVAE compares CrystalNN site fingerprints
  (matminer) and Magpie composition fingerprints between generated and test
  crystals with fixed thresholds. matminer is not available, so the
  fingerprints here are: structure, a Gaussian-smeared radial distribution
  (0-6 Å, per atom); composition, fraction-weighted mean / min / max / mean
  absolute deviation of seven element properties, standardised on the test
  set. Because the fingerprints differ, CDVAE's thresholds mean nothing for
  them; the thresholds are instead the 90th percentile of the distance from
  each held-out *validation* crystal to its nearest *test* crystal, so real
  crystals of the same distribution score about 90 % by construction, and
  ``evaluate.py`` prints that reference next to the model's numbers.
* Wasserstein distances between generated (valid) and test crystals of the
  density (g/cm^3) and of the number of distinct elements: as in CDVAE.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

STRUCT_CUTOFF = 0.5   # Å, CDVAE
RDF_MAX, RDF_BINS, RDF_SMEAR = 6.0, 60, 0.1
ELEMENT_PROPS = ("Z", "X", "row", "group", "atomic_radius", "mendeleev_no", "atomic_mass")


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


_METALS_CACHE: dict[int, bool] = {}


def compositional_valid(numbers) -> bool:
    from pymatgen.core import Element
    counts: dict[int, int] = {}
    for z in numbers:
        counts[int(z)] = counts.get(int(z), 0) + 1
    zs = sorted(counts)
    if len(zs) == 1:
        return True
    els = [Element.from_Z(z) for z in zs]
    if all(e.is_metal for e in els):       # CDVAE: include_alloys=True
        return True
    g = math.gcd(*counts.values())
    n = [counts[z] // g for z in zs]
    states = [e.oxidation_states or (0,) for e in els]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chi = [e.X if not math.isnan(e.X) else None for e in els]
    for combo in itertools.product(*states):
        if sum(q * k for q, k in zip(combo, n)) != 0:
            continue
        if any(c is None for c in chi):
            return True
        cations = [chi[i] for i, q in enumerate(combo) if q > 0]
        anions = [chi[i] for i, q in enumerate(combo) if q < 0]
        if not cations or not anions or max(cations) < min(anions):
            return True
    return False


def rdf_fingerprint(s) -> np.ndarray:
    centers = np.linspace(0, RDF_MAX, RDF_BINS)
    fp = np.zeros(RDF_BINS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nbrs = s.get_all_neighbors(RDF_MAX)
    for site_nbrs in nbrs:
        for nb in site_nbrs:
            fp += np.exp(-((centers - nb.nn_distance) / RDF_SMEAR) ** 2)
    return fp / len(s)


def _element_table():
    from pymatgen.core import Element
    table = {}
    for z in range(1, 104):
        e = Element.from_Z(z)
        vals = []
        for p in ELEMENT_PROPS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # noble gases have no X: NaN, filled below
                v = getattr(e, p, None)
            try:
                v = float(v)
            except (TypeError, ValueError):
                v = math.nan
            vals.append(v)
        table[z] = np.array(vals)
    cols = np.stack(list(table.values()))
    fill = np.nanmean(cols, 0)
    for z, v in table.items():
        table[z] = np.where(np.isnan(v), fill, v)
    return table


_TABLE = None


def composition_fingerprint(numbers) -> np.ndarray:
    global _TABLE
    if _TABLE is None:
        _TABLE = _element_table()
    zs, counts = np.unique(np.asarray(numbers, dtype=int), return_counts=True)
    w = counts / counts.sum()
    props = np.stack([_TABLE[int(z)] for z in zs])          # (k, P)
    mean = (w[:, None] * props).sum(0)
    mad = (w[:, None] * np.abs(props - mean)).sum(0)
    return np.concatenate([mean, props.min(0), props.max(0), mad])


def nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For every row of a, the Euclidean distance to its nearest row of b."""
    out = np.empty(len(a))
    for k in range(0, len(a), 512):
        d = np.sqrt(((a[k:k + 512, None, :] - b[None]) ** 2).sum(-1))
        out[k:k + 512] = d.min(1)
    return out


def coverage(gen_s, gen_c, ref_s, ref_c, t_s: float, t_c: float) -> tuple[float, float]:
    """COV-R and COV-P as CDVAE's ``compute_cov``: a reference crystal is
    recalled when its nearest generated structure fingerprint is within t_s
    AND its nearest generated composition fingerprint within t_c (nearest
    taken separately, as there); precision the same the other way round."""
    if len(gen_s) == 0:
        return 0.0, 0.0
    recall = np.mean((nearest(ref_s, gen_s) <= t_s) & (nearest(ref_c, gen_c) <= t_c))
    precision = np.mean((nearest(gen_s, ref_s) <= t_s) & (nearest(gen_c, ref_c) <= t_c))
    return float(recall), float(precision)


def wasserstein(a, b) -> float:
    from scipy.stats import wasserstein_distance
    if len(a) == 0 or len(b) == 0:
        return math.nan
    return float(wasserstein_distance(a, b))
