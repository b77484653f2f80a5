"""Relax a stratified subset of the defect dataset with GPAW (issue 28).

Every label in ``dft.jsonl`` is a single point on the *unrelaxed* defect
supercell (ideal host positions, atoms removed or swapped in place).  The
study the app follows (2DMD, Huang et al., npj 2D Mater Appl 7, 6 (2023))
relaxed every structure, so this script measures what relaxation changes:
it relaxes the atomic positions of dataset records at the labels' own GPAW
settings (``generate.COMMON_SETTINGS``: LCAO dzp, PBE, Γ point, spin
restricted) with ASE's BFGS, and writes one line per record to
``relax.jsonl`` (never into the dataset): the relaxation energy, the relaxed
formation energy and levels, and the relaxed structure.

Choices, and why:

* **Positions only, cell fixed.**  The hosts are at literature lattice
  constants (hosts.py), and a few-percent defect concentration does not move
  the lattice of a real sheet; relaxing the cell would also change the
  pristine reference.
* **fmax 0.05 eV/Å** (ASE's usual threshold for geometry relaxations), at
  most 150 BFGS steps; a record that stops at the cap is kept with
  ``converged: false`` and never used as a relaxed label.
* **The relaxation energy is measured inside the run**: the first BFGS step
  is the unrelaxed single point, so ΔE_relax = E(last) − E(first) shares
  every setting and the SCF's own noise floor.  That first energy must match
  the label's (``first_minus_label``, checked in the report); the relaxed
  formation energy per site is then the label's plus ΔE_relax / n_defects
  (references and pristine cell unchanged).
* **Order: single defects first, then pairs, then triples**, round-robin over
  (host, defect kinds) strata and cheapest first within one, so a run stopped
  at any point still covers every host and kind as evenly as it can.

Usage (from ``models/``; resumable, ids already in the output are skipped)::

    cd models
    nohup nice -n 19 /usr/bin/python3 -m defects.relax --max-hours 2 &
    /usr/bin/python3 -m defects.relax --report          # per defect kind
    /usr/bin/python3 -m defects.relax --report --write-results
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from itertools import zip_longest

import numpy as np

from defects.store import append_jsonl, load_dataset, read_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "data", "relax.jsonl")
DEFAULT_DATA = os.path.join(HERE, "data", "dft.jsonl")
#: The state of relaxations in progress (one small JSON per record, removed
#: when its line is written): committed at the end of a session, so the next
#: one resumes instead of starting an hour-long relaxation again.
DEFAULT_PARTIAL = os.path.join(HERE, "data", "relax-partial")

#: eV/Å: BFGS stops when every atom's force is below this.
FMAX = 0.05
#: BFGS steps before a relaxation is recorded as not converged.
MAX_STEPS = 150
#: eV: |first step − label| above this means the run is not at the label's
#: settings or structure (the SCF tolerance is 2e-5 eV per electron, ~5 meV
#: on these cells), and the report says so.
LABEL_MATCH = 0.02


def stratum(rec: dict) -> tuple[str, tuple[str, ...]]:
    """(host, sorted defect labels): records that are the same kind of defect."""
    return rec["host"], tuple(sorted(d["label"] for d in rec["defects"]))


def relax_order(records: list[dict], done_ids: set[str] | None = None) -> list[dict]:
    """Records to relax, in order: by number of defects (singles first);
    within one number, round-robin over strata (each stratum cheapest first by
    the label's wall time), strata interleaved across hosts.  Failed labels and
    records in ``done_ids`` are left out."""
    done_ids = done_ids or set()
    out: list[dict] = []
    by_n: dict[int, dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if "error" in r or r["id"] in done_ids:
            continue
        by_n[r["n_defects"]][stratum(r)].append(r)
    for n in sorted(by_n):
        # Strata interleaved across hosts (each host's in sorted order), so
        # the first few records already span every host.
        per_host: dict[str, list[tuple]] = defaultdict(list)
        for key in sorted(by_n[n]):
            per_host[key[0]].append(key)
        keys = [k for row in zip_longest(*per_host.values()) for k in row if k is not None]
        queues = [sorted(by_n[n][k], key=lambda r: (r["wall_time_s"], r["id"])) for k in keys]
        for row in zip_longest(*queues):
            out += [r for r in row if r is not None]
    return out


def _levels(calc) -> dict:
    homo, lumo = (float(x) for x in calc.get_homo_lumo())
    return {"homo": homo, "lumo": lumo,
            "gap": (lumo - homo) if np.isfinite(lumo) else None,
            "fermi_level": float(calc.get_fermi_level())}


def relax_atoms(atoms, calc, fmax: float = FMAX, max_steps: int = MAX_STEPS,
                logfile: str | None = None, trajectory: str | None = None,
                resume: dict | None = None, checkpoint=None) -> dict:
    """Relax ``atoms`` (a copy; positions only) with ``calc`` and BFGS.
    Returns the first and last energy, the levels at the end, steps taken,
    whether every force is below ``fmax``, the largest atomic displacement
    from ``atoms``' positions and the relaxed atoms.  Raises what the
    calculator raises.

    ``resume``: a ``checkpoint`` state of an earlier, interrupted run of the
    same structure (positions, first energy, steps so far): BFGS goes on
    from there (with a fresh Hessian) and the step cap counts the earlier
    steps.  ``checkpoint(state)`` is called after every step with that
    state, so a long relaxation survives the end of a session."""
    from contextlib import ExitStack

    from ase.io.trajectory import Trajectory
    from ase.optimize import BFGS

    atoms = atoms.copy()
    start = atoms.get_positions()
    done_before = 0
    energies: list[float] = []
    if resume:
        atoms.set_positions(np.array(resume["positions"], dtype=float))
        energies.append(float(resume["energy_first"]))
        done_before = int(resume["steps"])
    atoms.calc = calc
    with ExitStack() as files:  # ASE 3.22's optimiser leaves its files open
        log = files.enter_context(open(logfile, "a" if resume else "w")) if logfile else None
        traj = files.enter_context(Trajectory(trajectory, "a" if resume else "w", atoms)) if trajectory else None
        opt = BFGS(atoms, logfile=log, trajectory=traj)

        # Energies straight from the calculator at each step the optimiser
        # takes (observers run once before the first step too, so without
        # ``resume`` the first is the unrelaxed single point).
        def observe():
            energies.append(float(atoms.get_potential_energy()))
            if checkpoint is not None and opt.nsteps > 0:
                checkpoint({"positions": atoms.get_positions().round(8).tolist(),
                            "energy_first": energies[0], "energy": energies[-1],
                            "steps": done_before + opt.nsteps})
        opt.attach(observe, interval=1)
        converged = bool(opt.run(fmax=fmax, steps=max(0, max_steps - done_before)))
    forces = atoms.get_forces()
    # Displacements with the minimum image in the periodic directions (an
    # atom may cross the cell boundary while relaxing).
    d = atoms.get_positions() - start
    frac = np.linalg.solve(atoms.cell.array.T, d.T).T
    for ax in range(3):
        if atoms.pbc[ax]:
            frac[:, ax] -= np.round(frac[:, ax])
    disp = np.linalg.norm(frac @ atoms.cell.array, axis=1)
    return {
        "energy_first": energies[0],
        "energy_last": energies[-1],
        "steps": done_before + opt.get_number_of_steps(),
        "converged": converged,
        "max_force": float(np.linalg.norm(forces, axis=1).max()),
        "max_displacement": float(disp.max()),
        "mean_displacement": float(disp.mean()),
        "levels": _levels(calc),
        "atoms": atoms,
    }


def _read_partial(path: str) -> dict | None:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _write_partial(path: str, state: dict) -> None:
    """Atomically (a kill mid-write leaves the previous state)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as fh:
        json.dump(state, fh)
    os.replace(path + ".tmp", path)


def relax_record(rec: dict, log_dir: str, fmax: float = FMAX,
                 max_steps: int = MAX_STEPS, calc_factory=None,
                 partial_dir: str | None = None) -> dict:
    """Relax one dataset record and return its ``relax.jsonl`` line (a
    success or an ``error``).  ``calc_factory(txt)`` makes the calculator;
    the default is GPAW at the label's own settings.  ``partial_dir``: where
    the state of a relaxation in progress is kept after every step
    (``<id>.json``; deleted when it ends), and resumed from if present."""
    from defects.records import structure_dict
    from defects.sample import sample_config

    cfg = sample_config(rec["host"], int(rec["index"]))
    if cfg.id != rec["id"] or cfg.config_hash() != rec["config_hash"]:
        raise ValueError(f"{rec['id']}: the sampler no longer reproduces it")
    atoms = cfg.atoms()
    settings = dict(rec["settings"])
    if calc_factory is None:
        def calc_factory(txt):
            from gpaw import GPAW
            return GPAW(txt=txt, **{k: v for k, v in settings.items() if k != "code"})
    os.makedirs(log_dir, exist_ok=True)
    txt = os.path.join(log_dir, f"relax-{rec['id']}.txt")
    out = {"id": rec["id"], "host": rec["host"], "n_defects": rec["n_defects"],
           "defects": [d["label"] for d in rec["defects"]],
           "settings": settings,
           "optimizer": {"name": "BFGS (ase.optimize)", "fmax": fmax,
                         "max_steps": max_steps, "cell": "fixed"}}
    partial = os.path.join(partial_dir, f"{rec['id']}.json") if partial_dir else None
    resume = _read_partial(partial) if partial else None
    if resume and (resume.get("id") != rec["id"] or len(resume["positions"]) != len(atoms)
                   or resume.get("fmax") != fmax):
        resume = None
    earlier = float(resume["wall_time_s"]) if resume else 0.0
    t0 = time.perf_counter()

    def checkpoint(state):
        _write_partial(partial, {**state, "id": rec["id"], "fmax": fmax,
                                 "wall_time_s": round(earlier + time.perf_counter() - t0, 2)})
    try:
        res = relax_atoms(atoms, calc_factory(txt), fmax, max_steps,
                          logfile=os.path.join(log_dir, f"relax-{rec['id']}.log"),
                          trajectory=os.path.join(log_dir, f"relax-{rec['id']}.traj"),
                          resume=resume, checkpoint=checkpoint if partial else None)
    except Exception as exc:  # noqa: BLE001 - any calculator failure is recorded
        out.update({"error": f"{type(exc).__name__}: {exc}",
                    "wall_time_s": round(earlier + time.perf_counter() - t0, 2)})
        return out
    if resume:
        out["resumed_at_step"] = int(resume["steps"])
    delta = res["energy_last"] - res["energy_first"]
    out.update({
        "converged": res["converged"],
        "steps": res["steps"],
        "max_force": res["max_force"],
        "unrelaxed_energy": res["energy_first"],
        "first_minus_label": res["energy_first"] - rec["energy"],
        "relaxed_energy": res["energy_last"],
        "relaxation_energy": delta,
        "formation_energy_per_site": rec["formation_energy_per_site"],
        "relaxed_formation_energy_per_site":
            rec["formation_energy_per_site"] + delta / rec["n_defects"],
        "unrelaxed_levels": {k: rec[k] for k in ("homo", "lumo", "gap")},
        "relaxed_levels": res["levels"],
        "max_displacement": res["max_displacement"],
        "mean_displacement": res["mean_displacement"],
        "structure": structure_dict(res["atoms"]),
        "wall_time_s": round(earlier + time.perf_counter() - t0, 2),
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })
    try:
        import gpaw
        out["gpaw_version"] = gpaw.__version__
    except ImportError:
        pass
    return out


def summarise(rows: list[dict]) -> list[dict]:
    """Per stratum (host, defect kinds) of the converged relaxations: count,
    mean / min / max relaxation energy per defect site, mean of the largest
    displacement, mean gap change.  Sorted by number of defects, then host."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if "error" not in r and r.get("converged"):
            groups[(r["n_defects"], r["host"], tuple(sorted(r["defects"])))].append(r)
    out = []
    for (n, host, kinds), rs in sorted(groups.items()):
        per_site = [r["relaxation_energy"] / r["n_defects"] for r in rs]
        dgap = [r["relaxed_levels"]["gap"] - r["unrelaxed_levels"]["gap"] for r in rs
                if r["relaxed_levels"]["gap"] is not None and r["unrelaxed_levels"]["gap"] is not None]
        out.append({"n_defects": n, "host": host, "defects": " ".join(kinds),
                    "count": len(rs), "mean": float(np.mean(per_site)),
                    "min": float(np.min(per_site)), "max": float(np.max(per_site)),
                    "max_displacement": float(np.mean([r["max_displacement"] for r in rs])),
                    "gap_change": float(np.mean(dgap)) if dgap else None})
    return out


def report_lines(rows: list[dict]) -> list[str]:
    conv = [r for r in rows if "error" not in r and r.get("converged")]
    stopped = [r for r in rows if "error" not in r and not r.get("converged")]
    failed = [r for r in rows if "error" in r]
    mismatch = [r for r in conv if abs(r["first_minus_label"]) > LABEL_MATCH]
    lines = [f"{len(rows)} relaxations: {len(conv)} converged (fmax {FMAX} eV/Å), "
             f"{len(stopped)} stopped at the step cap, {len(failed)} failed; "
             f"{len(mismatch)} whose first step differs from the label by more than "
             f"{LABEL_MATCH} eV" + (f" ({', '.join(r['id'] for r in mismatch)})" if mismatch else ""),
             "",
             "| defects | host | n | ΔE_relax per site, mean (min … max) (eV) | largest displacement, mean (Å) | Δgap, mean (eV) |",
             "|---|---|---|---|---|---|"]
    for s in summarise(rows):
        gap = "n/a" if s["gap_change"] is None else f"{s['gap_change']:+.3f}"
        lines.append(f"| {s['defects']} | {s['host']} | {s['count']} | "
                     f"{s['mean']:.3f} ({s['min']:.3f} … {s['max']:.3f}) | "
                     f"{s['max_displacement']:.2f} | {gap} |")
    for r in stopped + failed:
        why = r.get("error", f"not converged in {r.get('steps')} steps (max force {r.get('max_force', float('nan')):.3f} eV/Å)")
        lines.append(f"* {r['id']} ({' '.join(r['defects'])}): {why.split('!')[0]}")
    return lines


def write_results_md(path: str, results_md: str | None = None) -> None:
    from mlcore.results_md import RESULTS_MD, update_section
    rows = list(read_jsonl(path))
    hours = sum(r.get("wall_time_s", 0.0) for r in rows) / 3600
    head = ["## Relaxation of defect structures (GPAW, positions only)", "",
            f"Written by `models/defects/relax.py --report --write-results` on "
            f"{_dt.date.today()} from `models/defects/data/relax.jsonl` "
            f"({hours:.1f} h of GPAW on one core): records of `dft.jsonl` relaxed "
            f"with BFGS to fmax {FMAX} eV/Å at the labels' own settings (cell fixed). "
            "ΔE_relax = relaxed − unrelaxed total energy in the same run, per defect "
            "site; Δgap = relaxed − unrelaxed Γ-point HOMO-LUMO gap. Not used for "
            "training yet.", ""]
    update_section("defects-relax", "\n".join(head + report_lines(rows)) + "\n",
                   results_md or RESULTS_MD)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--fmax", type=float, default=FMAX)
    p.add_argument("--max-steps", type=int, default=MAX_STEPS)
    p.add_argument("--max-hours", type=float, default=None,
                   help="start no new relaxation after this many hours")
    p.add_argument("--limit", type=int, default=None, help="relax at most this many records")
    p.add_argument("--ids", default=None, help="comma-separated record ids instead of the order")
    p.add_argument("--log-dir", default=os.path.join(tempfile.gettempdir(), "lattice-relax-logs"))
    p.add_argument("--partial-dir", default=DEFAULT_PARTIAL,
                   help="state of relaxations in progress, resumed from (default data/relax-partial/)")
    p.add_argument("--report", action="store_true")
    p.add_argument("--write-results", action="store_true",
                   help="with --report: also write the table to models/RESULTS.md")
    args = p.parse_args(argv)
    if args.report:
        rows = list(read_jsonl(args.out)) if os.path.exists(args.out) else []
        if args.write_results:
            write_results_md(args.out)
        print("\n".join(report_lines(rows)))
        return 0
    done = {r["id"] for r in read_jsonl(args.out)} if os.path.exists(args.out) else set()
    records = list(load_dataset(args.data).values())
    if args.ids:
        wanted = args.ids.split(",")
        by_id = {r["id"]: r for r in records}
        todo = [by_id[i] for i in wanted if i not in done]
    else:
        todo = relax_order(records, done)
    # Relaxations left half-way by an earlier run go first.
    begun = {f[:-5] for f in os.listdir(args.partial_dir) if f.endswith(".json")} \
        if os.path.isdir(args.partial_dir) else set()
    todo = [r for r in todo if r["id"] in begun] + [r for r in todo if r["id"] not in begun]
    if args.limit is not None:
        todo = todo[:args.limit]
    print(f"{len(done)} already relaxed, {len(todo)} to go", flush=True)
    t_end = None if args.max_hours is None else time.time() + 3600 * args.max_hours
    for rec in todo:
        if t_end is not None and time.time() > t_end:
            print("--max-hours reached", flush=True)
            break
        print(f"{rec['id']} {' '.join(d['label'] for d in rec['defects'])} ...", flush=True)
        out = relax_record(rec, args.log_dir, args.fmax, args.max_steps,
                           partial_dir=args.partial_dir)
        append_jsonl(args.out, out)
        try:
            os.remove(os.path.join(args.partial_dir, f"{rec['id']}.json"))
        except FileNotFoundError:
            pass
        if "error" in out:
            print(f"  failed: {out['error']}", flush=True)
        else:
            print(f"  dE_relax = {out['relaxation_energy']:.3f} eV in {out['steps']} steps "
                  f"({'converged' if out['converged'] else 'NOT converged'}), first − label "
                  f"{out['first_minus_label']:+.4f} eV, max displacement "
                  f"{out['max_displacement']:.2f} Å, gap {out['unrelaxed_levels']['gap']:.3f} → "
                  f"{out['relaxed_levels']['gap'] if out['relaxed_levels']['gap'] is not None else float('nan'):.3f} eV, "
                  f"{out['wall_time_s'] / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
