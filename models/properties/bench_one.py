"""PyTorch's time for "the structure on screen": one crystal (repeated into
a supercell), the exported ensemble's every member plus de-normalisation,
on one CPU thread; the reference row of ``scripts/bench-on-screen.ts``.

    cd models && /usr/bin/python3 -m properties.bench_one --crystal c.json --cells 2,2,1 --out /tmp/one.json

``--crystal`` holds ``{"lattice", "species", "frac"}`` (as the fixtures
do). Printed and written: atoms, edges, the graph build (pymatgen's
neighbour list, as ``graphs.py`` builds the training graphs) and the
forward, each the best of ``--repeat`` after two warm-ups.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from mlcore.weights import read_weights

from .bench import MODEL, ensemble_forward
from .graphs import STATE_IN, atomic_number, neighbor_edges, node_features


def supercell(lattice: np.ndarray, species: list[str], frac: np.ndarray, cells: tuple[int, int, int]):
    shifts = np.array([(i, j, k) for i in range(cells[0]) for j in range(cells[1]) for k in range(cells[2])], dtype=float)
    big = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) / np.array(cells, dtype=float)
    return lattice * np.array(cells, dtype=float)[:, None], species * len(shifts), big


def best_of(repeat: int, fn):
    fn()
    fn()
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--crystal", required=True)
    ap.add_argument("--cells", default="1,1,1")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    with open(args.crystal, encoding="utf-8") as fh:
        c = json.load(fh)
    cells = tuple(int(x) for x in args.cells.split(","))
    lattice, species, frac = supercell(np.array(c["lattice"], float), list(c["species"]), np.array(c["frac"], float), cells)

    torch.set_num_threads(1)
    models, manifest = read_weights(MODEL)
    mean = torch.tensor(manifest["normalization"]["mean"], dtype=torch.float32)
    std = torch.tensor(manifest["normalization"]["std"], dtype=torch.float32)
    cutoff = float(manifest["shape"]["cutoff"])
    z = np.array([atomic_number(s) for s in species])

    def graph():
        src, dst, dist = neighbor_edges(lattice, frac, cutoff)
        n, e = len(z), len(src)
        return {
            "nodes": torch.from_numpy(node_features(z)),
            "src": torch.from_numpy(src).long(), "dst": torch.from_numpy(dst).long(),
            "dist": torch.from_numpy(dist), "state": torch.zeros(1, STATE_IN),
            "node_graph": torch.zeros(n, dtype=torch.long), "edge_graph": torch.zeros(e, dtype=torch.long),
        }

    s_graph, b = best_of(args.repeat, graph)
    with torch.no_grad():
        s_fwd, ys = best_of(args.repeat, lambda: ensemble_forward(models, b, mean, std))
    out = {
        "atoms": int(len(z)), "edges": int(len(b["src"])), "members": len(models), "threads": 1,
        "torch": torch.__version__, "msGraph": 1000 * s_graph, "msForward": 1000 * s_fwd,
        "mean": torch.stack(ys).mean(0)[0].tolist(),
    }
    print(f"PyTorch 1 thread: {out['atoms']} atoms, {out['edges']} edges; graph (pymatgen) {out['msGraph']:.1f} ms, "
          f"forward of {len(models)} members {out['msForward']:.1f} ms", flush=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
