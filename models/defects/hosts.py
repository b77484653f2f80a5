"""Host monolayers for the first-principles defect dataset.

Each host is an ideal (unrelaxed) 2H transition-metal dichalcogenide monolayer
built with ``ase.build.mx2``.  The geometry is fixed by two numbers, the
in-plane lattice parameter ``a`` and the vertical chalcogen-chalcogen distance
``thickness``; both are literature values (sources below), not relaxed with
GPAW, so every number in the dataset is a single point at a documented,
reproducible geometry.

Boundary conditions
-------------------
Supercells use ``pbc=(True, True, False)`` with ``VACUUM_PER_SIDE`` of vacuum on
each side of the layer.  GPAW then uses zero (Dirichlet) boundary conditions for
the Hartree potential along z, so

* there is no spurious interaction between periodic images of the layer, and
* a defect that breaks the mirror plane (a vacancy in the top chalcogen layer)
  creates a dipole that needs no dipole correction, which a fully periodic cell
  would need.

The density must decay to ~0 at the z boundaries, hence the generous vacuum
(2 x 8 Å = 16 Å in total, cell height ~19 Å).  Defect structures are derived
from the pristine supercell by deleting / replacing atoms without re-centring,
so pristine and defect cells share exactly the same cell and real-space grid,
which keeps egg-box errors out of formation energies.
"""

from __future__ import annotations

from dataclasses import dataclass

from ase import Atoms
from ase.build import mx2

#: Vacuum on each side of the layer along z (Å); total vacuum is twice this.
VACUUM_PER_SIDE = 8.0


@dataclass(frozen=True)
class DefectKind:
    """One kind of point defect allowed in a host.

    ``label`` follows the usual notation: ``V_S`` is a sulfur vacancy,
    ``W_Mo`` is W substituting on a Mo site.  ``added`` is ``None`` for
    vacancies.
    """

    label: str
    site_element: str
    added: str | None

    @property
    def kind(self) -> str:
        return "vacancy" if self.added is None else "substitution"


@dataclass(frozen=True)
class Host:
    """A 2H-MX2 monolayer and the defect kinds drawn on it."""

    name: str
    metal: str
    chalcogen: str
    a: float  # in-plane lattice parameter (Å)
    thickness: float  # vertical X-X distance inside the layer (Å)
    source: str  # where a and thickness come from
    defect_kinds: tuple[DefectKind, ...]

    def supercell(self, n: int) -> Atoms:
        """Pristine n x n supercell (atom order: M, X_top, X_bottom per cell)."""
        atoms = mx2(
            formula=f"{self.metal}{self.chalcogen}2",
            kind="2H",
            a=self.a,
            thickness=self.thickness,
            size=(n, n, 1),
            vacuum=VACUUM_PER_SIDE,
        )
        atoms.pbc = (True, True, False)
        return atoms

    def params(self) -> dict:
        """Geometry parameters; part of the reference key, so a change of
        geometry never silently reuses an old pristine energy."""
        return {
            "a": self.a,
            "thickness": self.thickness,
            "vacuum_per_side": VACUUM_PER_SIDE,
            "kind": "2H",
        }

    @property
    def elements(self) -> set[str]:
        """Every element that appears in the host or any of its defects."""
        out = {self.metal, self.chalcogen}
        out.update(k.added for k in self.defect_kinds if k.added)
        return out


def _tmd_defects(metal: str, chalcogen: str, other_metal: str,
                 other_chalcogen: str) -> tuple[DefectKind, ...]:
    """The four defect kinds of the 2DMD study for a TMD host: both vacancies
    and the isovalent substitutions (the other metal on the metal site, the
    other chalcogen on the chalcogen site)."""
    return (
        DefectKind(f"V_{metal}", metal, None),
        DefectKind(f"V_{chalcogen}", chalcogen, None),
        DefectKind(f"{other_metal}_{metal}", metal, other_metal),
        DefectKind(f"{other_chalcogen}_{chalcogen}", chalcogen,
                   other_chalcogen),
    )


HOSTS: dict[str, Host] = {
    # a = 3.19 Å and X-X thickness 3.13 Å are those of the MoS2 unit cell
    # shipped with the 2DMD data (shared/data/2dmd/MoS2.cif, generated with
    # pymatgen from the Materials Project PBE structure: a = 3.1903 Å,
    # S-S vertical distance 0.210348 * 14.879 Å = 3.130 Å).  Experiment for
    # bulk 2H-MoS2 gives a = 3.16 Å; PBE overestimates by ~1 %.
    "MoS2": Host(
        name="MoS2", metal="Mo", chalcogen="S", a=3.19, thickness=3.13,
        source="2DMD MoS2.cif (Materials Project PBE): a=3.1903, d(S-S)=3.130",
        defect_kinds=_tmd_defects("Mo", "S", "W", "Se"),
    ),
    # a = 3.32 Å is the usual PBE monolayer value (e.g. C2DB / Materials
    # Project PBE; experiment for bulk 2H-WSe2 is 3.28-3.30 Å).  The Se-Se
    # distance inside the layer, 3.34 Å, is the crystallographic value quoted
    # for 2H-WSe2 (with W-Se 2.526 Å); with a = 3.32 Å it gives W-Se = 2.54 Å.
    "WSe2": Host(
        name="WSe2", metal="W", chalcogen="Se", a=3.32, thickness=3.34,
        source="PBE a=3.32 (C2DB/Materials Project); d(Se-Se)=3.34 (2H-WSe2 "
               "crystal structure)",
        defect_kinds=_tmd_defects("W", "Se", "Mo", "S"),
    ),
}
