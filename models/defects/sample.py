"""Deterministic sampling of defect configurations.

A configuration is fully determined by ``(host, index)``: the random stream is
seeded from a hash of both, so the same id always gives the same structure on
any machine and in any session, independently of which other hosts are being
generated.  That is what makes the generator resumable: an id that is already
in the dataset file is simply skipped.

Sampling follows the spirit of the 2DMD study (Huang et al., npj 2D Mater Appl
7, 6 (2023)): 1-3 point defects per supercell, each a vacancy of either species
or an isovalent substitution, on distinct random sites.  Supercells are 4x4 and
5x5, so the defect concentration spans ~1.3 % (one defect in 5x5, 75 atoms) to
~6 % (three defects in 4x4, 48 atoms).  The ``density`` label uses 2DMD's lower
bound of its high-density sets (2.5 % of sites) as the threshold.

Equivalent configurations (related by a lattice translation of the supercell or
by a point operation of the D3h layer group, including the mirror that swaps the
top and bottom chalcogen layers) share one canonical key, so duplicates are
detected and computed only once.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from ase import Atoms

from hosts import HOSTS, DefectKind, Host

#: Supercell sizes drawn for the dataset (n x n).
SUPERCELLS = (4, 5)
#: Number of point defects per structure.
N_DEFECTS = (1, 2, 3)
#: Concentration (defects / pristine atoms) at and above which a structure is
#: labelled "high" density; 2DMD's high-density sets start at 2.5 %.
HIGH_DENSITY_THRESHOLD = 0.025

_SEED_SALT = "lattice-lab-defects-v1"


@dataclass(frozen=True)
class Defect:
    """One point defect placed on site ``site`` of the pristine supercell."""

    label: str  # e.g. "V_S", "W_Mo"
    site: int  # index in the pristine supercell
    removed: str  # element originally on the site
    added: str | None  # substituting element, None for a vacancy

    @property
    def kind(self) -> str:
        return "vacancy" if self.added is None else "substitution"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "site": self.site,
                "removed": self.removed, "added": self.added}


@dataclass(frozen=True)
class Config:
    """A sampled defect configuration."""

    host: str
    index: int
    n: int  # supercell is n x n
    defects: tuple[Defect, ...]

    @property
    def id(self) -> str:
        return f"{self.host}-{self.index:06d}"

    def pristine(self) -> Atoms:
        return HOSTS[self.host].supercell(self.n)

    def atoms(self) -> Atoms:
        """Defect structure: substitutions change the symbol in place,
        vacancies delete the atom; nothing is moved or re-centred."""
        atoms = self.pristine()
        for d in self.defects:
            if d.added is not None:
                atoms[d.site].symbol = d.added
        vacancies = sorted((d.site for d in self.defects if d.added is None),
                           reverse=True)
        for site in vacancies:
            del atoms[site]
        return atoms

    def n_removed(self) -> dict[str, int]:
        """n_i of E_f = E_def - E_pristine + sum_i n_i mu_i: atoms of element i
        removed (counted negative when added)."""
        n: dict[str, int] = {}
        for d in self.defects:
            n[d.removed] = n.get(d.removed, 0) + 1
            if d.added is not None:
                n[d.added] = n.get(d.added, 0) - 1
        return {el: c for el, c in sorted(n.items()) if c != 0}

    def concentration(self) -> float:
        return len(self.defects) / (3 * self.n * self.n)

    def density(self) -> str:
        high = self.concentration() >= HIGH_DENSITY_THRESHOLD
        return "high" if high else "low"

    def canonical_key(self) -> str:
        """Smallest relabelling of the defect set over all symmetry operations
        of the pristine supercell; equal for equivalent configurations."""
        perms = symmetry_permutations(self.host, self.n)
        best = min(
            tuple(sorted((int(p[d.site]), d.label) for d in self.defects))
            for p in perms)
        body = ",".join(f"{label}@{site}" for site, label in best)
        return f"{self.host}|{self.n}x{self.n}|{body}"

    def config_hash(self) -> str:
        return hashlib.sha1(self.canonical_key().encode()).hexdigest()[:16]


def _rng(host: str, index: int) -> random.Random:
    """Random stream for one id.  ``random.Random`` seeded with an int is
    stable across Python 3 versions for ``randrange``/``choice``."""
    digest = hashlib.sha256(f"{_SEED_SALT}:{host}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def sample_config(host_name: str, index: int) -> Config:
    """Draw the configuration with id ``(host_name, index)``.

    Supercell size and number of defects are uniform over ``SUPERCELLS`` and
    ``N_DEFECTS``; each defect's kind is uniform over the host's defect kinds
    and its site uniform over the still-unused sites of the right species.
    """
    host = HOSTS[host_name]
    rng = _rng(host_name, index)
    n = rng.choice(SUPERCELLS)
    n_def = rng.choice(N_DEFECTS)
    symbols = host.supercell(n).get_chemical_symbols()
    used: set[int] = set()
    defects = []
    for _ in range(n_def):
        kind: DefectKind = rng.choice(host.defect_kinds)
        free = [i for i, s in enumerate(symbols)
                if s == kind.site_element and i not in used]
        site = rng.choice(free)
        used.add(site)
        defects.append(Defect(kind.label, site, kind.site_element, kind.added))
    defects.sort(key=lambda d: d.site)
    return Config(host_name, index, n, tuple(defects))


def single_defect_config(host_name: str, n: int, label: str,
                         site: int | None = None, index: int = -1) -> Config:
    """A hand-made configuration with one defect (used by the smoke test):
    the first site of the right species unless ``site`` is given."""
    host = HOSTS[host_name]
    kind = next(k for k in host.defect_kinds if k.label == label)
    symbols = host.supercell(n).get_chemical_symbols()
    if site is None:
        site = symbols.index(kind.site_element)
    return Config(host_name, index, n,
                  (Defect(label, site, kind.site_element, kind.added),))


@lru_cache(maxsize=None)
def symmetry_permutations(host_name: str, n: int) -> tuple[np.ndarray, ...]:
    """Site permutations of the pristine n x n supercell of ``host_name``.

    Candidates are the 24 operations {C6^k} x {1, mirror y} x {1, mirror z}
    about a metal atom, each combined with the n^2 primitive translations;
    those that map every atom onto an atom of the same species are kept
    (for 2H-MX2 that is D3h, 12 operations, times n^2 translations).
    """
    host: Host = HOSTS[host_name]
    atoms = host.supercell(n)
    pos = atoms.get_positions()
    cell = atoms.cell.array
    inv = np.linalg.inv(cell[:2, :2])
    symbols = np.array(atoms.get_chemical_symbols())
    origin = pos[0].copy()  # a metal atom (mx2 puts M first)
    prim = cell[:2, :2] / n

    def frac_xy(p: np.ndarray) -> np.ndarray:
        return np.mod(p[:, :2] @ inv + 1e-6, 1.0) - 1e-6

    ref_frac = frac_xy(pos)
    perms = []
    for k in range(6):
        t = np.pi * k / 3
        rot = np.array([[np.cos(t), -np.sin(t), 0],
                        [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        for my in (1, -1):
            for mz in (1, -1):
                op = rot @ np.diag([1, my, mz])
                base = (pos - origin) @ op.T + origin
                for i in range(n):
                    for j in range(n):
                        moved = base.copy()
                        moved[:, :2] += i * prim[0] + j * prim[1]
                        perm = _match(frac_xy(moved), moved[:, 2], ref_frac,
                                      pos[:, 2], symbols, n)
                        if perm is not None:
                            perms.append(perm)
    unique = {p.tobytes(): p for p in perms}
    return tuple(unique.values())


def _match(frac, z, ref_frac, ref_z, symbols, n, tol=1e-3):
    """Permutation p with moved atom a landing on reference atom p[a] of the
    same species, or None if the operation is not a symmetry."""
    d = frac[:, None, :] - ref_frac[None, :, :]
    d -= np.round(d)
    dist = np.abs(d).sum(axis=2) * n + np.abs(z[:, None] - ref_z[None, :])
    perm = dist.argmin(axis=1)
    ok = dist[np.arange(len(perm)), perm] < tol * n + tol
    if not ok.all() or len(set(perm.tolist())) != len(perm):
        return None
    if (symbols[perm] != symbols).any():
        return None
    return perm
