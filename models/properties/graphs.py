"""Full periodic graphs of the crystals, the way the app builds them.

One node per site, with the one-hot of its atomic number as its features
(``node_features``; the first dense layer on a one-hot is MEGNet's element
embedding); one directed edge per neighbour within the cutoff, both
directions and every periodic image (0 < d < cutoff), feature = distance.
That is ``src/core/graph/crystal-graph.ts`` with ``oneHotZ`` features; the
TypeScript tests check that both build the same edges on fixture crystals.
The graph-level state is two zeros, as in MEGNet's Materials Project models
(they carry no temperature or pressure).

Building every graph takes about a minute, so they are cached in one
``.npz`` (``cache/graphs-<cutoff>.npz``, ignored by git) with the arrays
concatenated and CSR offsets per crystal.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from .data import HERE, TARGETS, parse_cif, read_rows

#: One-hot width: Z = 1..94 (H..Pu), every element in the training data.
MAX_Z = 94
STATE_IN = 2
CACHE_DIR = os.path.join(HERE, "cache")

_Z = None


def atomic_number(symbol: str) -> int:
    global _Z
    if _Z is None:
        from ase.data import atomic_numbers
        _Z = atomic_numbers
    return _Z[symbol]


def node_features(z: np.ndarray) -> np.ndarray:
    """[N] atomic numbers -> [N, MAX_Z] one-hot (column Z-1); an element
    beyond MAX_Z gets a row of zeros (the app warns about it)."""
    out = np.zeros((len(z), MAX_Z), dtype=np.float32)
    ok = (z >= 1) & (z <= MAX_Z)
    out[np.nonzero(ok)[0], z[ok] - 1] = 1
    return out


def neighbor_edges(lattice: np.ndarray, frac: np.ndarray, cutoff: float):
    """(src, dst, dist) of every directed edge 0 < d < cutoff, sorted by
    (dst, src, d) so the order is reproducible (the model is order-free)."""
    from pymatgen.core import Lattice, Structure
    s = Structure(Lattice(lattice), ["H"] * len(frac), frac, coords_are_cartesian=False)
    center, point, _, dist = s.get_neighbor_list(cutoff)
    keep = (dist > 1e-8) & (dist < cutoff)
    center, point, dist = center[keep], point[keep], dist[keep]
    order = np.lexsort((dist, center, point))
    return (center[order].astype(np.int32), point[order].astype(np.int32),
            dist[order].astype(np.float32))


def build(cutoff: float, limit: int | None = None) -> dict:
    """Graphs and targets of every row (in id order), concatenated."""
    rows = read_rows()
    if limit:
        rows = rows[:limit]
    zs, srcs, dsts, dists = [], [], [], []
    node_off, edge_off = [0], [0]
    kept = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's "rounded to ideal values"
        for r in rows:
            lattice, species, frac = parse_cif(r["cif"])
            z = np.array([atomic_number(s) for s in species], dtype=np.int32)
            src, dst, dist = neighbor_edges(lattice, frac, cutoff)
            zs.append(z)
            srcs.append(src)
            dsts.append(dst)
            dists.append(dist)
            node_off.append(node_off[-1] + len(z))
            edge_off.append(edge_off[-1] + len(src))
            kept.append(r)
    return {
        "cutoff": np.float64(cutoff),
        "id": np.array([r["id"] for r in kept]),
        "subset": np.array([r["subset"] for r in kept]),
        "split": np.array([r["split"] for r in kept]),
        "y": np.array([[r[t] for t in TARGETS] for r in kept], dtype=np.float64),
        "z": np.concatenate(zs),
        "src": np.concatenate(srcs),
        "dst": np.concatenate(dsts),
        "dist": np.concatenate(dists),
        "node_offsets": np.array(node_off, dtype=np.int64),
        "edge_offsets": np.array(edge_off, dtype=np.int64),
    }


def cache_path(cutoff: float) -> str:
    return os.path.join(CACHE_DIR, f"graphs-{cutoff:g}.npz")


def load(cutoff: float) -> dict:
    """The cached graphs for ``cutoff``, built on first use."""
    path = cache_path(cutoff)
    if not os.path.exists(path):
        t0 = time.time()
        data = build(cutoff)
        os.makedirs(CACHE_DIR, exist_ok=True)
        np.savez(path, **data)
        print(f"built {len(data['id'])} graphs at {cutoff:g} Å in {time.time() - t0:.0f} s -> {path}", flush=True)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def restrict(data: dict, cutoff: float) -> dict:
    """The same graphs with a shorter cutoff (edges are a subset)."""
    if cutoff > float(data["cutoff"]):
        raise ValueError(f"cannot grow the cutoff from {float(data['cutoff'])} to {cutoff}")
    keep = data["dist"] < cutoff
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    off = data["edge_offsets"]
    out = dict(data)
    out.update(cutoff=np.float64(cutoff), src=data["src"][keep], dst=data["dst"][keep],
               dist=data["dist"][keep],
               edge_offsets=kept_before[off].astype(np.int64))
    return out


def graph(data: dict, i: int) -> dict:
    """Crystal i as the dict ``mlcore.megnet.collate`` reads."""
    n0, n1 = data["node_offsets"][i], data["node_offsets"][i + 1]
    e0, e1 = data["edge_offsets"][i], data["edge_offsets"][i + 1]
    return {"nodes": node_features(data["z"][n0:n1]), "src": data["src"][e0:e1],
            "dst": data["dst"][e0:e1], "dist": data["dist"][e0:e1],
            "state": np.zeros(STATE_IN, dtype=np.float32)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Build (or rebuild) the graph cache.")
    ap.add_argument("--cutoff", type=float, default=5.0)
    args = ap.parse_args()
    p = cache_path(args.cutoff)
    if os.path.exists(p):
        os.remove(p)
    d = load(args.cutoff)
    print(f"{len(d['id'])} crystals, {len(d['z'])} atoms, {len(d['src'])} edges")
