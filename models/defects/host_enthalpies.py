"""Formation enthalpies of the TMD hosts, for the editor's chemical-potential
sliders (issue 28):

    cd models && OMP_NUM_THREADS=1 nice -n 19 /usr/bin/python3 -m defects.host_enthalpies

For MoS2 and WSe2: the k-converged energy of the host's primitive cell
(``hosts.py``, 12x12x1 k, the labels' GPAW settings otherwise, as the GaSe
and InSe references of ``references.py``) and, from the elemental references
in ``data/references.jsonl`` (bcc Mo and W, the S8 ring, trigonal Se), the
formation enthalpy per formula unit

    dH = E(MX2) - mu_M^0 - 2 mu_X^0,

which bounds the chalcogen's chemical potential in equilibrium with the
host: mu_X - mu_X^0 in [dH/2, 0] (X-poor/M-rich to X-rich), and
mu_M = E(MX2) - 2 mu_X. Writes ``data/host-enthalpies.json`` (read by
``src/core/defects/chemical-potentials.ts``).

For hBN, GaSe and InSe (formula units BN, GaSe, InSe): the host energies
are the k-converged primitive cells already in ``data/references.jsonl``
(from which the labels' rich-limit mu_B, mu_Ga, mu_In were derived), and the
elemental references are computed here (``ELEMENTAL``): alpha-B, alpha-Ga
and tetragonal In, with the metals' k-points and smearing of references.py.
Then dH = E(MX) - mu_M^0 - mu_X^0 and mu_X - mu_X^0 in [dH, 0]. Black
phosphorus is one element: no range.

Results already in the output file are kept (a rerun computes only what is
missing); delete the file to recompute everything.
"""

from __future__ import annotations

import datetime as _dt
import json
import os

from ase.build import bulk
from ase.spacegroup import crystal

from defects.generate import COMMON_SETTINGS, single_point, settings_with
from defects.hosts import HOSTS
from defects.references import _METAL
from defects.store import read_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCES = os.path.join(HERE, "data", "references.jsonl")
OUT = os.path.join(HERE, "data", "host-enthalpies.json")
KPTS = {"size": (12, 12, 1), "gamma": True}
#: host -> (metal, chalcogen)
TMDS = {"MoS2": ("Mo", "S"), "WSe2": ("W", "Se")}
#: 1:1 hosts -> (cation, anion, the references.jsonl record holding the host's primitive cell, formula units in it)
ONE_TO_ONE = {"hBN": ("B", "N", "B", 1), "GaSe": ("Ga", "Se", "Ga", 2), "InSe": ("In", "Se", "In", 2)}


def alpha_boron():
    """alpha-B12 (R-3m), hexagonal a = 4.908, c = 12.567 A, B1 18h (0.11886, 0.88114, 0.89133),
    B2 18h (0.19686, 0.80314, 0.02432): B. F. Decker & J. S. Kasper, Acta Cryst. 12, 503 (1959) / G. Will &
    B. Kiefer, Z. Anorg. Allg. Chem. 627, 2100 (2001). 12-atom rhombohedral cell; nearest B-B 1.67-1.80 A."""
    return crystal(["B", "B"], [(0.11886, 0.88114, 0.89133), (0.19686, 0.80314, 0.02432)], spacegroup=166,
                   cellpar=[4.908, 4.908, 12.567, 90, 90, 120], primitive_cell=True)


def alpha_gallium():
    """alpha-Ga (Cmce), a = 4.5192, b = 7.6586, c = 4.5258 A, Ga 8f (0, 0.1549, 0.0810):
    A. J. Bradley, Z. Kristallogr. 91, 302 (1935); B. D. Sharma & J. Donohue, Z. Kristallogr. 117, 293
    (1962). 4-atom primitive cell; the Ga2 dimer 2.48 A."""
    return crystal("Ga", [(0, 0.1549, 0.0810)], spacegroup=64, cellpar=[4.5192, 7.6586, 4.5258, 90, 90, 90],
                   primitive_cell=True)


#: Elemental references the ranges of the 1:1 hosts need: (description, atoms, calculator overrides).
ELEMENTAL = {
    "B": ("alpha-B12 (R-3m), a=4.908 c=12.567 (hex.), Decker & Kasper 1959; 4x4x4 k (a semiconductor, 5 A cell)", alpha_boron,
          {"kpts": {"size": (4, 4, 4), "gamma": True}}),
    "Ga": ("alpha-Ga (Cmce), a=4.5192 b=7.6586 c=4.5258, Ga 8f (0, 0.1549, 0.0810), Sharma & Donohue 1962; "
           "8^3 k (about the k-spacing of the W and Mo references), metal smearing", alpha_gallium, {**_METAL, "kpts": {"size": (8, 8, 8), "gamma": True}}),
    "In": ("tetragonal In (I4/mmm), a=3.2523 c=4.9461 (room temperature, Smith & Schneider, J. Less-Common Met. 7, "
           "17 (1964)); 14^3 k, metal smearing", lambda: bulk("In", "bct", a=3.2523, c=4.9461), _METAL),
}


def elemental_mu(records: list[dict], element: str) -> dict:
    for r in records:
        if r.get("kind") == "chemical_potential" and r.get("element") == element and "mu" not in r:
            return r
    raise SystemExit(f"no elemental reference for {element} in {REFERENCES}")


def main() -> None:
    records = list(read_jsonl(REFERENCES))
    if os.path.exists(OUT):
        with open(OUT, encoding="utf-8") as fh:
            out = json.load(fh)
    else:
        out = {
            "about": "defects/host_enthalpies.py: host formation enthalpies per formula unit (GPAW, the labels' settings, "
                     "k-converged primitive cells) and the elemental references they are taken against",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "settings": settings_with({"kpts": KPTS}),
            "hosts": {},
        }
    out.setdefault("elemental_extra", {})

    def save() -> None:
        with open(OUT, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=list)
            fh.write("\n")

    for host, (metal, chalcogen) in TMDS.items():
        if host in out["hosts"]:
            continue
        atoms = HOSTS[host].supercell(1)
        assert sorted(atoms.get_chemical_symbols()) == sorted([metal, chalcogen, chalcogen]), atoms
        r = single_point(atoms, settings_with({"kpts": KPTS}), os.path.join("/tmp", f"host-{host}.txt"))
        mu_m, mu_x = elemental_mu(records, metal), elemental_mu(records, chalcogen)
        dh = r["energy"] - mu_m["energy_per_atom"] - 2 * mu_x["energy_per_atom"]
        out["hosts"][host] = {
            "formula": {metal: 1, chalcogen: 2},
            "variable": chalcogen,
            "energy_per_formula_unit": r["energy"],
            "formation_enthalpy": dh,
            "elemental": {
                metal: {"mu": mu_m["energy_per_atom"], "system": mu_m["system"], "key": mu_m["key"]},
                chalcogen: {"mu": mu_x["energy_per_atom"], "system": mu_x["system"], "key": mu_x["key"]},
            },
            "host_source": HOSTS[host].source,
            "wall_time_s": r["wall_time_s"],
        }
        print(f"{host}: E = {r['energy']:.4f} eV per f.u., dH = {dh:.3f} eV per f.u. ({r['wall_time_s']:.0f} s)", flush=True)
        save()

    for host, (cation, anion, record_of, units) in ONE_TO_ONE.items():
        if host in out["hosts"]:
            continue
        if cation not in out["elemental_extra"]:
            what, make, overrides = ELEMENTAL[cation]
            atoms = make()
            r = single_point(atoms, settings_with(overrides), os.path.join("/tmp", f"element-{cation}.txt"))
            out["elemental_extra"][cation] = {"mu": r["energy"] / len(atoms), "system": what, "natoms": len(atoms),
                                              "settings": settings_with(overrides), "wall_time_s": r["wall_time_s"]}
            print(f"{cation}: {r['energy'] / len(atoms):.4f} eV per atom ({r['wall_time_s']:.0f} s)", flush=True)
            save()
        host_rec = next(r for r in records if r.get("kind") == "chemical_potential" and r.get("element") == record_of and "mu" in r)
        e_fu = host_rec["energy"] / units
        mu_c = out["elemental_extra"][cation]
        mu_a = elemental_mu(records, anion)
        dh = e_fu - mu_c["mu"] - mu_a["energy_per_atom"]
        out["hosts"][host] = {
            "formula": {cation: 1, anion: 1},
            "variable": anion,
            "energy_per_formula_unit": e_fu,
            "formation_enthalpy": dh,
            "elemental": {
                cation: {"mu": mu_c["mu"], "system": mu_c["system"]},
                anion: {"mu": mu_a["energy_per_atom"], "system": mu_a["system"], "key": mu_a["key"]},
            },
            "host_energy_from": host_rec["key"],
        }
        print(f"{host}: dH = {dh:.3f} eV per f.u.", flush=True)
        save()


if __name__ == "__main__":
    assert COMMON_SETTINGS["xc"] == "PBE"
    main()
