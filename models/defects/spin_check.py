"""What the dataset's non-spin-polarised labels cost on odd-electron defects.

Every label in ``dft.jsonl`` is a spin-restricted GPAW single point (see
``COMMON_SETTINGS`` in ``generate.py``).  For MoS2 and WSe2 every defect keeps
an even electron count, but in hBN, BP, GaSe and InSe many do not (a B, N, P
vacancy or a C on B/N removes or adds one electron), and there a spin-restricted
calculation puts half an electron in each spin channel of the defect level:
the "gap" is then ~0 and the energy is above the magnetic ground state.

This script recomputes those records spin-polarised (cheapest first), with the
same settings otherwise, and writes one line per record to
``spin-check.jsonl`` (separate from the DFT dataset): energy lowering,
magnetic moment, both gaps.  ``--report`` prints the per-host summary quoted
in README.md, ``--coverage`` how much of each host is recomputed.
``train.py --spin-labels data/spin-check.jsonl`` trains on the spin-aware
labels (spin_labels.py) once a host is covered.

Usage (from ``models/``)::

    cd models
    nice -n 19 /usr/bin/python3 -m defects.spin_check --per-host 2
    # relabel every odd-electron hBN record (resumable):
    nice -n 19 /usr/bin/python3 -m defects.spin_check --hosts hBN --per-host 1000
    /usr/bin/python3 -m defects.spin_check --coverage
    /usr/bin/python3 -m defects.spin_check --report
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import sys
from collections import defaultdict

import numpy as np

from defects.spin_labels import odd_electrons
from defects.store import append_jsonl, load_dataset, read_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "data", "spin-check.jsonl")
DEFAULT_DATA = os.path.join(HERE, "data", "dft.jsonl")

#: What ``--retry-failed`` changes.  The failed hBN runs hold a moment of
#: 1 uB from the first iterations while their energy swings by 0.1-0.3 eV and
#: the density residual stalls near 10^-2.5: occupations sloshing between
#: near-degenerate defect levels at the labels' 0.01 eV smearing.
#:
#: * A gentler density mixer alone (beta 0.02, 8 old densities, weight 100,
#:   against GPAW's default for periodic spin-polarised runs of 0.05, 5, 50:
#:   gpaw/mixer.py ``get_mixer_from_keywords``) did not converge hBN-000103
#:   in 200 iterations (energy still swinging by 0.3 eV; its line is in
#:   spin-check.jsonl).
#: * So the retry also fixes the total moment at the 1 uB that 17 of the 18
#:   converged hBN checks and every failed run settle at (GPAW's
#:   ``fixmagmom``: one Fermi level per spin channel, so electrons cannot
#:   slosh between the channels).  A label from such a run is the lowest
#:   energy at M = 1 uB, and the record says so in its settings.
#:   This did not converge hBN-000103 in 200 iterations either (2026-12-07;
#:   the energy still moved by 0.01-0.05 eV an iteration), so the retry was
#:   stopped there: at about 20-40 min a record on one core, new odd-electron
#:   records (about 70 % converge at the first try) are the better use of
#:   the time.  Wider smearing would converge these but changes the label.
RETRY_OVERRIDES = {
    "mixer": {"beta": 0.02, "history": 8, "weight": 100.0},
    "occupations": {"name": "fermi-dirac", "width": 0.01, "fixmagmom": True},
}
RETRY_MAXITER = 200

#: Atoms within this distance (Å) of a defect site start with a moment; 3.2 Å
#: reaches the first neighbours of a site in every host (B-N 1.45, P-P 2.2,
#: Ga-Se 2.5, In-Se 2.7 Å) and not much further.
NEAR_DEFECT = 3.2


def odd_electron(rec: dict) -> bool:
    return "error" not in rec and odd_electrons(rec)


def pick(records: list[dict], per_host: int,
         done: list[dict] | None = None) -> list[dict]:
    """The cheapest odd-electron records of each host (smallest recorded wall
    time), so the check stays affordable, until the host has ``per_host``
    checks in ``done``.  Attempts that failed count too: the dataset grows
    between runs, and without this every rerun would start on whatever new
    record happens to be cheapest instead of finishing the hosts it began."""
    done = done or []
    tried = {r["id"] for r in done}
    have: dict[str, int] = defaultdict(int)
    for r in done:
        have[r["host"]] += 1
    by_host: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if odd_electron(r) and r["id"] not in tried:
            by_host[r["host"]].append(r)
    chosen = []
    for host in sorted(by_host):
        n = max(0, per_host - have[host])
        chosen += sorted(by_host[host], key=lambda r: r["wall_time_s"])[:n]
    return chosen


def retry_candidates(records: list[dict], done: list[dict]) -> list[dict]:
    """Records whose latest recomputation failed and that were not yet
    retried with RETRY_OVERRIDES (so a stopped retry run resumes), cheapest
    first."""
    latest = {r["id"]: r for r in done}
    failed = {i for i, r in latest.items()
              if "error" in r and any(r["settings"].get(k) != v for k, v in RETRY_OVERRIDES.items())}
    return sorted((r for r in records if r["id"] in failed), key=lambda r: r["wall_time_s"])


#: Hosts whose even-electron records get a random spin check (issue 28:
#: hBN, GaSe, InSe and BP were computed spin-polarised in 2DMD; MoS2 and WSe2
#: defects never change the electron count by an odd number).
EVEN_HOSTS = ("BP", "GaSe", "InSe", "hBN")
#: μB: the start of an even-electron check, a triplet (two odd defects, e.g.
#: V_N V_N in hBN, leave two unpaired electrons that may align). The moment
#: is free, so the SCF falls back to a singlet where that is lower.
EVEN_START_MOMENT = 2.0
#: Salt of the even sample's order (sha1 of salt + id): stable as the
#: dataset grows, unrelated to the sampler's own seeds.
EVEN_SALT = "lattice-lab-even-spin-v1"


def pick_even(records: list[dict], per_host: int, done: list[dict] | None = None,
              hosts=EVEN_HOSTS) -> list[dict]:
    """A random sample of even-electron records of each host in ``hosts``,
    until it has ``per_host`` even checks in ``done`` (failed ones count).
    Random, not cheapest first: the sample must say how common magnetic
    even-electron defects are, and cost correlates with the defect kind."""
    done = done or []
    tried = {r["id"] for r in done}
    have: dict[str, int] = defaultdict(int)
    for r in done:
        if not odd_electrons(r):
            have[r["host"]] += 1
    chosen = []
    for host in sorted(set(hosts)):
        pool = [r for r in records if r["host"] == host and "error" not in r
                and not odd_electrons(r) and r["id"] not in tried]
        pool.sort(key=lambda r: hashlib.sha1((EVEN_SALT + r["id"]).encode()).hexdigest())
        chosen += pool[:max(0, per_host - have[host])]
    return chosen


def initial_moments(cfg, atoms, total: float = 1.0) -> np.ndarray:
    """``total`` Bohr magnetons (default one), spread over the atoms next to
    the defect sites (positions of the pristine supercell; nothing is
    relaxed, so they are also the defect cell's)."""
    pristine = cfg.pristine()
    sites = pristine.get_positions()[[d.site for d in cfg.defects]]
    pos = atoms.get_positions()
    near = np.zeros(len(atoms), bool)
    for s in sites:
        d = pos - s
        # minimum image in the periodic in-plane directions
        frac = np.linalg.solve(atoms.cell.array.T, d.T).T
        frac[:, :2] -= np.round(frac[:, :2])
        near |= np.linalg.norm(frac @ atoms.cell.array, axis=1) < NEAR_DEFECT
    m = np.zeros(len(atoms))
    m[near] = total / max(1, near.sum())
    if not near.any():
        m[:] = total / len(atoms)
    return m


def start_moment(rec: dict) -> float:
    """1 μB for an odd electron count (a doublet), EVEN_START_MOMENT for an even one."""
    return 1.0 if odd_electrons(rec) else EVEN_START_MOMENT


def check(rec: dict, log_dir: str, maxiter: int | None = None,
          retry: dict | None = None) -> dict:
    from defects.generate import settings_with, single_point, SinglePointError
    from defects.sample import sample_config

    cfg = sample_config(rec["host"], int(rec["index"]))
    if cfg.id != rec["id"] or cfg.config_hash() != rec["config_hash"]:
        raise ValueError(f"{rec['id']}: the sampler no longer reproduces it")
    atoms = cfg.atoms()
    atoms.set_initial_magnetic_moments(initial_moments(cfg, atoms, start_moment(rec)))
    # Only the spin and the iteration cap differ from the label's settings;
    # the cap bounds the cost of the runs that charge-slosh (GaSe needed
    # over an hour to fail at 300 iterations).
    overrides = {"spinpol": True}
    if maxiter is not None:
        overrides["maxiter"] = maxiter
    overrides.update(retry or {})
    settings = settings_with(overrides)
    out = {"id": rec["id"], "host": rec["host"],
           "n_electrons": rec["n_electrons"],
           "n_defects": rec["n_defects"],
           "defects": [d["label"] for d in rec["defects"]],
           "restricted": {k: rec[k] for k in ("energy", "homo", "lumo", "gap",
                                               "formation_energy_per_site")},
           "settings": settings, "initial_moment": start_moment(rec)}
    try:
        res = single_point(atoms, settings,
                           os.path.join(log_dir, f"spin-{rec['id']}{'-retry' if retry else ''}.txt"))
    except SinglePointError as exc:
        out.update({"error": str(exc), "wall_time_s": round(exc.wall, 2)})
        return out
    out["polarised"] = res
    out["delta_energy"] = res["energy"] - rec["energy"]
    # E_f shifts by the same amount per structure (the references are closed
    # shell and unchanged), i.e. by delta / n_defects per site.
    out["delta_formation_energy_per_site"] = out["delta_energy"] / rec["n_defects"]
    return out


def channel_gaps(polarised: dict) -> tuple[float, float]:
    """LUMO − HOMO within the up and within the down channel."""
    up, down = (lumo - homo for homo, lumo in polarised["homo_lumo_by_spin"])
    return up, down


def report(path: str) -> int:
    checked = list(read_jsonl(path))
    rows = [r for r in checked if "polarised" in r]
    if not rows:
        print(f"{path}: no results yet")
        return 1
    # gap r: the dataset's (restricted) label; gap p: spin-polarised, lowest
    # LUMO minus highest HOMO over both channels; up/down: within one channel.
    print(f"{'id':14s} {'defects':22s} {'dE (eV)':>8s} {'|m| (uB)':>8s} "
          f"{'gap r':>7s} {'gap p':>7s} {'up':>7s} {'down':>7s}")
    for r in rows:
        p = r["polarised"]
        up, down = channel_gaps(p)
        print(f"{r['id']:14s} {' '.join(r['defects']):22s} "
              f"{r['delta_energy']:8.3f} {abs(p['magnetic_moment']):8.2f} "
              f"{r['restricted']['gap']:7.3f} {p['gap'] or float('nan'):7.3f} "
              f"{up:7.3f} {down:7.3f}")
    for r in checked:
        if "error" in r:
            print(f"{r['id']:14s} {' '.join(r['defects']):22s} failed after "
                  f"{r['wall_time_s']:.0f} s: {r['error'].split('!')[0]}")
    by_host: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_host[r["host"]].append(r)
    print("\nper host: n, mean dE/site (eV), mean restricted gap -> polarised label gap "
          "(the smaller channel gap, as spin_labels.py) (eV)")
    for host, rs in sorted(by_host.items()):
        de = np.mean([r["delta_formation_energy_per_site"] for r in rs])
        g0 = np.mean([r["restricted"]["gap"] for r in rs])
        g1 = np.mean([min(channel_gaps(r["polarised"])) for r in rs])
        print(f"  {host:5s} {len(rs):2d}  {de:7.3f}  {g0:6.3f} -> {g1:6.3f}")
    return 0


def write_results_md(path: str, results_md: str | None = None) -> None:
    """The ``defects-spin`` section of ``models/RESULTS.md``: one row per
    checked record, failures included."""
    import datetime
    from mlcore.results_md import RESULTS_MD, update_section

    lines = ["## Spin polarisation of the defect labels", "",
             f"Written by `models/defects/spin_check.py --report --write-results` "
             f"on {datetime.date.today()} from `{os.path.relpath(path, os.path.dirname(os.path.dirname(HERE)))}`: "
             "records of `dft.jsonl` recomputed with `spinpol=True`, all other "
             "GPAW settings as in the labels. ΔE = polarised − restricted total "
             "energy; gaps in eV (restricted: the label; polarised: over both "
             "channels; up/down: within one channel). Odd-electron records start "
             f"at 1 μB; even-electron ones (marked \"even\", a random sample, `--even`) at "
             f"{EVEN_START_MOMENT:g} μB. `train.py --spin-labels` replaces a record's labels "
             "where the polarised energy is lower by more than 10 meV (spin_labels.py); "
             "the exported model is not trained on them yet.", "",
             "| record | defects | ΔE (eV) | moment (μB) | gap restricted | gap polarised | up | down |",
             "|---|---|---|---|---|---|---|---|"]
    for r in read_jsonl(path):
        even = "" if odd_electrons(r) else " (even)"
        head = f"| {r['id']}{even} | {' '.join(r['defects'])} |"
        if "error" in r:
            lines.append(f"{head} not converged in {r['settings']['maxiter']} SCF "
                         f"iterations ({r['wall_time_s'] / 3600:.1f} h) | | | | | |")
            continue
        p = r["polarised"]
        up, down = channel_gaps(p)
        lines.append(f"{head} {r['delta_energy']:.3f} | {abs(p['magnetic_moment']):.2f} | "
                     f"{r['restricted']['gap']:.3f} | {p['gap']:.3f} | {up:.3f} | {down:.3f} |")
    update_section("defects-spin", "\n".join(lines) + "\n", results_md or RESULTS_MD)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--per-host", type=int, default=2,
                   help="odd-electron records per host (cheapest first)")
    p.add_argument("--hosts", default=None,
                   help="comma-separated hosts to check (default: all)")
    p.add_argument("--maxiter", type=int, default=100,
                   help="SCF iteration cap; a run that hits it is recorded "
                        "as not converged (the labels allow 300)")
    p.add_argument("--even", type=int, default=None, metavar="N",
                   help=f"instead of odd-electron records: a random sample of N even-electron "
                        f"records per host of {', '.join(EVEN_HOSTS)} (start {EVEN_START_MOMENT:g} uB; "
                        "the issue's check of the even ones), resumable")
    p.add_argument("--ids", default=None,
                   help="comma-separated record ids to check (either parity; e.g. the "
                        "largest errors of errors.py), instead of a sample")
    p.add_argument("--retry-failed", action="store_true",
                   help="recompute the records whose check did not converge, with "
                        f"{RETRY_OVERRIDES} and up to {RETRY_MAXITER} iterations "
                        "(a later line for the same id wins)")
    p.add_argument("--log-dir", default=os.path.join(
        tempfile.gettempdir(), "lattice-defects-logs"))
    p.add_argument("--report", action="store_true")
    p.add_argument("--coverage", action="store_true",
                   help="per host: odd-electron records, how many are recomputed, "
                        "and how many would be relabelled (spin_labels.py)")
    p.add_argument("--write-results", action="store_true",
                   help="with --report: also write the table to models/RESULTS.md")
    args = p.parse_args(argv)
    if args.coverage:
        from defects.spin_labels import coverage, spin_records
        recs = list(load_dataset(args.data).values())
        print("relabelled: polarised lower than restricted by more than 10 meV (spin_labels.py)")
        print("host   odd  checked  converged  failed  relabelled | even  checked  converged  failed  relabelled")
        for host, c in sorted(coverage(recs, spin_records(args.out)).items()):
            print(f"{host:5s} {c['odd']:4d} {c['checked']:8d} {c['converged']:10d} "
                  f"{c['failed']:7d} {c['relabelled']:11d}"
                  f" | {c['even']:4d} {c['even_checked']:8d} {c['even_converged']:10d} "
                  f"{c['even_failed']:7d} {c['even_relabelled']:11d}")
        return 0
    if args.report:
        if args.write_results:
            write_results_md(args.out)
        return report(args.out)
    done = list(read_jsonl(args.out))
    records = list(load_dataset(args.data).values())
    if args.retry_failed:
        todo = retry_candidates(records, done)
        maxiter, retry = RETRY_MAXITER, RETRY_OVERRIDES
    elif args.ids:
        ids = args.ids.split(",")
        by_id = {r["id"]: r for r in records}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise SystemExit(f"not in {args.data}: {', '.join(missing)}")
        tried = {r["id"] for r in done}
        todo = [by_id[i] for i in ids if i not in tried]
        maxiter, retry = args.maxiter, None
    elif args.even is not None:
        todo = pick_even(records, args.even, done)
        maxiter, retry = args.maxiter, None
    else:
        todo = pick(records, args.per_host, done)
        maxiter, retry = args.maxiter, None
    if args.hosts:
        hosts = set(args.hosts.split(","))
        todo = [r for r in todo if r["host"] in hosts]
    print(f"{len(done)} already checked, {len(todo)} to go", flush=True)
    for rec in todo:
        print(f"{rec['id']} {' '.join(d['label'] for d in rec['defects'])} ...",
              flush=True)
        out = check(rec, args.log_dir, maxiter, retry)
        append_jsonl(args.out, out)
        if "error" in out:
            print(f"  failed: {out['error']}", flush=True)
        else:
            p_ = out["polarised"]
            print(f"  dE = {out['delta_energy']:.3f} eV, m = "
                  f"{p_['magnetic_moment']:.2f} uB, gap {rec['gap']:.3f} -> "
                  f"{p_['gap'] if p_['gap'] is not None else float('nan'):.3f} eV, "
                  f"{p_['wall_time_s']:.0f} s", flush=True)
    return report(args.out)


if __name__ == "__main__":
    sys.exit(main())
