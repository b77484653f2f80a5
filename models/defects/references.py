"""Elemental reference systems for the chemical potentials mu_i.

Formation energies use E_f = E_defect - E_pristine + sum_i n_i mu_i with mu_i
the total energy per atom of element i in its elemental reference phase,
computed with GPAW at the same settings as the defect cells (LCAO, dzp, PBE,
same grid spacing and convergence).  Only the Brillouin-zone sampling (and, for
metals, the smearing width) differs, because bulk references need converged
k-point sums while the defect supercells are Gamma-only by design.

This matches the 2DMD convention (elemental ground states, Materials Project
ids in shared/data/2dmd/pristine_high_density/elements.csv: Mo mp-129, W mp-91,
S mp-96, Se mp-570481), but with our own engine so that errors of the basis and
setups cancel between the terms.

Geometries are experimental and not relaxed with GPAW (consistent with the
unrelaxed hosts):

* Mo: bcc, a = 3.147 Å (room-temperature experiment, e.g. Kittel, Introduction
  to Solid State Physics, table of lattice constants).
* W: bcc, a = 3.165 Å (same source).
* S: the S8 crown ring (D4d) as an isolated molecule, S-S = 2.05 Å and
  S-S-S = 108.0 deg (the ring as found in alpha-sulfur and in the gas phase).
  alpha-S (mp-96) is a molecular crystal of these rings held together by van
  der Waals forces that plain PBE barely binds, so the PBE energy per atom of
  the isolated ring is within a few tens of meV of that of the crystal, at a
  fraction of the cost of the 32-atom primitive cell of alpha-S.
* Se: trigonal (grey) Se, the stable allotrope of helical chains, space group
  P3_121 (152), a = 4.366 Å, c = 4.954 Å, Se at (x, 0, 1/3) with x = 0.2254
  (Cherin & Unger, Acta Cryst. 23, 670 (1967)); gives Se-Se = 2.373 Å.

References for hBN, GaSe, InSe and black phosphorus (2DMD: B mp-160, N mp-154,
C mp-569304, Ga mp-142, In mp-1184502, P mp-1014013):

* N: the isolated N2 molecule, d = 1.098 Å (experimental r_e = 1.0977 Å,
  Huber & Herzberg, Constants of Diatomic Molecules, 1979).  Stands in for
  solid alpha-N2 (mp-154), a molecular crystal that PBE barely binds, as S8
  stands in for alpha-S.
* C: graphene per atom, a = 2.46 Å (as the app's 'graphene' built-in), the
  layer of graphite.  PBE binds graphite layers by only a few meV/atom, so
  this stands in for the graphite-like 2DMD reference.
* P: the pristine black-phosphorus monolayer of ``hosts.py`` (the 'BP'
  host's primitive cell) per atom.  PBE barely binds the layers of bulk black
  P, so the monolayer is within a few tens of meV/atom of the bulk; using the
  host's own geometry (k-converged primitive cell) also keeps a layer-vs-bulk
  geometry offset out of the P-vacancy formation energy.
* B: **not elemental.**  alpha-B12 (mp-160, 12-atom rhombohedral cell with
  two inequivalent sites) is expensive and its geometry would be the only
  one here not shared with a host.  mu_B is the **N-rich limit**:
  mu_B = E(hBN per BN) - mu_N with mu_N = E(N2)/2, i.e. hBN in equilibrium
  with N2 gas.  B-site defect energies (V_B, C_B) are then those of N-rich
  growth; with elemental alpha-B they would be higher by |dH_f(hBN)| per B
  removed (PBE ~2.5-3 eV).  N-site defects use the elemental mu_N, which is
  the same N-rich point.
* Ga: **not elemental** (alpha-Ga, mp-142, is an 8-atom metal needing dense
  k-points).  mu_Ga = E(GaSe per formula unit) - mu_Se (trigonal Se): the
  **Se-rich limit** of GaSe.
* In: likewise mu_In = E(InSe per formula unit) - mu_Se, the Se-rich limit
  of InSe.  The Ga and In references therefore use the monolayer hosts of
  ``hosts.py`` (primitive cells with k-points).  In GaSe, In_Ga uses
  mu_Ga (Se-rich GaSe) and mu_In (Se-rich InSe): the substitution energy is
  then E(In in GaSe) - E(GaSe) + E(InSe f.u.) - E(GaSe f.u.), independent of
  mu_Se.  V_Se uses the elemental mu_Se (Se-rich), consistently.

So the hBN, GaSe and InSe formation energies are at one rich-limit point of
the host's stability range, not at the elemental references that 2DMD used
for every element; compare with 2DMD only with that shift in mind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.spacegroup import crystal

from defects.hosts import HOSTS, HoneycombHost


def formation_energy(cfg, e_defect: float, refs) -> dict:
    """E_f = E_defect - E_pristine + sum_i n_i mu_i of a configuration
    (``sample.Config``), with n_i the atoms of element i removed from the
    pristine cell (negative when added).  ``refs``: anything with
    ``pristine(host, size) -> {"energy": ...}`` and ``mu(element)`` (the GPAW
    references of generate.py, or the xtb ones).  Returns E_f with the terms
    it used."""
    pristine = refs.pristine(cfg.host, cfg.size)
    n_removed = cfg.n_removed()
    mu = {el: refs.mu(el) for el in n_removed}
    e_f = e_defect - pristine["energy"] + sum(n * mu[el] for el, n in n_removed.items())
    return {"e_f": e_f, "pristine": pristine, "n_removed": n_removed, "mu": mu}


@dataclass(frozen=True)
class ElementRef:
    """An elemental reference: structure plus the calculator overrides it
    needs (k-points, smearing) on top of the common settings."""

    element: str
    description: str
    atoms_factory: object  # () -> Atoms
    overrides: dict = field(default_factory=dict)
    #: For a compound reference (mu from a compound and other mu's):
    #: ((element, atoms of it in the cell), ...) to subtract, e.g. (("N", 1),)
    #: for hBN -> B.  Empty for an elemental phase.
    subtract: tuple = ()
    #: Geometry parameters that enter the reference key (for references built
    #: from a host of hosts.py, its ``params()``).
    geometry: dict = field(default_factory=dict)

    def atoms(self) -> Atoms:
        return self.atoms_factory()

    @property
    def derived(self) -> bool:
        return bool(self.subtract)

    def mu_from(self, energy: float, natoms_of: int,
                mus: dict[str, float]) -> float:
        """mu of ``element`` = (E(cell) - sum_j n_j mu_j) / n_element."""
        return (energy - sum(n * mus[el] for el, n in self.subtract)) \
            / natoms_of


def s8_ring(bond: float = 2.05, angle_deg: float = 108.0,
            vacuum: float = 6.0) -> Atoms:
    """S8 crown: atoms at 45 deg steps on a circle of radius R, alternately at
    z = +h and -h.  Second neighbours (same z, 90 deg apart) sit at R*sqrt(2),
    which fixes R from the bond angle; the bond length then fixes h."""
    cos_t = np.cos(np.radians(angle_deg))
    radius = bond * np.sqrt(1.0 - cos_t)  # from 2R^2 = 2 d^2 (1 - cos t)
    h = 0.5 * np.sqrt(bond**2 - 2 * radius**2 * (1 - np.cos(np.pi / 4)))
    pos = [(radius * np.cos(k * np.pi / 4), radius * np.sin(k * np.pi / 4),
            h if k % 2 == 0 else -h) for k in range(8)]
    atoms = Atoms("S8", positions=pos, pbc=False)
    atoms.center(vacuum=vacuum)
    return atoms


def n2_molecule(bond: float = 1.098, vacuum: float = 6.0) -> Atoms:
    atoms = Atoms("N2", positions=[(0, 0, 0), (0, 0, bond)], pbc=False)
    atoms.center(vacuum=vacuum)
    return atoms


def graphene(a: float = 2.46) -> Atoms:
    """2-atom graphene cell as the app's ``honeycomb(2.46, 'C', 'C')``,
    8 Å vacuum on each side like the hosts."""
    g = HoneycombHost(name="graphene", a=a, site_a="C", site_b="C",
                      source="", defect_kinds=(), supercells=((1, 1),))
    return g.supercell(1)


def _host_cell(name: str):
    def make() -> Atoms:
        return HOSTS[name].supercell(1)
    return make


def _host_params(name: str) -> dict:
    return HOSTS[name].params()


def trigonal_se() -> Atoms:
    return crystal("Se", [(0.2254, 0.0, 1.0 / 3.0)], spacegroup=152,
                   cellpar=[4.366, 4.366, 4.954, 90, 90, 120])


#: Metals need a dense k-grid and a larger smearing to converge the Fermi
#: surface sum; GPAW extrapolates the energy to zero width.  Cost note: GPAW's
#: LCAO density construction dominates for these 1-atom cells, ~200 s for W
#: with 14^3 k (104 irreducible points) on one core; a one-off cost.
_METAL = {"kpts": {"size": (14, 14, 14), "gamma": True},
          "occupations": {"name": "fermi-dirac", "width": 0.1}}

ELEMENT_REFS: dict[str, ElementRef] = {
    "Mo": ElementRef("Mo", "bcc Mo bulk, a=3.147 A (experiment), 14^3 k",
                     lambda: bulk("Mo", "bcc", a=3.147), _METAL),
    "W": ElementRef("W", "bcc W bulk, a=3.165 A (experiment), 14^3 k",
                    lambda: bulk("W", "bcc", a=3.165), _METAL),
    "S": ElementRef("S", "isolated S8 crown ring, d=2.05 A, angle 108 deg, "
                         "6 A vacuum, non-periodic",
                    s8_ring, {}),  # isolated molecule: Gamma only
    # Trigonal Se is a semiconductor: a 6x6x5 k-grid suffices for meV/atom.
    "Se": ElementRef("Se", "trigonal Se (P3_121), a=4.366 c=4.954 x=0.2254 "
                           "(Cherin & Unger 1967), 6x6x5 k",
                     trigonal_se, {"kpts": {"size": (6, 6, 5), "gamma": True}}),
    "N": ElementRef("N", "isolated N2 molecule, d=1.098 A (experiment), 6 A "
                         "vacuum, non-periodic",
                    n2_molecule, {}),  # isolated molecule: Gamma only
    # Graphene is a semimetal: dense 2D grid (K = (1/3, 1/3) is on an 18x18
    # Gamma-centred grid) and the metals' smearing.
    "C": ElementRef("C", "graphene, a=2.46 A (app built-in), 8 A vacuum per "
                         "side, 18x18x1 k",
                    graphene, {"kpts": {"size": (18, 18, 1), "gamma": True},
                               "occupations": {"name": "fermi-dirac",
                                               "width": 0.1}}),
    "P": ElementRef("P", "black phosphorus monolayer = BP host primitive cell "
                         "(Brown & Rundqvist 1965 geometry), 12x9x1 k",
                    _host_cell("BP"),
                    {"kpts": {"size": (12, 9, 1), "gamma": True}},
                    geometry=_host_params("BP")),
    "B": ElementRef("B", "N-rich limit: mu_B = E(hBN primitive cell, 1 BN) - "
                         "mu_N(N2); hBN host geometry (a=2.504), 12x12x1 k",
                    _host_cell("hBN"),
                    {"kpts": {"size": (12, 12, 1), "gamma": True}},
                    subtract=(("N", 1),), geometry=_host_params("hBN")),
    "Ga": ElementRef("Ga", "Se-rich limit: mu_Ga = E(GaSe primitive cell, "
                           "2 GaSe)/2 - mu_Se(trigonal Se); GaSe host "
                           "geometry, 12x12x1 k",
                     _host_cell("GaSe"),
                     {"kpts": {"size": (12, 12, 1), "gamma": True}},
                     subtract=(("Se", 2),), geometry=_host_params("GaSe")),
    "In": ElementRef("In", "Se-rich limit: mu_In = E(InSe primitive cell, "
                           "2 InSe)/2 - mu_Se(trigonal Se); InSe host "
                           "geometry, 12x12x1 k",
                     _host_cell("InSe"),
                     {"kpts": {"size": (12, 12, 1), "gamma": True}},
                     subtract=(("Se", 2),), geometry=_host_params("InSe")),
}


def _references_of_kind(kind: str, path: str | None = None):
    """The records of ``data/references.jsonl`` (or ``path``) whose ``kind``
    is ``kind`` ("chemical_potential", "pristine"), in file order."""
    import json
    import os
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "references.jsonl")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                if r.get("kind") == kind:
                    yield r


def reference_potentials(path: str | None = None) -> dict:
    """The chemical potentials the formation-energy labels use, per element
    (eV per atom), from ``data/references.jsonl``: the elemental phase's
    energy per atom, or for B, Ga and In the rich-limit value derived from a
    host (``mu``, see above). Written into the defect model's manifest
    (``referencePotentials``) so the app can shift formation energies to
    other chemical potentials (E_f is linear in mu)."""
    mu: dict[str, float] = {}
    systems: dict[str, str] = {}
    for r in _references_of_kind("chemical_potential", path):
        mu[r["element"]] = float(r.get("mu", r["energy_per_atom"]))
        systems[r["element"]] = r["system"]
    return {
        "convention": "E_f = E_defect - E_pristine + sum_i n_i mu_i (n_i atoms of i removed); mu_i of the elemental "
                      "phase (2DMD's convention), except B (N-rich hBN), Ga and In (Se-rich GaSe, InSe): "
                      "models/defects/references.py",
        "mu": dict(sorted(mu.items())),
        "systems": dict(sorted(systems.items())),
    }


def host_band_edges(path: str | None = None) -> dict:
    """The pristine supercells' Γ-point band edges, per host and supercell
    (``"4x4"``): ``vbm`` (the pristine HOMO, eV, GPAW's absolute scale) and
    ``gap`` (LUMO − HOMO, eV), from ``data/references.jsonl``.  The defect
    levels the model predicts are relative to ``vbm`` of the same supercell
    (train.py ``level``), so the app draws the host's band edges at 0 and
    ``gap``.  Γ-only: zone folding makes the gap depend on the supercell
    (MoS2 3x3 folds K onto Γ), which is why it is per supercell."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in _references_of_kind("pristine", path):
        size = "x".join(str(n) for n in r["supercell"][:2])
        out.setdefault(r["host"], {})[size] = {"vbm": float(r["homo"]), "gap": float(r["gap"])}
    return {h: dict(sorted(v.items())) for h, v in sorted(out.items())}
