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
  the label's (``first_minus_label``, checked in the report).
* **The pristine supercell is relaxed too, first.**  The hosts are built at
  literature geometries, not at the minimum of these GPAW settings, so a
  defect cell's ΔE_relax also holds the whole host's own relaxation (about
  −1.8 eV in GaSe 4x4 with no atom moving more than 0.24 Å: session 30
  caught this in its own first two results).  The pristine cell of the
  same host and size is relaxed the same way (line id
  ``pristine:<host>:<size>``), and the report uses the defect's own
  relaxation, ΔE_def − ΔE_pristine: the relaxed formation energy is exactly
  the label plus that (E_f = E_def − E_pristine + Σ n_i μ_i, both energies
  relaxed), per site divided by the number of defects.
* **Order: single defects first, then pairs, then triples**, round-robin over
  (host, defect kinds) strata and cheapest first within one, so a run stopped
  at any point still covers every host and kind as evenly as it can.

Usage (from ``models/``; resumable, ids already in the output are skipped)::

    cd models
    nohup nice -n 19 /usr/bin/python3 -m defects.relax --max-hours 2 &
    nohup nice -n 19 /usr/bin/python3 -m defects.relax --pristine BP:4x3,GaSe:4x4 &   # named pristine cells first
    /usr/bin/python3 -m defects.relax --report          # per defect kind
    /usr/bin/python3 -m defects.relax --report --write-results
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
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


def pristine_id(host: str, size_label: str) -> str:
    """The ``relax.jsonl`` id of a host's pristine supercell relaxation."""
    return f"pristine:{host}:{size_label}"


def pristine_label(host: str, size_label: str) -> dict | None:
    """The pristine supercell's single point in ``references.jsonl`` (what
    the formation-energy labels subtract, and the host's unrelaxed Γ-point
    levels), or None."""
    from defects.references import _references_of_kind
    for r in _references_of_kind("pristine"):
        if r["host"] == host and f"{r['supercell'][0]}x{r['supercell'][1]}" == size_label:
            return r
    return None


def _gpaw_factory(settings: dict):
    def make(txt):
        from gpaw import GPAW
        return GPAW(txt=txt, **{k: v for k, v in settings.items() if k != "code"})
    return make


def _relax_run(run_id: str, atoms, label_energy: float | None, settings: dict, log_dir: str,
               fmax: float, max_steps: int, calc_factory, partial_dir: str | None) -> dict:
    """Relax ``atoms`` under the id ``run_id`` (logs, trajectory and the
    checkpoint are named for it): the fields every ``relax.jsonl`` line has,
    or an ``error``."""
    from defects.records import structure_dict

    if calc_factory is None:
        calc_factory = _gpaw_factory(settings)
    os.makedirs(log_dir, exist_ok=True)
    name = run_id.replace(":", "-")
    txt = os.path.join(log_dir, f"relax-{name}.txt")
    out = {"settings": settings,
           "optimizer": {"name": "BFGS (ase.optimize)", "fmax": fmax,
                         "max_steps": max_steps, "cell": "fixed"}}
    partial = os.path.join(partial_dir, f"{name}.json") if partial_dir else None
    resume = _read_partial(partial) if partial else None
    if resume and (resume.get("id") != run_id or len(resume["positions"]) != len(atoms)
                   or resume.get("fmax") != fmax):
        resume = None
    earlier = float(resume["wall_time_s"]) if resume else 0.0
    t0 = time.perf_counter()

    def checkpoint(state):
        _write_partial(partial, {**state, "id": run_id, "fmax": fmax,
                                 "wall_time_s": round(earlier + time.perf_counter() - t0, 2)})
    try:
        res = relax_atoms(atoms, calc_factory(txt), fmax, max_steps,
                          logfile=os.path.join(log_dir, f"relax-{name}.log"),
                          trajectory=os.path.join(log_dir, f"relax-{name}.traj"),
                          resume=resume, checkpoint=checkpoint if partial else None)
    except Exception as exc:  # noqa: BLE001 - any calculator failure is recorded
        out.update({"error": f"{type(exc).__name__}: {exc}",
                    "wall_time_s": round(earlier + time.perf_counter() - t0, 2)})
        return out
    if resume:
        out["resumed_at_step"] = int(resume["steps"])
    out.update({
        "converged": res["converged"],
        "steps": res["steps"],
        "max_force": res["max_force"],
        "unrelaxed_energy": res["energy_first"],
        "first_minus_label": (res["energy_first"] - label_energy) if label_energy is not None else None,
        "relaxed_energy": res["energy_last"],
        "relaxation_energy": res["energy_last"] - res["energy_first"],
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


def relax_record(rec: dict, log_dir: str, fmax: float = FMAX,
                 max_steps: int = MAX_STEPS, calc_factory=None,
                 partial_dir: str | None = None) -> dict:
    """Relax one dataset record and return its ``relax.jsonl`` line (a
    success or an ``error``).  ``calc_factory(txt)`` makes the calculator;
    the default is GPAW at the label's own settings.  ``partial_dir``: where
    the state of a relaxation in progress is kept after every step
    (``<id>.json``; deleted when it ends), and resumed from if present."""
    from defects.sample import sample_config

    cfg = sample_config(rec["host"], int(rec["index"]))
    if cfg.id != rec["id"] or cfg.config_hash() != rec["config_hash"]:
        raise ValueError(f"{rec['id']}: the sampler no longer reproduces it")
    out = {"id": rec["id"], "host": rec["host"], "supercell": cfg.size_label,
           "n_defects": rec["n_defects"], "defects": [d["label"] for d in rec["defects"]]}
    out.update(_relax_run(rec["id"], cfg.atoms(), rec["energy"], dict(rec["settings"]), log_dir,
                          fmax, max_steps, calc_factory, partial_dir))
    if "error" not in out:
        out["formation_energy_per_site"] = rec["formation_energy_per_site"]
        out["unrelaxed_levels"] = {k: rec[k] for k in ("homo", "lumo", "gap")}
    return out


def relax_pristine(host: str, size_label: str, settings: dict, log_dir: str, fmax: float = FMAX,
                   max_steps: int = MAX_STEPS, calc_factory=None,
                   partial_dir: str | None = None, label_energy: float | None = None,
                   label_levels: dict | None = None) -> dict:
    """Relax a host's pristine supercell (the reference the defect cells of
    that size are measured against) and return its ``relax.jsonl`` line.
    ``label_energy``: its single point in references.jsonl, which the first
    step must reproduce; ``label_levels``: that single point's HOMO, LUMO
    and gap, kept as the line's ``unrelaxed_levels`` so that the host's own
    gap change can be netted out of its defects' (see ``summarise``)."""
    from defects.hosts import HOSTS
    n, m = (int(x) for x in size_label.split("x"))
    out = {"id": pristine_id(host, size_label), "kind": "pristine", "host": host,
           "supercell": size_label, "n_defects": 0, "defects": []}
    out.update(_relax_run(out["id"], HOSTS[host].supercell((n, m)), label_energy, dict(settings),
                          log_dir, fmax, max_steps, calc_factory, partial_dir))
    if "error" not in out and label_levels is not None:
        out["unrelaxed_levels"] = dict(label_levels)
    return out


def gap_change(row: dict) -> float | None:
    """Relaxed − unrelaxed Γ-point gap of one line, None where either is unknown."""
    before, after = row.get("unrelaxed_levels") or {}, row.get("relaxed_levels") or {}
    if before.get("gap") is None or after.get("gap") is None:
        return None
    return after["gap"] - before["gap"]


def defect_gap_change(row: dict, pristine: dict) -> float | None:
    """The defect's own gap change: its cell's minus that of its host's
    pristine cell of the same size from ``pristine`` (id -> line), whose
    gap moves when it relaxes too (GaSe 4x4: +0.16 eV); None where either
    is unknown."""
    p = pristine.get(pristine_id(row["host"], row["supercell"])) if row.get("supercell") else None
    g, gp = gap_change(row), (gap_change(p) if p else None)
    return None if g is None or gp is None else g - gp


def defect_relaxation(row: dict, pristine: dict) -> float | None:
    """ΔE_def − ΔE_pristine (eV, whole cell) of a converged record, with the
    converged relaxation of its host's pristine cell of the same size from
    ``pristine`` (id -> line); None while that is missing."""
    p = pristine.get(pristine_id(row["host"], row["supercell"])) if row.get("supercell") else None
    if p is None or "error" in p or not p.get("converged"):
        return None
    return row["relaxation_energy"] - p["relaxation_energy"]


def summarise(rows: list[dict]) -> list[dict]:
    """Per stratum (host, defect kinds) of the converged relaxations whose
    pristine cell is relaxed too: count, mean / min / max of the defect's
    own relaxation energy (ΔE_def − ΔE_pristine) per defect site, mean of
    the largest displacement, mean gap change.  Sorted by number of defects,
    then host."""
    pristine = {r["id"]: r for r in rows if r.get("kind") == "pristine"}
    groups: dict[tuple, list[tuple[dict, float]]] = defaultdict(list)
    for r in rows:
        if r.get("kind") == "pristine" or "error" in r or not r.get("converged"):
            continue
        de = defect_relaxation(r, pristine)
        if de is not None:
            groups[(r["n_defects"], r["host"], tuple(sorted(r["defects"])))].append((r, de))
    out = []
    for (n, host, kinds), rs in sorted(groups.items()):
        per_site = [de / r["n_defects"] for r, de in rs]
        dgap = [g for g in (gap_change(r) for r, _ in rs) if g is not None]
        own = [g for g in (defect_gap_change(r, pristine) for r, _ in rs) if g is not None]
        out.append({"n_defects": n, "host": host, "defects": " ".join(kinds),
                    "count": len(rs), "mean": float(np.mean(per_site)),
                    "min": float(np.min(per_site)), "max": float(np.max(per_site)),
                    "max_displacement": float(np.mean([r["max_displacement"] for r, _ in rs])),
                    "gap_change": float(np.mean(dgap)) if dgap else None,
                    "own_gap_change": float(np.mean(own)) if own else None})
    return out


def report_lines(rows: list[dict]) -> list[str]:
    pristine_rows = [r for r in rows if r.get("kind") == "pristine"]
    pristine = {r["id"]: r for r in pristine_rows}
    rows = [r for r in rows if r.get("kind") != "pristine"]
    conv = [r for r in rows if "error" not in r and r.get("converged")]
    stopped = [r for r in rows if "error" not in r and not r.get("converged")]
    failed = [r for r in rows if "error" in r]
    waiting = [r for r in conv if defect_relaxation(r, pristine) is None]
    mismatch = [r for r in conv + pristine_rows
                if r.get("first_minus_label") is not None and abs(r["first_minus_label"]) > LABEL_MATCH]
    lines = [f"{len(rows)} relaxations: {len(conv)} converged (fmax {FMAX} eV/Å), "
             f"{len(stopped)} stopped at the step cap, {len(failed)} failed; "
             f"{len(waiting)} converged but waiting for their pristine cell's relaxation; "
             f"{len(mismatch)} whose first step differs from the label by more than "
             f"{LABEL_MATCH} eV" + (f" ({', '.join(r['id'] for r in mismatch)})" if mismatch else ""),
             ""]
    if pristine_rows:
        lines += ["Pristine cells (the hosts' own relaxation at these settings, subtracted below):", "",
                  "| host | supercell | ΔE_pristine (eV) | steps | largest displacement (Å) | Δgap_pristine (eV) |",
                  "|---|---|---|---|---|---|"]
        for p in sorted(pristine_rows, key=lambda r: r["id"]):
            if "error" in p or not p.get("converged"):
                why = p.get("error", f"not converged in {p.get('steps')} steps").split("!")[0]
                lines.append(f"| {p['host']} | {p['supercell']} | {why} | | | |")
            else:
                lines.append(f"| {p['host']} | {p['supercell']} | {p['relaxation_energy']:.3f} | "
                             f"{p['steps']} | {p['max_displacement']:.2f} | {_signed(gap_change(p))} |")
        lines.append("")
    lines += ["| defects | host | n | ΔE_def − ΔE_pristine per site, mean (min … max) (eV) | largest displacement, mean (Å) | Δgap, mean (eV) | Δgap − Δgap_pristine, mean (eV) |",
              "|---|---|---|---|---|---|---|"]
    for s in summarise(rows + pristine_rows):
        lines.append(f"| {s['defects']} | {s['host']} | {s['count']} | "
                     f"{s['mean']:.3f} ({s['min']:.3f} … {s['max']:.3f}) | "
                     f"{s['max_displacement']:.2f} | {_signed(s['gap_change'])} | "
                     f"{_signed(s['own_gap_change'])} |")
    for r in waiting:
        lines.append(f"* {r['id']} ({' '.join(r['defects'])}): ΔE_relax {r['relaxation_energy']:.3f} eV "
                     f"(whole cell, host relaxation included); waiting for "
                     f"{pristine_id(r['host'], r.get('supercell', '?'))}")
    for r in stopped + failed:
        why = r.get("error", f"not converged in {r.get('steps')} steps (max force {r.get('max_force', float('nan')):.3f} eV/Å)")
        lines.append(f"* {r['id']} ({' '.join(r['defects'])}): {why.split('!')[0]}")
    return lines


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3f}"


def write_results_md(path: str, results_md: str | None = None) -> None:
    from mlcore.results_md import RESULTS_MD, update_section
    rows = list(read_jsonl(path))
    hours = sum(r.get("wall_time_s", 0.0) for r in rows) / 3600
    head = ["## Relaxation of defect structures (GPAW, positions only)", "",
            f"Written by `models/defects/relax.py --report --write-results` on "
            f"{_dt.date.today()} from `models/defects/data/relax.jsonl` "
            f"({hours:.1f} h of GPAW on one core): records of `dft.jsonl` relaxed "
            f"with BFGS to fmax {FMAX} eV/Å at the labels' own settings (cell fixed). "
            "ΔE = relaxed − unrelaxed total energy in the same run; a defect's own "
            "relaxation is its cell's ΔE minus that of the pristine cell of the same host "
            "and size (the hosts are not at these settings' minimum), per defect site; "
            "Δgap = relaxed − unrelaxed Γ-point HOMO-LUMO gap, and the defect's own part "
            "subtracts the pristine cell's Δgap (against its single point in `references.jsonl`). "
            "Not used for training yet.", ""]
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
    p.add_argument("--pristine", default=None, metavar="HOST:SIZE,...",
                   help="first relax these pristine cells (e.g. BP:4x3,GaSe:4x4), then go on as usual")
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
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            p.error(f"--ids: no record {', '.join(unknown)} in {args.data}")
        todo = [by_id[i] for i in wanted if i not in done]
    else:
        todo = relax_order(records, done)
    # Relaxations left half-way by an earlier run go first (a pristine
    # cell's before everything, as the records wait for it).
    begun = {f[:-5] for f in os.listdir(args.partial_dir) if f.endswith(".json")} \
        if os.path.isdir(args.partial_dir) else set()
    todo = [r for r in todo if r["id"] in begun] + [r for r in todo if r["id"] not in begun]
    # A begun pristine cell: its host's first record moves to the front, so
    # that the pristine relaxation it waits for is resumed first.
    for b in sorted(b for b in begun if b.startswith("pristine-")):
        _, host, size = b.split("-", 2)
        k = next((i for i, r in enumerate(todo) if r["host"] == host and _size_label(r) == size), None)
        if k is not None:
            todo.insert(0, todo.pop(k))
    if args.limit is not None:
        todo = todo[:args.limit]
    print(f"{len(done)} already relaxed, {len(todo)} to go", flush=True)
    t_end = None if args.max_hours is None else time.time() + 3600 * args.max_hours
    settings_of = {r["host"]: r["settings"] for r in records if "error" not in r}
    try:
        named = parse_pristine_arg(args.pristine, settings_of)
    except ValueError as e:
        p.error(str(e))
    for host, size in named:
        if pristine_id(host, size) not in done:
            _relax_pristine_of(args, host, size, settings_of[host])
            done.add(pristine_id(host, size))
    for rec in todo:
        if t_end is not None and time.time() > t_end:
            print("--max-hours reached", flush=True)
            break
        pid = pristine_id(rec["host"], _size_label(rec))
        if pid not in done:
            _relax_pristine_of(args, rec["host"], _size_label(rec), rec["settings"])
            done.add(pid)
        print(f"{rec['id']} {' '.join(d['label'] for d in rec['defects'])} ...", flush=True)
        out = relax_record(rec, args.log_dir, args.fmax, args.max_steps,
                           partial_dir=args.partial_dir)
        _finish(args, rec["id"], out)
    return 0


def parse_pristine_arg(text: str | None, hosts) -> list[tuple[str, str]]:
    """``--pristine BP:4x3,GaSe:4x4`` as (host, size label) pairs; a host
    without labelled records or a size that is not ``NxM`` is a ValueError
    naming it (the command line turns it into a one-line error)."""
    out = []
    for item in (text.split(",") if text else []):
        host, _, size = item.strip().partition(":")
        if host not in hosts:
            raise ValueError(f"--pristine {item!r}: no labelled records of host {host!r} "
                             f"(hosts: {', '.join(sorted(hosts))})")
        if not re.fullmatch(r"[1-9][0-9]*x[1-9][0-9]*", size):
            raise ValueError(f"--pristine {item!r}: the size must be NxM, as 4x3")
        out.append((host, size))
    return out


def _relax_pristine_of(args, host: str, size: str, settings: dict) -> None:
    pid = pristine_id(host, size)
    print(f"{pid} (the host's own relaxation, which its defect cells are measured against) ...", flush=True)
    ref = pristine_label(host, size)    # read once: its energy and its levels
    out = relax_pristine(host, size, dict(settings), args.log_dir, args.fmax, args.max_steps,
                         partial_dir=args.partial_dir,
                         label_energy=None if ref is None else float(ref["energy"]),
                         label_levels=None if ref is None else {k: ref[k] for k in ("homo", "lumo", "gap")})
    _finish(args, pid, out)


def _size_label(rec: dict) -> str:
    return f"{rec['supercell'][0]}x{rec['supercell'][1]}"


def _finish(args, run_id: str, out: dict) -> None:
    """Append a finished run's line, drop its checkpoint, say how it went."""
    append_jsonl(args.out, out)
    try:
        os.remove(os.path.join(args.partial_dir, f"{run_id.replace(':', '-')}.json"))
    except FileNotFoundError:
        pass
    if "error" in out:
        print(f"  failed: {out['error']}", flush=True)
        return
    first = out["first_minus_label"]
    gap = out["relaxed_levels"]["gap"]
    print(f"  dE_relax = {out['relaxation_energy']:.3f} eV in {out['steps']} steps "
          f"({'converged' if out['converged'] else 'NOT converged'}), first − label "
          f"{'n/a' if first is None else f'{first:+.4f}'} eV, max displacement "
          f"{out['max_displacement']:.2f} Å, relaxed gap "
          f"{'n/a' if gap is None else f'{gap:.3f}'} eV, {out['wall_time_s'] / 60:.1f} min", flush=True)


if __name__ == "__main__":
    sys.exit(main())
