"""Throughput of the exported crystal-property MEGNet ensemble in PyTorch
on the CPU, on a fixed sample of test-split crystals (the PyTorch rows of
``npm run bench:properties``, which runs this and then the same crystals in
the TypeScript CPU path and in WGSL):

    cd models && /usr/bin/python3 -m properties.bench --out /tmp/py.json \\
        --structures /tmp/structures.json [--quick]

* The model is what the app loads: ``export/megnet-properties.json/.bin``
  read back with :func:`mlcore.weights.read_weights` (every member).
* The sample: the first ``--n`` (256) test-split crystals in a
  permutation seeded with ``--seed``; their material ids, mean atoms and
  mean edges (4 Å graphs) go into ``--out``, and their lattices, species and
  fractional coordinates (from the CIFs, as ``graphs.py`` reads them) into
  ``--structures`` for the TypeScript side.
* What is timed: for torch threads 1 and 2 and batch 1, 16 and 256, one
  pass over the whole sample in batches of that size, each batch a forward
  of every member plus the de-normalisation (what the app does per batch),
  under ``torch.no_grad()``.  The batches are built beforehand from the
  cached graphs (``graphs.py``): graph building (neighbour list, one-hot,
  collation) is NOT timed.  Structures/s = sample size / the best of up
  to ``--repeat`` passes (3), after a warm-up on the first two batches; a
  setting stops repeating once its passes add up to ``--budget`` seconds
  (60; the page follows the same rule, and there the slow paths reach it).
* ``--quick``: 32 crystals, batch 1 and 16, one pass (smoke test).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import time
import warnings

import numpy as np
import torch

from mlcore.weights import read_weights

from .data import parse_cif, read_rows
from .graphs import load, restrict
from .train import Batches

MODEL = os.path.join("properties", "export", "megnet-properties")
BATCHES = (1, 16, 256)
THREADS = (1, 2)
#: Warm-up before the timed passes: the first batches of the pass.
WARMUP = 2


def sample_indices(data: dict, n: int, seed: int) -> np.ndarray:
    test = np.nonzero(data["split"] == "test")[0]
    if n > len(test):
        raise SystemExit(f"--n {n}: the test split has only {len(test)} crystals")
    return np.random.default_rng(seed).permutation(test)[:n]


def ensemble_forward(models, b: dict, mean: torch.Tensor, std: torch.Tensor) -> list[torch.Tensor]:
    """Every member's de-normalised [B, targets] (the app's forwardMembers)."""
    return [m(b["nodes"], b["src"], b["dst"], b["dist"], b["state"],
              b["node_graph"], b["edge_graph"]) * std + mean for m in models]


def time_passes(models, batches: list[dict], mean, std, repeat: int, budget: float) -> tuple[float, int]:
    """(best wall time in s, passes timed): after a warm-up on the first
    ``WARMUP`` batches, up to ``repeat`` passes over ``batches``, stopping
    early once the timed passes add up to more than ``budget`` seconds (at
    least one pass)."""
    for b in batches[:WARMUP]:
        ensemble_forward(models, b, mean, std)
    best, total, passes = float("inf"), 0.0, 0
    while passes < repeat and (passes == 0 or total < budget):
        t0 = time.perf_counter()
        for b in batches:
            ensemble_forward(models, b, mean, std)
        dt = time.perf_counter() - t0
        best, total, passes = min(best, dt), total + dt, passes + 1
    return best, passes


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="JSON with the sample and the timings")
    ap.add_argument("--structures", help="JSON with the sample's structures for the TypeScript side")
    ap.add_argument("--n", type=int, default=0, help="crystals in the sample, a multiple of every batch size (default 256; --quick 32)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the test-split permutation")
    ap.add_argument("--repeat", type=int, default=0, help="timed passes per setting (default 3; --quick 1)")
    ap.add_argument("--budget", type=float, default=60, help="stop repeating once the timed passes of a setting add up to this many seconds")
    ap.add_argument("--batches", default="", help="comma-separated batch sizes (default 1,16,256; --quick 1,16)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 32 crystals, batch up to 16, one pass")
    args = ap.parse_args(argv)
    n = args.n or (32 if args.quick else 256)
    repeat = args.repeat or (1 if args.quick else 3)
    sizes = [int(x) for x in args.batches.split(",")] if args.batches else ([1, 16] if args.quick else list(BATCHES))
    if any(n % b for b in sizes):
        raise SystemExit(f"--n {n} is not a multiple of every batch size {sizes}")

    models, manifest = read_weights(MODEL)
    shape = manifest["shape"]
    mean = torch.tensor(manifest["normalization"]["mean"], dtype=torch.float32)
    std = torch.tensor(manifest["normalization"]["std"], dtype=torch.float32)
    data = load(5.0)
    cutoff = float(shape["cutoff"])
    if cutoff < float(data["cutoff"]):
        data = restrict(data, cutoff)
    idx = sample_indices(data, n, args.seed)
    ids = [str(x) for x in data["id"][idx]]
    atoms = data["node_offsets"][idx + 1] - data["node_offsets"][idx]
    edges = data["edge_offsets"][idx + 1] - data["edge_offsets"][idx]

    if args.structures:
        wanted = set(ids)
        by_id = {r["id"]: r for r in read_rows() if r["id"] in wanted}
        crystals = []
        for mid in ids:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pymatgen's "rounded to ideal values", as graphs.py
                lattice, species, frac = parse_cif(by_id[mid]["cif"])
            crystals.append({"id": mid, "lattice": lattice.tolist(), "species": species, "frac": frac.tolist()})
        bad = [c["id"] for c, a in zip(crystals, atoms) if len(c["species"]) != a]
        if bad:
            raise SystemExit(f"the CIFs of {bad[:5]} do not have the cached graphs' atom counts")
        with open(args.structures, "w", encoding="utf-8") as fh:
            json.dump({"cutoff": cutoff, "crystals": crystals}, fh)

    source = Batches(data, idx)
    with torch.no_grad():
        # Reference outputs (ensemble mean, de-normalised) for the cross-check
        # against the TypeScript paths, from the graphs the timing uses.
        ys = [ensemble_forward(models, source.batch(idx[k:k + 256]), mean, std) for k in range(0, n, 256)]
        pred = torch.cat([torch.stack(y).mean(0) for y in ys]).tolist()
        results = []
        for threads in THREADS:
            torch.set_num_threads(threads)
            for size in sizes:
                batches = list(source.epoch(size, None))
                for b in batches:
                    del b["y"]
                seconds, passes = time_passes(models, batches, mean, std, repeat, args.budget)
                results.append({"threads": threads, "batch": size, "seconds": seconds, "passes": passes,
                                "structuresPerSecond": n / seconds})
                print(f"PyTorch {threads} thread{'s' if threads > 1 else ''}, batch {size}: "
                      f"{n / seconds:.1f} structures/s ({seconds:.3f} s per pass of {n})", flush=True)

    out = {
        "about": "models/properties/bench.py: PyTorch CPU throughput of the exported ensemble "
                 "(every member + de-normalisation) on pre-built batches; graph building not timed; "
                 "best of up to `repeat` passes over the sample (fewer once they add up to `budget` s) "
                 "after a warm-up on the first two batches",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {"path": "models/" + MODEL.replace(os.sep, "/"), "created": manifest.get("created"), "members": len(models), "shape": shape},
        "torch": torch.__version__,
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "repeat": repeat,
        "budget": args.budget,
        "sample": {
            "n": n, "seed": args.seed, "split": "test",
            "rule": "first n of numpy.random.default_rng(seed).permutation(test-split indices in id order)",
            "cutoff": cutoff,
            "meanAtoms": float(atoms.mean()), "meanEdges": float(edges.mean()),
            "maxAtoms": int(atoms.max()),
            "ids": ids,
        },
        "results": results,
        "predictions": pred,
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
