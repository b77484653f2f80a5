"""Resumable generator of a labelled 2D-defect dataset (GPAW single points).

For every sampled defect configuration (see ``sample.py``) it runs one GPAW
single point -- LCAO, dzp basis, PBE, Gamma point -- on the unrelaxed defect
supercell and appends one JSON line to the dataset file: structure, total
energy, HOMO, LUMO, gap, formation energy per defect site, settings, GPAW
version, wall time, timestamp.

Before the loop it makes sure the references exist (pristine supercells of each
host and size, and the elemental chemical potentials), computing the missing
ones with the same settings and storing them in ``references.jsonl``.

It is resumable: ids already in the output file are skipped, so the same command
continues where the last run stopped; ``--max-hours`` bounds one run.

Usage (from ``models/``, as a module of the ``defects`` package; see
README.md)::

    cd models
    nohup nice -n 19 /usr/bin/python3 -m defects.generate \
        --out defects/data/dft.jsonl --max-hours 2 &
    # two MPI ranks (GPAW's domain decomposition), same options:
    nohup nice -n 19 mpirun -np 2 /usr/bin/python3 -m defects.generate \
        --out defects/data/dft.jsonl --max-hours 2 &
    # end-to-end check on a 3x3 MoS2 supercell with one S vacancy:
    nice -n 19 /usr/bin/python3 -m defects.generate --smoke
    # the same for another host (hBN: 3x3 with one N vacancy):
    nice -n 19 /usr/bin/python3 -m defects.generate --smoke \
        --smoke-host hBN --refs /tmp/smoke-refs.jsonl
    # the new hosts:
    nohup nice -n 19 /usr/bin/python3 -m defects.generate \
        --hosts hBN,BP,GaSe,InSe --max-hours 2 &

Under MPI every rank runs this module; GPAW splits each calculation over the
ranks, only rank 0 writes files or prints, and the stop decisions are taken on
rank 0 and broadcast so all ranks always run the same calculations.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile
import time
import traceback

from defects.hosts import HOSTS, _size
from defects.references import ELEMENT_REFS, formation_energy
from defects.sample import Config, sample_config, single_defect_config
from defects.records import base_record, structure_dict
from defects.store import append_jsonl, load_dataset, read_jsonl, repair_tail

import gpaw
from gpaw import GPAW
from gpaw.mpi import broadcast, world

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "data", "dft.jsonl")
DEFAULT_REFS = os.path.join(HERE, "data", "references.jsonl")

#: Settings shared by every calculation (defect cells, pristine cells and
#: elemental references).  Defect and pristine cells use them unchanged;
#: elemental references override only ``kpts`` (and the smearing for metals).
#: * Gamma point only: the project's choice for speed (see README for what it
#:   does to gaps).  GPAW then uses real wave functions, ~2x cheaper.
#: * Fermi-Dirac 0.01 eV: small enough that HOMO/LUMO and the energy are those
#:   of integer occupations for gapped systems, large enough to help SCF when
#:   a defect level sits at the Fermi level.
#: * energy tolerance 2e-5 eV per valence electron (GPAW's default is 5e-4):
#:   ~10 meV on a 416-electron 4x4 cell, well below formation-energy scales.
#: * not spin polarised.  Every MoS2/WSe2 defect keeps an even electron count
#:   (Mo/W: 14 valence electrons, S/Se: 6), but hBN, BP, GaSe and InSe defects
#:   often have an odd one, and magnetic solutions are missed in any case;
#:   ``spin_check.py`` measures what that costs on a sample of them.
COMMON_SETTINGS = {
    "code": "GPAW",
    "mode": "lcao",
    "basis": "dzp",
    "xc": "PBE",
    "h": 0.2,
    "kpts": {"size": (1, 1, 1), "gamma": True},
    "occupations": {"name": "fermi-dirac", "width": 0.01},
    "convergence": {"energy": 2e-5, "density": 1e-4, "eigenstates": 4e-8},
    "maxiter": 300,
    "spinpol": False,
}

#: Rough wall time of one defect single point (s) by number of atoms in the
#: pristine supercell, used only until this run has measured its own; for the
#: --max-hours look-ahead.  (27/48/75: MoS2/WSe2 3x3/4x4/5x5.)
_GUESS_WALL = {27: 60.0, 48: 150.0, 75: 240.0}


def guess_wall(natoms: int) -> float:
    return _GUESS_WALL.get(natoms, 3.2 * natoms)


#: The single-defect configuration of ``--smoke`` per host: (size, label).
SMOKE = {"MoS2": ((3, 3), "V_S"), "WSe2": ((3, 3), "V_Se"),
         "hBN": ((3, 3), "V_N"), "GaSe": ((2, 2), "V_Se"),
         "InSe": ((2, 2), "V_Se"), "BP": ((2, 2), "V_P")}

RANK0 = world.rank == 0


def log(msg: str) -> None:
    if RANK0:
        stamp = _dt.datetime.now().strftime("%H:%M:%S")
        print(f"[{stamp}] {msg}", flush=True)


def from_rank0(value):
    """Rank 0's ``value`` on every rank (time-based decisions may differ
    between ranks by a hair; they must not)."""
    return broadcast(value if RANK0 else None, 0)


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def fingerprint(obj) -> str:
    """Short stable hash of a JSON-able object (settings, geometry params)."""
    text = json.dumps(obj, sort_keys=True, default=list)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def settings_with(overrides: dict | None = None) -> dict:
    s = json.loads(json.dumps(COMMON_SETTINGS, default=list))
    s.update(overrides or {})
    return s


class SinglePointError(RuntimeError):
    """A GPAW run failed; carries the wall time and the log tail."""

    def __init__(self, message: str, wall: float, log_tail: str):
        super().__init__(message)
        self.wall = wall
        self.log_tail = log_tail


def _tail(path: str, n: int = 25) -> str:
    try:
        with open(path, "r", errors="replace") as fh:
            return "".join(fh.readlines()[-n:])
    except OSError:
        return ""


def single_point(atoms, settings: dict, txt: str) -> dict:
    """One GPAW single point.  Returns energy (eV, extrapolated to zero
    smearing), HOMO, LUMO, gap, Fermi level, SCF iterations, wall time.
    Raises SinglePointError on any failure (e.g. SCF not converged)."""
    kw = {k: v for k, v in settings.items() if k != "code"}
    if RANK0:
        os.makedirs(os.path.dirname(txt), exist_ok=True)
    world.barrier()
    t0 = time.perf_counter()
    try:
        calc = GPAW(txt=txt, **kw)
        atoms = atoms.copy()
        atoms.calc = calc
        energy = float(atoms.get_potential_energy())
        homo, lumo = (float(x) for x in calc.get_homo_lumo())
        result = {
            "energy": energy,
            "homo": homo,
            "lumo": lumo,
            "gap": (lumo - homo) if lumo != float("inf") else None,
            "fermi_level": float(calc.get_fermi_level()),
            "n_electrons": float(calc.get_number_of_electrons()),
            "scf_iterations": getattr(calc.scf, "niter", None),
        }
        if settings.get("spinpol"):
            # get_homo_lumo() above is over both channels; keep each channel's
            # own levels too, and the moment the SCF settled on.
            result["magnetic_moment"] = float(calc.get_magnetic_moment())
            result["homo_lumo_by_spin"] = [
                [float(x) for x in calc.get_homo_lumo(spin=s)] for s in (0, 1)]
    except Exception as exc:  # noqa: BLE001 - any GPAW failure is recorded
        wall = time.perf_counter() - t0
        msg = f"{type(exc).__name__}: {exc}"
        raise SinglePointError(msg, wall, _tail(txt) if RANK0 else "") from exc
    result["wall_time_s"] = round(time.perf_counter() - t0, 2)
    return result


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------

class References:
    """Pristine-supercell energies and chemical potentials, kept in a JSONL
    file and keyed by system *and* settings fingerprint, so a change of
    settings or geometry never reuses a stale number."""

    def __init__(self, path: str, log_dir: str):
        self.path = path
        self.log_dir = log_dir
        self.records: dict[str, dict] = {}
        for rec in read_jsonl(path):
            if "error" not in rec and "key" in rec:
                self.records[rec["key"]] = rec

    @staticmethod
    def mu_key(element: str) -> str:
        """Key of mu_element.  A reference built from a host geometry or
        derived from other mu's (B, Ga, In) also carries those in its
        fingerprint; the elemental ones (Mo, W, S, Se, ...) keep the key
        they had before any were added."""
        ref = ELEMENT_REFS[element]
        parts = [settings_with(ref.overrides), ref.description]
        if ref.geometry:
            parts.append(ref.geometry)
        if ref.subtract:
            parts.append({el: References.mu_key(el) for el, _ in ref.subtract})
        fp = fingerprint(parts)
        return f"mu:{element}:{fp}"

    @staticmethod
    def pristine_key(host: str, size) -> str:
        na, nb = _size(size)
        fp = fingerprint([settings_with(), HOSTS[host].params()])
        return f"pristine:{host}:{na}x{nb}:{fp}"

    def mu(self, element: str) -> float:
        rec = self.records[self.mu_key(element)]
        return rec.get("mu", rec["energy_per_atom"])

    def pristine(self, host: str, size) -> dict:
        return self.records[self.pristine_key(host, size)]

    def _compute(self, key: str, atoms, settings: dict, extra: dict) -> None:
        txt = os.path.join(self.log_dir, key.replace(":", "_") + ".txt")
        log(f"reference {key}: {atoms.get_chemical_formula()} "
            f"({len(atoms)} atoms) ...")
        res = single_point(atoms, settings, txt)  # failure here is fatal
        if callable(extra):  # a derived mu needs the energy first
            extra = extra(res["energy"])
        rec = {
            "key": key,
            **extra,
            "natoms": len(atoms),
            "energy": res["energy"],
            "energy_per_atom": res["energy"] / len(atoms),
            "homo": res["homo"], "lumo": res["lumo"], "gap": res["gap"],
            "fermi_level": res["fermi_level"],
            "scf_iterations": res["scf_iterations"],
            "structure": structure_dict(atoms),
            "settings": settings,
            "gpaw_version": gpaw.__version__,
            "wall_time_s": res["wall_time_s"],
            "timestamp": now_iso(),
        }
        if RANK0:
            repair_tail(self.path)
            append_jsonl(self.path, rec)
        self.records[key] = rec
        log(f"  E = {res['energy']:.4f} eV ({rec['energy_per_atom']:.4f} "
            f"eV/atom), {res['wall_time_s']:.0f} s"
            + (f"; mu = {rec['mu']:.4f} eV" if "mu" in rec else ""))

    def _ensure_mu(self, el: str) -> None:
        key = self.mu_key(el)
        if key in self.records:
            return
        ref = ELEMENT_REFS[el]
        for dep, _ in ref.subtract:  # B <- N, Ga/In <- Se
            self._ensure_mu(dep)
        atoms = ref.atoms()
        extra = {"kind": "chemical_potential", "element": el,
                 "system": ref.description}
        if ref.derived:
            n_el = atoms.get_chemical_symbols().count(el)
            mus = {dep: self.mu(dep) for dep, _ in ref.subtract}
            base = extra

            def extra(energy, base=base, n_el=n_el, mus=mus):
                return {**base, "mu": ref.mu_from(energy, n_el, mus),
                        "mu_from": {"subtract": [list(s) for s in
                                                 ref.subtract],
                                    "n_element": n_el, "mu": mus,
                                    "mu_keys": {d: self.mu_key(d)
                                                for d in mus}}}
        self._compute(key, atoms, settings_with(ref.overrides), extra)

    def ensure(self, hosts: list[str], sizes: list | None,
               elements: set[str]) -> None:
        """Compute every missing reference needed for ``hosts`` x ``sizes``
        (``None``: each host's own ``supercells``) and the chemical
        potentials of ``elements`` (and of those they are derived from)."""
        for el in sorted(elements):
            self._ensure_mu(el)
        for host in hosts:
            for size in (HOSTS[host].supercells if sizes is None else sizes):
                key = self.pristine_key(host, size)
                if key in self.records:
                    continue
                na, nb = _size(size)
                atoms = HOSTS[host].supercell((na, nb))
                self._compute(key, atoms, settings_with(),
                              {"kind": "pristine", "host": host,
                               "supercell": [na, nb, 1],
                               "host_params": HOSTS[host].params(),
                               "host_source": HOSTS[host].source})


# --------------------------------------------------------------------------
# Dataset records
# --------------------------------------------------------------------------

def run_config(cfg: Config, refs: References, log_dir: str,
               keep_logs: bool) -> dict:
    """Compute one configuration and return its record (success or error)."""
    atoms = cfg.atoms()
    settings = settings_with()
    rec = base_record(cfg, atoms)
    txt = os.path.join(log_dir, f"{cfg.id}.txt")
    try:
        res = single_point(atoms, settings, txt)
    except SinglePointError as exc:
        rec.update({
            "error": str(exc),
            "log_tail": exc.log_tail,
            "settings": settings,
            "settings_fingerprint": fingerprint(settings),
            "gpaw_version": gpaw.__version__,
            "wall_time_s": round(exc.wall, 2),
            "timestamp": now_iso(),
        })
        return rec
    f = formation_energy(cfg, res["energy"], refs)
    pristine, n_removed, mu, e_f = f["pristine"], f["n_removed"], f["mu"], f["e_f"]
    rec.update({
        "energy": res["energy"],
        "homo": res["homo"],
        "lumo": res["lumo"],
        "gap": res["gap"],
        "fermi_level": res["fermi_level"],
        "n_electrons": res["n_electrons"],
        "scf_iterations": res["scf_iterations"],
        "formation_energy": e_f,
        "formation_energy_per_site": e_f / len(cfg.defects),
        "n_removed": n_removed,
        "references": {
            "pristine_key": pristine["key"],
            "pristine_energy": pristine["energy"],
            "pristine_homo": pristine["homo"],
            "pristine_gap": pristine["gap"],
            "mu": mu,
            "mu_keys": {el: refs.mu_key(el) for el in n_removed},
        },
        "settings": settings,
        "settings_fingerprint": fingerprint(settings),
        "gpaw_version": gpaw.__version__,
        "wall_time_s": res["wall_time_s"],
        "timestamp": now_iso(),
    })
    if RANK0 and not keep_logs:
        try:
            os.remove(txt)
        except OSError:
            pass
    return rec


def scan_output(path: str, retry_failed: bool) -> tuple[set, set, int, int]:
    """Ids and configuration hashes already in the dataset file."""
    ids, hashes, n_ok, n_err = set(), set(), 0, 0
    for rec in read_jsonl(path):
        if "error" in rec:
            n_err += 1
            if retry_failed:
                continue
        else:
            n_ok += 1
        ids.add(rec.get("id"))
        hashes.add(rec.get("config_hash"))
    return ids, hashes, n_ok, n_err


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None,
                   help=f"dataset JSONL (default {DEFAULT_OUT}; with --smoke a "
                        f"file in the temp dir)")
    p.add_argument("--refs", default=DEFAULT_REFS,
                   help="references JSONL (default %(default)s)")
    p.add_argument("--hosts", default="MoS2,WSe2",
                   help="comma-separated hosts (default %(default)s; "
                        f"available: {','.join(HOSTS)})")
    p.add_argument("--start-id", type=int, default=0,
                   help="first sample index (default 0)")
    p.add_argument("--max-id", type=int, default=None,
                   help="stop before this sample index")
    p.add_argument("--max-hours", type=float, default=2.0,
                   help="stop starting new calculations that would not end "
                        "within this many hours (default %(default)s)")
    p.add_argument("--worker", default="0/1", metavar="K/N",
                   help="compute only sample indices i with i %% N == K, so N "
                        "processes (one per core) can share the same hosts "
                        "and dataset file (default %(default)s: all)")
    p.add_argument("--max-structures", type=int, default=None,
                   help="stop after computing this many structures")
    p.add_argument("--retry-failed", action="store_true",
                   help="recompute ids whose earlier record has an error")
    p.add_argument("--log-dir",
                   default=os.path.join(tempfile.gettempdir(),
                                        "lattice-defects-logs"),
                   help="GPAW text logs (deleted after success unless "
                        "--keep-logs; default %(default)s)")
    p.add_argument("--keep-logs", action="store_true")
    p.add_argument("--list", type=int, metavar="N", default=None,
                   help="only print the next N configurations and exit")
    p.add_argument("--summary", action="store_true",
                   help="print what the dataset file holds and exit")
    p.add_argument("--smoke", action="store_true",
                   help="one 3x3 MoS2 single-S-vacancy calculation (or see "
                        "--smoke-host), end to end, into a temp file")
    p.add_argument("--smoke-host", default="MoS2", choices=sorted(SMOKE),
                   help="host of --smoke (default %(default)s): "
                        + ", ".join(f"{h} {s[0]}x{s[1]} {lab}"
                                    for h, (s, lab) in SMOKE.items()))
    return p.parse_args(argv)


def smoke(args) -> int:
    """End-to-end check: references for it, one defect cell, one record."""
    out = args.out or os.path.join(tempfile.gettempdir(),
                                   "lattice-defects-smoke.jsonl")
    if RANK0 and os.path.exists(out):
        os.remove(out)
    host = args.smoke_host
    size, label = SMOKE[host]
    cfg = single_defect_config(host, size, label, index=0)
    refs = References(args.refs, args.log_dir)
    t0 = time.perf_counter()
    refs.ensure([host], [size], set(cfg.n_removed()))
    rec = run_config(cfg, refs, args.log_dir, keep_logs=True)
    rec["id"] = f"smoke-{host}-{cfg.size_label}-{label}"
    if RANK0:
        append_jsonl(out, rec)
    if "error" in rec:
        log(f"SMOKE FAILED: {rec['error']}")
        return 1
    p = refs.pristine(host, size)
    mus = ", ".join(f"mu_{el} = {mu:.4f} eV"
                    for el, mu in rec["references"]["mu"].items())
    log(f"smoke record -> {out}")
    log(f"pristine {cfg.size_label}: E = {p['energy']:.4f} eV, gap = "
        f"{p['gap']:.3f} eV, {p['wall_time_s']:.0f} s")
    log(f"{label} {cfg.size_label}:      E = {rec['energy']:.4f} eV, HOMO = "
        f"{rec['homo']:.3f}, LUMO = {rec['lumo']:.3f}, gap = "
        f"{rec['gap']:.3f} eV, E_f = {rec['formation_energy']:.3f} eV, {mus}, "
        f"{rec['wall_time_s']:.0f} s, {rec['scf_iterations']} SCF iterations, "
        f"{rec['n_electrons']:.0f} electrons")
    log(f"smoke total wall time {time.perf_counter() - t0:.0f} s")
    return 0


def summary(out: str) -> int:
    """Counts per host / supercell / density, failures, and wall time."""
    from collections import Counter
    recs = list(load_dataset(out).values())
    ok = [r for r in recs if "error" not in r]
    bad = [r for r in recs if "error" in r]
    log(f"{out}: {len(ok)} structures, {len(bad)} failed ids")
    groups = Counter((r["host"], f"{r['supercell'][0]}x{r['supercell'][1]}",
                      r["density"]) for r in ok)
    for (host, size, dens), n in sorted(groups.items()):
        log(f"  {host:5s} {size} {dens:4s}: {n}")
    if ok:
        hours = sum(r["wall_time_s"] for r in ok) / 3600
        log(f"  total GPAW wall time {hours:.2f} h")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.smoke:
        return smoke(args)
    if args.summary:
        return summary(args.out or DEFAULT_OUT)
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    unknown = [h for h in hosts if h not in HOSTS]
    if unknown:
        sys.exit(f"unknown hosts {unknown}; available: {list(HOSTS)}")
    out = args.out or DEFAULT_OUT

    try:
        worker, n_workers = (int(x) for x in args.worker.split("/"))
        assert 0 <= worker < n_workers
    except (ValueError, AssertionError):
        sys.exit(f"--worker {args.worker!r}: expected K/N with 0 <= K < N")

    if args.list is not None:  # the configurations this worker would compute
        index, shown = args.start_id, 0
        while shown < args.list:
            if index % n_workers != worker:
                index += 1
                continue
            for h in hosts:
                cfg = sample_config(h, index)
                labels = " ".join(f"{d.label}@{d.site}" for d in cfg.defects)
                log(f"{cfg.id} {cfg.size_label} {cfg.density():4s} {labels} "
                    f"[{cfg.config_hash()}]")
                shown += 1
            index += 1
        return 0

    t_start = time.time()
    deadline = t_start + args.max_hours * 3600.0
    if RANK0:
        repair_tail(out)
    world.barrier()
    done_ids, seen_hashes, n_ok, n_err = scan_output(out, args.retry_failed)
    log(f"{out}: {n_ok} structures, {n_err} failures already there; "
        f"GPAW {gpaw.__version__}, {world.size} MPI rank(s)")

    elements = set()
    for h in hosts:
        elements |= HOSTS[h].elements
    refs = References(args.refs, args.log_dir)
    refs.ensure(hosts, None, elements)  # each host's own supercell sizes

    walls: dict[tuple, list[float]] = {}
    computed = 0
    index = args.start_id
    while args.max_id is None or index < args.max_id:
        if index % n_workers != worker:  # another worker's index
            index += 1
            continue
        for host in hosts:
            cfg = sample_config(host, index)
            if cfg.id in done_ids:
                continue
            h = cfg.config_hash()
            if h in seen_hashes:
                continue  # equivalent to a configuration already computed
            key = (cfg.host, cfg.size)
            guess = (sum(walls[key]) / len(walls[key]) if key in walls
                     else guess_wall(len(HOSTS[cfg.host].supercell(cfg.size))))
            stop = None
            if args.max_structures is not None and \
                    computed >= args.max_structures:
                stop = f"--max-structures {args.max_structures} reached"
            elif time.time() + guess > deadline:
                stop = f"--max-hours {args.max_hours} reached"
            stop = from_rank0(stop or "")  # all ranks take rank 0's choice
            if stop:
                log(f"stopping: {stop}; {computed} computed in this run, "
                    f"{(time.time() - t_start) / 60:.1f} min")
                return 0
            labels = " ".join(f"{d.label}@{d.site}" for d in cfg.defects)
            log(f"{cfg.id}: {cfg.size_label} {labels} ...")
            rec = run_config(cfg, refs, args.log_dir, args.keep_logs)
            if RANK0:
                append_jsonl(out, rec)
            done_ids.add(cfg.id)
            seen_hashes.add(h)
            computed += 1
            walls.setdefault(key, []).append(rec["wall_time_s"])
            if "error" in rec:
                log(f"  FAILED after {rec['wall_time_s']:.0f} s: "
                    f"{rec['error']}")
            else:
                log(f"  E = {rec['energy']:.4f} eV, gap = {rec['gap']:.3f} "
                    f"eV, E_f/site = {rec['formation_energy_per_site']:.3f} "
                    f"eV, {rec['wall_time_s']:.0f} s")
        index += 1
    log(f"reached --max-id {args.max_id}; {computed} computed in this run")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        # Under MPI one failing rank must take the others down with it.
        if world.size > 1:
            world.abort(1)
        raise
