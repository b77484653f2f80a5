"""Pristine supercells for the defect editor's sizes, so its level diagram
can draw the host's band edges for the supercell on screen.

The model's defect levels are relative to the valence band maximum of the
pristine supercell of the same size (train.py ``level``), and the Γ-point
gap depends on the supercell through zone folding (MoS2 3x3 folds K onto Γ:
1.60 eV against 2.08 at 4x4), so the app needs the pristine edges per size.
The labels computed only the dataset's sizes; this computes the editor's
others (n x n, ``src/core/defects/editor.ts`` MIN_SIZE..MAX_SIZE) with the
labels' GPAW settings (generate.References, same keys and file), cheapest
first, so a run cut short still adds the common small sizes.  Resumable:
references already in the file are skipped.

    cd models
    OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 -m defects.band_edges \\
        --sizes 2-6 --max-hours 2 > /tmp/band-edges.log 2>&1 &

The manifest picks the results up at the next export
(``references.host_band_edges``).
"""

from __future__ import annotations

import argparse
import sys
import time

from defects.generate import DEFAULT_REFS, References, log
from defects.hosts import HOSTS


def parse_sizes(text: str) -> list[int]:
    """"2-6" or "2,3,5" -> sorted unique ints."""
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return sorted(out)


def todo(refs: References, hosts: list[str], sizes: list[int],
         max_atoms: int) -> list[tuple[int, str, int]]:
    """(atoms, host, n) of every missing pristine n x n supercell, fewest atoms first."""
    out = []
    for h in hosts:
        for n in sizes:
            natoms = HOSTS[h].atoms_per_cell * n * n
            if natoms <= max_atoms and refs.pristine_key(h, n) not in refs.records:
                out.append((natoms, h, n))
    return sorted(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--refs", default=DEFAULT_REFS)
    p.add_argument("--hosts", default=",".join(HOSTS))
    p.add_argument("--sizes", default="2-6", help="n of the n x n supercells (default %(default)s)")
    p.add_argument("--max-atoms", type=int, default=150)
    p.add_argument("--max-hours", type=float, default=2.0,
                   help="start no new calculation after this many hours")
    p.add_argument("--log-dir", default="/tmp/lattice-defects-logs")
    p.add_argument("--list", action="store_true", help="print what is missing and exit")
    args = p.parse_args(argv)
    hosts = [h for h in args.hosts.split(",") if h]
    refs = References(args.refs, args.log_dir)
    jobs = todo(refs, hosts, parse_sizes(args.sizes), args.max_atoms)
    log(f"{len(jobs)} pristine supercells missing: "
        + ", ".join(f"{h} {n}x{n} ({a} atoms)" for a, h, n in jobs))
    if args.list:
        return 0
    deadline = time.time() + 3600 * args.max_hours
    for _, host, n in jobs:
        if time.time() > deadline:
            log("deadline reached; rerun to continue")
            break
        refs.ensure([host], [n], set())
    return 0


if __name__ == "__main__":
    sys.exit(main())
