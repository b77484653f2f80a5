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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.spacegroup import crystal


@dataclass(frozen=True)
class ElementRef:
    """An elemental reference: structure plus the calculator overrides it
    needs (k-points, smearing) on top of the common settings."""

    element: str
    description: str
    atoms_factory: object  # () -> Atoms
    overrides: dict = field(default_factory=dict)

    def atoms(self) -> Atoms:
        return self.atoms_factory()


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
}
