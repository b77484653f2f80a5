"""Host monolayers for the first-principles defect dataset.

Each host is an ideal (unrelaxed) monolayer at literature geometry (sources
below), not relaxed with GPAW, so every number in the dataset is a single point
at a documented, reproducible geometry:

* ``MoS2``, ``WSe2``: 2H transition-metal dichalcogenides built with
  ``ase.build.mx2`` from the in-plane lattice parameter ``a`` and the vertical
  chalcogen-chalcogen distance ``thickness`` (unchanged since the first
  dataset lines: same atoms, same order, same reference keys);
* ``hBN``, ``GaSe``, ``InSe``, ``BP``: built here from the *same* geometry
  builders and numbers as the app's built-in library
  (``src/core/library/prototypes.ts`` ``honeycomb``,
  ``monochalcogenideLayer``, ``puckeredLayer``; numbers from
  ``src/core/library/builtins.ts``), so the app and the dataset describe the
  same structures.  Only the vacuum differs (the app uses its own default;
  here it is ``VACUUM_PER_SIDE`` on each side, as for the TMDs).

Supercells are ``(na, nb)`` repetitions of the primitive cell.  hBN, GaSe and
InSe are hexagonal (n x n); black phosphorus has a rectangular 4-atom cell and
non-square supercells (e.g. 4 x 3).

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

import numpy as np
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


def _size(size) -> tuple[int, int]:
    """``n`` (an n x n supercell) or ``(na, nb)`` -> ``(na, nb)``."""
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    na, nb = (int(x) for x in tuple(size)[:2])
    return na, nb


@dataclass(frozen=True)
class Host:
    """A monolayer host and the defect kinds drawn on it (base class).

    Subclasses define ``_unit_cell()`` (the primitive cell, any z origin),
    ``params()`` and ``host_elements``; ``supercell`` repeats and centres it.
    """

    name: str
    a: float  # first in-plane lattice parameter (Å)
    source: str  # where the geometry comes from
    defect_kinds: tuple[DefectKind, ...]
    #: supercell sizes (na, nb) drawn for the dataset, uniformly
    supercells: tuple[tuple[int, int], ...]

    #: "2H", "honeycomb", "monochalcogenide", "puckered"
    kind = "?"
    #: True when the primitive cell is hexagonal (a = b, gamma = 120 deg)
    hexagonal = True

    def _unit_cell(self) -> Atoms:
        raise NotImplementedError

    @property
    def host_elements(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def atoms_per_cell(self) -> int:
        return len(self._unit_cell())

    def supercell(self, size) -> Atoms:
        """Pristine supercell, ``size`` = n (n x n) or (na, nb)."""
        na, nb = _size(size)
        atoms = self._unit_cell().repeat((na, nb, 1))
        atoms.center(vacuum=VACUUM_PER_SIDE, axis=2)
        atoms.pbc = (True, True, False)
        return atoms

    def params(self) -> dict:
        raise NotImplementedError

    @property
    def elements(self) -> set[str]:
        """Every element that appears in the host or any of its defects."""
        out = set(self.host_elements)
        out.update(k.added for k in self.defect_kinds if k.added)
        return out


@dataclass(frozen=True)
class TMDHost(Host):
    """A 2H-MX2 monolayer (``ase.build.mx2``)."""

    metal: str
    chalcogen: str
    thickness: float  # vertical X-X distance inside the layer (Å)

    kind = "2H"

    @property
    def host_elements(self) -> tuple[str, ...]:
        return (self.metal, self.chalcogen)

    @property
    def atoms_per_cell(self) -> int:
        return 3

    def supercell(self, size) -> Atoms:
        """Pristine supercell (atom order: M, X_top, X_bottom per cell)."""
        na, nb = _size(size)
        atoms = mx2(
            formula=f"{self.metal}{self.chalcogen}2",
            kind="2H",
            a=self.a,
            thickness=self.thickness,
            size=(na, nb, 1),
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


def _hex_cell(a: float, height: float = 1.0) -> np.ndarray:
    """Hexagonal cell as the app's ``Lattice.fromParameters(a, a, c, 90, 90,
    120)``: a along x, b = (-a/2, a sqrt(3)/2, 0)."""
    return np.array([[a, 0.0, 0.0],
                     [-0.5 * a, 0.5 * np.sqrt(3.0) * a, 0.0],
                     [0.0, 0.0, height]])


def _layer(cell: np.ndarray, sites) -> Atoms:
    """Atoms from (symbol, frac_a, frac_b, z in Å) sites, grouped by species
    in first-appearance order as the app's ``slab`` does."""
    order = list(dict.fromkeys(s[0] for s in sites))
    sites = [s for el in order for s in sites if s[0] == el]
    frac = np.array([[s[1], s[2], 0.0] for s in sites])
    pos = frac @ cell
    pos[:, 2] = [s[3] for s in sites]
    return Atoms([s[0] for s in sites], positions=pos, cell=cell,
                 pbc=(True, True, False))


@dataclass(frozen=True)
class HoneycombHost(Host):
    """Planar honeycomb (app: ``honeycomb(a, A, B)``): A at (1/3, 2/3), B at
    (2/3, 1/3) of a hexagonal cell, both at z = 0; A-B bond a/sqrt(3)."""

    site_a: str
    site_b: str

    kind = "honeycomb"

    @property
    def host_elements(self) -> tuple[str, ...]:
        return (self.site_a, self.site_b)

    def _unit_cell(self) -> Atoms:
        return _layer(_hex_cell(self.a), [(self.site_a, 1 / 3, 2 / 3, 0.0),
                                          (self.site_b, 2 / 3, 1 / 3, 0.0)])

    def params(self) -> dict:
        return {"a": self.a, "vacuum_per_side": VACUUM_PER_SIDE,
                "kind": self.kind, "sites": [self.site_a, self.site_b]}


@dataclass(frozen=True)
class MonochalcogenideHost(Host):
    """X-M-M-X quadruple layer of the III-VI monochalcogenides (app:
    ``monochalcogenideLayer(a, dMM, dMX, M, X)``, D3h as in beta/eps-GaSe): a
    vertical M-M dimer at (1/3, 2/3), z = -+dMM/2, and X at (2/3, 1/3),
    z = -+(dMM/2 + h) with h = sqrt(dMX^2 - a^2/3), each X bonded to three M."""

    metal: str
    chalcogen: str
    d_mm: float  # M-M bond (vertical), Å
    d_mx: float  # M-X bond, Å

    kind = "monochalcogenide"

    @property
    def host_elements(self) -> tuple[str, ...]:
        return (self.metal, self.chalcogen)

    @property
    def h(self) -> float:
        h2 = self.d_mx ** 2 - self.a ** 2 / 3.0
        if not h2 > 0:
            raise ValueError(f"{self.name}: M-X bond shorter than a/sqrt(3)")
        return float(np.sqrt(h2))

    def _unit_cell(self) -> Atoms:
        m, x, half, h = self.metal, self.chalcogen, self.d_mm / 2, self.h
        return _layer(_hex_cell(self.a), [(m, 1 / 3, 2 / 3, -half),
                                          (m, 1 / 3, 2 / 3, half),
                                          (x, 2 / 3, 1 / 3, -half - h),
                                          (x, 2 / 3, 1 / 3, half + h)])

    def params(self) -> dict:
        return {"a": self.a, "d_mm": self.d_mm, "d_mx": self.d_mx,
                "vacuum_per_side": VACUUM_PER_SIDE, "kind": self.kind}


@dataclass(frozen=True)
class PuckeredHost(Host):
    """One puckered layer of black phosphorus (app: ``puckeredLayer(a, b, c,
    y, z, el)``), cut from bulk A17 (Cmce, Brown & Rundqvist setting, layers
    stacked along bulk b).  Rectangular cell: x along bulk a (zigzag, ``a``),
    y along bulk c (armchair, ``b``), height along bulk b.  Atoms
    (0, z, dz), (0, -z, -dz), (1/2, 1/2 - z, dz), (1/2, 1/2 + z, -dz) with
    dz = y * b_bulk (half the pucker height)."""

    b: float  # second in-plane parameter (bulk c, armchair), Å
    b_bulk: float  # bulk b (stacking axis), Å
    y8f: float  # 8f site (0, y, z) of the bulk
    z8f: float
    element: str

    kind = "puckered"
    hexagonal = False

    @property
    def host_elements(self) -> tuple[str, ...]:
        return (self.element,)

    def _unit_cell(self) -> Atoms:
        cell = np.diag([self.a, self.b, 1.0])
        dz, z, el = self.y8f * self.b_bulk, self.z8f, self.element
        return _layer(cell, [(el, 0.0, z, dz), (el, 0.0, -z, -dz),
                             (el, 0.5, 0.5 - z, dz), (el, 0.5, 0.5 + z, -dz)])

    def params(self) -> dict:
        return {"a": self.a, "b": self.b, "b_bulk": self.b_bulk,
                "y": self.y8f, "z": self.z8f,
                "vacuum_per_side": VACUUM_PER_SIDE, "kind": self.kind}


def _tmd_defects(metal: str, chalcogen: str, other_metal: str,
                 other_chalcogen: str) -> tuple[DefectKind, ...]:
    """The four defect kinds of the 2DMD study for a TMD host: both vacancies
    and the isovalent substitutions (the other metal on the metal site, the
    other chalcogen on the chalcogen site).  The same pattern serves the
    III-VI monochalcogenides (In <-> Ga, S on Se)."""
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
    "MoS2": TMDHost(
        name="MoS2", metal="Mo", chalcogen="S", a=3.19, thickness=3.13,
        source="2DMD MoS2.cif (Materials Project PBE): a=3.1903, d(S-S)=3.130",
        defect_kinds=_tmd_defects("Mo", "S", "W", "Se"),
        supercells=((4, 4), (5, 5)),
    ),
    # a = 3.32 Å is the usual PBE monolayer value (e.g. C2DB / Materials
    # Project PBE; experiment for bulk 2H-WSe2 is 3.28-3.30 Å).  The Se-Se
    # distance inside the layer, 3.34 Å, is the crystallographic value quoted
    # for 2H-WSe2 (with W-Se 2.526 Å); with a = 3.32 Å it gives W-Se = 2.54 Å.
    "WSe2": TMDHost(
        name="WSe2", metal="W", chalcogen="Se", a=3.32, thickness=3.34,
        source="PBE a=3.32 (C2DB/Materials Project); d(Se-Se)=3.34 (2H-WSe2 "
               "crystal structure)",
        defect_kinds=_tmd_defects("W", "Se", "Mo", "S"),
        supercells=((4, 4), (5, 5)),
    ),
    # hBN: a = 2.504 Å, R. S. Pease, Acta Cryst. 5, 356 (1952) (bulk h-BN,
    # a = 2.504, c = 6.661 Å; the monolayer keeps the in-plane constant of the
    # bulk layer), B-N = 1.446 Å.  As the app's 'hbn-monolayer' built-in.
    # Defects as asked for in the issue and as in 2DMD's hBN set: both
    # vacancies and carbon on either site (the common hBN impurity).
    # 5x5 = 50 atoms, 6x6 = 72 atoms.
    "hBN": HoneycombHost(
        name="hBN", a=2.504, site_a="B", site_b="N",
        source="Pease, Acta Cryst. 5, 356 (1952): bulk h-BN a=2.504 "
               "(app built-in 'hbn-monolayer')",
        defect_kinds=(DefectKind("V_B", "B", None),
                      DefectKind("V_N", "N", None),
                      DefectKind("C_B", "B", "C"),
                      DefectKind("C_N", "N", "C")),
        supercells=((5, 5), (6, 6)),
    ),
    # GaSe: a = 3.755 Å, Ga-Ga 2.39 Å, Ga-Se 2.46 Å, A. Kuhn, A. Chevy &
    # R. Chevalier, phys. stat. sol. (a) 31, 469 (1975) (bulk GaSe), as the
    # app's 'gase-monolayer' built-in (Se-Se thickness 4.72 Å).  Defects:
    # both vacancies and the isovalent substitutions (In on Ga, S on Se),
    # the 2DMD pattern.  4x4 = 64 atoms.
    "GaSe": MonochalcogenideHost(
        name="GaSe", a=3.755, metal="Ga", chalcogen="Se", d_mm=2.39,
        d_mx=2.46,
        source="Kuhn, Chevy & Chevalier, phys. stat. sol. (a) 31, 469 (1975): "
               "a=3.755, Ga-Ga 2.39, Ga-Se 2.46 (app built-in 'gase-monolayer')",
        defect_kinds=_tmd_defects("Ga", "Se", "In", "S"),
        supercells=((4, 4),),
    ),
    # InSe: a = 4.00 Å, In-In 2.79 Å, In-Se 2.65 Å, J. Rigoult, A. Rimsky &
    # A. Kuhn, Acta Cryst. B36, 916 (1980) (gamma-InSe), as the app's
    # 'inse-monolayer' built-in (Se-Se thickness 5.39 Å).  Defects: both
    # vacancies, Ga on In, S on Se.  4x4 = 64 atoms.
    "InSe": MonochalcogenideHost(
        name="InSe", a=4.0, metal="In", chalcogen="Se", d_mm=2.79, d_mx=2.65,
        source="Rigoult, Rimsky & Kuhn, Acta Cryst. B36, 916 (1980): a=4.00, "
               "In-In 2.79, In-Se 2.65 (app built-in 'inse-monolayer')",
        defect_kinds=_tmd_defects("In", "Se", "Ga", "S"),
        supercells=((4, 4),),
    ),
    # Black phosphorus monolayer (phosphorene): bulk Cmce a = 3.3136,
    # b = 10.478, c = 4.3763 Å, P on 8f (0, y, z) with y = 0.10168,
    # z = 0.08056, A. Brown & S. Rundqvist, Acta Cryst. 19, 684 (1965), as
    # the app's 'phosphorene' built-in (P-P 2.22 / 2.24 Å, pucker 2.13 Å).
    # Defects, all substituents inside the model vocabulary (As, the usual
    # isovalent partner, is not in it):
    # * V_P, the phosphorus vacancy (the dominant native defect);
    # * N_P, the isovalent group-15 substitution (the 2DMD pattern of
    #   isovalent substitutions; N is in the vocabulary, As is not);
    # * S_P, a group-16 donor (S doping of black P is made experimentally to
    #   get n-type, air-stabler layers);
    # * C_P, a group-14 acceptor (the complementary p-type substituent,
    #   common in DFT doping surveys of phosphorene).
    # 4x3 = 48 atoms (13.3 x 13.1 Å), 5x4 = 80 atoms (16.6 x 17.5 Å): close
    # to square because the zigzag and armchair periods differ by 4:3.
    "BP": PuckeredHost(
        name="BP", a=3.3136, b=4.3763, b_bulk=10.478, y8f=0.10168,
        z8f=0.08056, element="P",
        source="Brown & Rundqvist, Acta Cryst. 19, 684 (1965): black P Cmce "
               "a=3.3136 b=10.478 c=4.3763, 8f y=0.10168 z=0.08056 (app "
               "built-in 'phosphorene')",
        defect_kinds=(DefectKind("V_P", "P", None),
                      DefectKind("N_P", "P", "N"),
                      DefectKind("S_P", "P", "S"),
                      DefectKind("C_P", "P", "C")),
        supercells=((4, 3), (5, 4)),
    ),
}
