"""GFN0-xTB labels for a pretraining set, kept apart from the DFT labels.

Why: a GPAW single point costs 2-5 min per structure on one core here, so the
DFT set grows by ~100 structures a session.  GFN0-xTB (Pracht, Caldeweyher,
Ehlert & Grimme, ChemRxiv 2019, doi:10.26434/chemrxiv.8326202) labels the same
configurations in under a second each, so a pretraining set of thousands is
cheap.  The sparse MEGNet can be pretrained on it and fine-tuned on DFT
(``train.py --pretrain``); whether that helps is measured on the DFT test split.

Why GFN0 and not GFN1/GFN2: in xtb 6.5 (Debian's ``xtb``) only GFN0-xTB and
GFN-FF run with periodic boundary conditions; periodic GFN1/GFN2 on these
slabs stop with "mctc_lapack_potrf: Factorisation of matrix failed".  GFN-FF
has no orbitals, hence no gap.  GFN0 is non-self-consistent: fast, and cruder
than GFN1/2, so its labels are a pretraining signal, never test numbers.

What is computed, the same way as ``generate.py`` but with xtb:
* the defect supercell of every sampled configuration (``sample.py``, the same
  ids and structures as the DFT set), periodic in 3D with the hosts' vacuum,
  Gamma point (xtb's periodic GFN0 has no k-points);
* the pristine supercell of each host and size;
* chemical potentials from the same reference phases as ``references.py``,
  with periodic cells repeated until every periodic axis is >= 12 Å (Gamma-only
  sampling of a metal needs a supercell) and molecules (S8, N2) computed as
  molecules; B, Ga and In derived from their host compound as there.

E_f = E_defect - E_pristine + sum_i n_i mu_i, per defect site; gap = xtb's
HOMO-LUMO gap at 300 K electronic temperature (xtb's default).

Records go to ``data/xtb.jsonl`` (one JSON line each, the DFT record's fields
plus ``method``), references to ``data/xtb-references.jsonl``.  Resumable:
ids already in the file are skipped.

Usage (from ``models/``)::

    cd models
    nice /usr/bin/python3 -m defects.xtb_label --max-id 600
    nice /usr/bin/python3 -m defects.xtb_label --compare   # vs DFT
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from defects.hosts import HOSTS, _size
from defects.records import base_record
from defects.references import ELEMENT_REFS, formation_energy
from defects.sample import Config, sample_config
from defects.store import append_jsonl, load_dataset, read_jsonl, repair_tail

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "data", "xtb.jsonl")
DEFAULT_REFS = os.path.join(HERE, "data", "xtb-references.jsonl")
DFT = os.path.join(HERE, "data", "dft.jsonl")

#: Hartree in eV, CODATA 2018 (NIST, physics.nist.gov/cuu/Constants).
HARTREE_EV = 27.211386245988

#: Shortest periodic axis of an elemental reference cell (Å); see module doc.
MIN_PERIODIC_LENGTH = 12.0

SETTINGS = {"code": "xtb", "method": "GFN0-xTB", "kpts": "Gamma",
            "electronic_temperature_K": 300.0, "accuracy": 1.0,
            "periodic": "3D cell of the host (vacuum along z)"}


def xtb_binary() -> str:
    path = shutil.which("xtb")
    if not path:
        sys.exit("xtb not found: apt-get install -y xtb")
    return path


def _param_dir() -> str:
    # Debian's xtb looks for param_gfn0-xtb.txt in $XTBPATH, not in its
    # share directory, and fails with "Parameter file ... not found" otherwise.
    return os.environ.get("XTBPATH", "/usr/share/xtb")


def version() -> str:
    out = subprocess.run([xtb_binary(), "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"xtb version ([\w.\-]+)", out)
    return m.group(1) if m else "unknown"


def single_point(atoms, workdir: str | None = None) -> dict:
    """GFN0-xTB single point of a cell, periodic along all three axes (xtb
    6.5's GFN0 crashes on molecular input, so molecules come boxed)."""
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="xtb-")
    try:
        atoms.write(os.path.join(workdir, "POSCAR"), format="vasp")
        env = {**os.environ, "XTBPATH": _param_dir(),
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
               "OMP_STACKSIZE": os.environ.get("OMP_STACKSIZE", "1G")}
        t0 = time.time()
        proc = subprocess.run([xtb_binary(), "POSCAR", "--gfn", "0", "--sp"],
                              cwd=workdir, capture_output=True, text=True,
                              env=env)
        wall = time.time() - t0
        return parse_output(proc.stdout + proc.stderr, proc.returncode, wall)
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_output(text: str, returncode: int, wall: float) -> dict:
    energy = re.search(r"TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh", text)
    gap = re.search(r"HOMO-LUMO GAP\s+(-?\d+\.\d+)\s+eV", text)
    homo = re.search(r"(-?\d+\.\d+)\s+\(HOMO\)", text)
    lumo = re.search(r"(-?\d+\.\d+)\s+\(LUMO\)", text)
    if returncode != 0 or not energy or not gap:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise RuntimeError(f"xtb failed (exit {returncode}): {tail}")
    return {"energy": float(energy.group(1)) * HARTREE_EV,
            "gap": float(gap.group(1)),
            "homo": float(homo.group(1)) if homo else None,
            "lumo": float(lumo.group(1)) if lumo else None,
            "wall_time_s": round(wall, 3)}


def repeated_to_min_length(atoms, min_length: float = MIN_PERIODIC_LENGTH):
    """Repeat each periodic axis until it is at least ``min_length`` long."""
    reps = [max(1, int(np.ceil(min_length / np.linalg.norm(v)))) if p else 1
            for v, p in zip(atoms.cell, atoms.pbc)]
    return atoms.repeat(reps)


class XtbReferences:
    """Pristine-supercell energies and mu's with GFN0-xTB, cached in a file."""

    def __init__(self, path: str):
        self.path = path
        self.records = {r["key"]: r for r in read_jsonl(path) if "key" in r}

    def _store(self, rec: dict) -> dict:
        repair_tail(self.path)
        append_jsonl(self.path, rec)
        self.records[rec["key"]] = rec
        return rec

    def mu(self, element: str) -> float:
        key = f"mu:{element}"
        if key in self.records:
            return self.records[key]["mu"]
        ref = ELEMENT_REFS[element]
        mus = {dep: self.mu(dep) for dep, _ in ref.subtract}
        base = ref.atoms()
        if np.any(base.pbc):
            atoms = repeated_to_min_length(base)
        else:
            # xtb 6.5's GFN0 crashes on molecular input (generate_wsc.f90
            # allocates ~1e19 bytes), so molecules go in a periodic box with
            # 10 Å of vacuum on every side.
            atoms = base.copy()
            atoms.center(vacuum=10.0)
            atoms.pbc = True
        res = single_point(atoms)
        n_el = atoms.get_chemical_symbols().count(element)
        # B, Ga, In: mu from their host compound minus the partner's mu, with
        # the subtracted counts scaled by the repetition.
        scale = len(atoms) // len(base)
        mu = (res["energy"] - sum(n * scale * mus[el]
                                  for el, n in ref.subtract)) / n_el
        return self._store({"key": key, "kind": "chemical_potential",
                            "element": element, "system": ref.description,
                            "natoms": len(atoms), "mu": mu, "mu_from": mus,
                            **res, "settings": SETTINGS})["mu"]

    def pristine(self, host: str, size) -> dict:
        na, nb = _size(size)
        key = f"pristine:{host}:{na}x{nb}"
        if key not in self.records:
            atoms = HOSTS[host].supercell((na, nb))
            self._store({"key": key, "kind": "pristine", "host": host,
                         "supercell": [na, nb, 1], "natoms": len(atoms),
                         **single_point(atoms), "settings": SETTINGS})
        return self.records[key]


def label(cfg: Config, refs: XtbReferences, xtb_version: str) -> dict:
    atoms = cfg.atoms()
    rec = base_record(cfg, atoms)
    rec["method"] = "GFN0-xTB"
    try:
        res = single_point(atoms)
    except RuntimeError as exc:
        rec.update({"error": str(exc), "settings": SETTINGS,
                    "xtb_version": xtb_version})
        return rec
    f = formation_energy(cfg, res["energy"], refs)
    pristine, n_removed, mu, e_f = f["pristine"], f["n_removed"], f["mu"], f["e_f"]
    rec.update({
        **res,
        "formation_energy": e_f,
        "formation_energy_per_site": e_f / len(cfg.defects),
        "n_removed": n_removed,
        "references": {"pristine_energy": pristine["energy"],
                       "pristine_gap": pristine["gap"], "mu": mu},
        "settings": SETTINGS,
        "xtb_version": xtb_version,
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(
            timespec="seconds"),
    })
    return rec


def run(out: str, refs_path: str, hosts: list[str], start: int,
        max_id: int) -> int:
    repair_tail(out)
    existing = list(read_jsonl(out))
    done = {r.get("id") for r in existing}
    seen = {r.get("config_hash") for r in existing}
    refs = XtbReferences(refs_path)
    ver = version()
    n, t0 = 0, time.time()
    for index in range(start, max_id):
        for host in hosts:
            cfg = sample_config(host, index)
            if cfg.id in done or cfg.config_hash() in seen:
                continue
            rec = label(cfg, refs, ver)
            append_jsonl(out, rec)
            seen.add(cfg.config_hash())
            n += 1
            if "error" in rec:
                print(f"{cfg.id}: FAILED {rec['error'][:200]}", flush=True)
        if index % 50 == 49:
            print(f"index {index + 1}/{max_id}: {n} labelled, "
                  f"{time.time() - t0:.0f} s", flush=True)
    print(f"{n} labelled in {time.time() - t0:.0f} s -> {out}")
    return 0


def compare(out: str) -> int:
    """Agreement of the xtb labels with the DFT labels on shared ids."""
    dft = load_dataset(DFT)
    xtb = {r["id"]: r for r in read_jsonl(out) if "error" not in r}
    shared = sorted(set(dft) & set(xtb))
    if not shared:
        print("no shared ids; run the labeller over the DFT indices first")
        return 1
    print(f"{len(shared)} structures labelled by both")
    for host in sorted({dft[i]["host"] for i in shared}):
        ids = [i for i in shared if dft[i]["host"] == host]
        for target in ("formation_energy_per_site", "gap"):
            a = np.array([dft[i][target] for i in ids])
            b = np.array([xtb[i][target] for i in ids])
            r = np.corrcoef(a, b)[0, 1] if len(ids) > 2 else float("nan")
            print(f"  {host:5s} {target:26s} n={len(ids):3d} "
                  f"Pearson r={r:+.2f}  DFT mean {a.mean():6.2f}  "
                  f"xtb mean {b.mean():6.2f}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--refs", default=DEFAULT_REFS)
    p.add_argument("--hosts", default=",".join(HOSTS),
                   help="comma-separated hosts (default: all)")
    p.add_argument("--start-id", type=int, default=0)
    p.add_argument("--max-id", type=int, default=300,
                   help="label sample indices [start-id, max-id) per host")
    p.add_argument("--compare", action="store_true",
                   help="print the agreement with the DFT labels and exit")
    args = p.parse_args(argv)
    if args.compare:
        return compare(args.out)
    hosts = [h for h in args.hosts.split(",") if h]
    return run(args.out, args.refs, hosts, args.start_id, args.max_id)


if __name__ == "__main__":
    sys.exit(main())
