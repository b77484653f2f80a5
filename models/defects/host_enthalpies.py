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

Not computed here, and why: hBN, GaSe and InSe need the elemental boron,
gallium and indium references (their labels use mu_B, mu_Ga and mu_In at one
rich limit, references.py), and black phosphorus is one element (no range).
"""

from __future__ import annotations

import datetime as _dt
import json
import os

from defects.generate import COMMON_SETTINGS, single_point, settings_with
from defects.hosts import HOSTS
from defects.store import read_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCES = os.path.join(HERE, "data", "references.jsonl")
OUT = os.path.join(HERE, "data", "host-enthalpies.json")
KPTS = {"size": (12, 12, 1), "gamma": True}
#: host -> (metal, chalcogen)
TMDS = {"MoS2": ("Mo", "S"), "WSe2": ("W", "Se")}


def elemental_mu(records: list[dict], element: str) -> dict:
    for r in records:
        if r.get("kind") == "chemical_potential" and r.get("element") == element and "mu" not in r:
            return r
    raise SystemExit(f"no elemental reference for {element} in {REFERENCES}")


def main() -> None:
    records = list(read_jsonl(REFERENCES))
    out = {
        "about": "defects/host_enthalpies.py: TMD host formation enthalpies per formula unit (GPAW, the labels' settings, "
                 "12x12x1 k primitive cell) and the elemental references they are taken against (data/references.jsonl)",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings_with({"kpts": KPTS}),
        "hosts": {},
    }
    for host, (metal, chalcogen) in TMDS.items():
        atoms = HOSTS[host].supercell(1)
        assert sorted(atoms.get_chemical_symbols()) == sorted([metal, chalcogen, chalcogen]), atoms
        r = single_point(atoms, settings_with({"kpts": KPTS}), os.path.join("/tmp", f"host-{host}.txt"))
        mu_m, mu_x = elemental_mu(records, metal), elemental_mu(records, chalcogen)
        dh = r["energy"] - mu_m["energy_per_atom"] - 2 * mu_x["energy_per_atom"]
        out["hosts"][host] = {
            "formula": {metal: 1, chalcogen: 2},
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
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, default=list)
        fh.write("\n")


if __name__ == "__main__":
    assert COMMON_SETTINGS["xc"] == "PBE"
    main()
