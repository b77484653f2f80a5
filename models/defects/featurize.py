"""Graphs for the defect models, exactly as REPRESENTATION.md specifies.

Two graphs are built from a dataset record (``data/dft.jsonl``):

* the **sparse defect graph** (the model the app runs): one node per defect
  site, edges between defect sites and their in-plane periodic images closer
  than 10 Å, state = host one-hot and defect concentration.  It is built from a
  plain ``config`` dict ``{host, lattice, pristineSites, zMid, defects:
  [{zOld, zNew, position}]}``, the same input the TypeScript side gets, so the
  fixtures test both sides on identical inputs;
* the **full-structure graph** (the comparison baseline): every atom of the
  defect structure, edges within 5 Å, periodic in-plane.

Records store defect *site indices* into the pristine supercell, so the
pristine supercell is rebuilt with ``hosts.HOSTS[host].supercell(size)``
exactly as the generator does (``size`` = the record's ``supercell[:2]``,
which need not be square: black phosphorus uses e.g. 4 x 3), and checked
against the structure stored in the record (same cell, same surviving atoms),
so a change in ``hosts.py`` cannot silently move defects.

Graphs are dicts of numpy arrays: ``nodes`` float32 [N, F], ``src``/``dst``
int64 [E], ``dist`` float32 [E] (Å), ``state`` float32 [7].
"""

from __future__ import annotations

import os

import numpy as np
from ase.data import atomic_numbers

from defects.hosts import HOSTS

HERE = os.path.dirname(os.path.abspath(__file__))

#: Element vocabulary: index -> Z (0 = vacancy).  Order is part of the contract.
VOCAB = (0, 5, 6, 7, 8, 15, 16, 31, 34, 42, 49, 74, 52, 24, 41, 23)
VOCAB_INDEX = {z: i for i, z in enumerate(VOCAB)}
#: Host order of the state one-hot (contract).
HOST_ORDER = ("MoS2", "WSe2", "hBN", "GaSe", "InSe", "BP")

SPARSE_CUTOFF = 10.0
FULL_CUTOFF = 5.0
SPARSE_NODE_IN = 33
FULL_NODE_IN = 17
STATE_IN = 7
#: The layer feature is (z - zMid) / LAYER_SCALE.
LAYER_SCALE = 3.0


def onehot_z(z: int) -> np.ndarray:
    """16-wide one-hot of an atomic number (0 = vacancy); unknown Z refuses,
    as the app does, instead of silently mapping to a wrong slot."""
    if z not in VOCAB_INDEX:
        raise ValueError(f"element Z={z} is outside the model's vocabulary "
                         f"{list(VOCAB)}")
    v = np.zeros(len(VOCAB), dtype=np.float64)
    v[VOCAB_INDEX[z]] = 1.0
    return v


def onehot_host(host: str) -> np.ndarray:
    if host not in HOST_ORDER:
        raise ValueError(f"unknown host {host!r}; known: {HOST_ORDER}")
    v = np.zeros(len(HOST_ORDER), dtype=np.float64)
    v[HOST_ORDER.index(host)] = 1.0
    return v


def periodic_edges(pos: np.ndarray, lattice: np.ndarray, cutoff: float):
    """Directed edges i -> j for every in-plane image n = (n_a, n_b) with
    |r_j + n_a a + n_b b - r_i| < cutoff (strictly), i = j allowed except for
    n = 0.  Periodic along a and b only, never c.  float64 throughout.

    Returns src, dst (int64), dist (float64), ordered by (src, dst, n_a, n_b).
    """
    pos = np.asarray(pos, dtype=np.float64).reshape(-1, 3)
    lat = np.asarray(lattice, dtype=np.float64).reshape(3, 3)[:2]  # a, b
    n = len(pos)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0)
    # Dual vectors of (a, b) inside their plane: a*.a = 1, a*.b = 0, ...
    dual = np.linalg.solve(lat @ lat.T, lat)  # [2, 3]
    delta = pos[None, :, :] - pos[:, None, :]  # [i, j] = r_j - r_i
    frac = delta.reshape(-1, 3) @ dual.T  # [P, 2]
    # |x| >= |x . a*| / |a*|, so an image within the cutoff has
    # |n_a + f_a| <= cutoff * |a*|: bound the image range by that (+1 margin).
    reach = cutoff * np.linalg.norm(dual, axis=1)
    lo = np.floor(-reach - frac.max(axis=0)).astype(int) - 1
    hi = np.ceil(reach - frac.min(axis=0)).astype(int) + 1
    na = np.arange(lo[0], hi[0] + 1)
    nb = np.arange(lo[1], hi[1] + 1)
    shifts = (na[:, None, None] * lat[0] + nb[None, :, None] * lat[1])
    shifts = shifts.reshape(-1, 3)  # image index k = ia * len(nb) + ib
    vec = delta[:, :, None, :] + shifts[None, None, :, :]
    dist = np.sqrt((vec * vec).sum(axis=-1))  # [i, j, k]
    mask = dist < cutoff
    k0 = int(np.where(na == 0)[0][0]) * len(nb) + int(np.where(nb == 0)[0][0])
    idx = np.arange(n)
    mask[idx, idx, k0] = False  # no zero self-edge
    src, dst, _ = np.nonzero(mask)
    return src.astype(np.int64), dst.astype(np.int64), dist[mask]


# ---------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------

def pristine_supercell(host: str, n):
    """``n`` = an int (n x n) or (na, nb)."""
    return HOSTS[host].supercell(n)


def config_from_sites(host: str, n, defects) -> dict:
    """The contract's ``config`` for ``defects`` = iterable of
    (site, removed symbol, added symbol or None) on the pristine supercell
    ``n`` (an int for n x n, or (na, nb)).  Nothing here assumes a square or
    hexagonal cell: the lattice rows are the supercell's a and b."""
    atoms = pristine_supercell(host, n)
    pos = atoms.get_positions()
    numbers = atoms.get_atomic_numbers()
    out = []
    for site, removed, added in defects:
        z_old = int(numbers[site])
        if z_old != atomic_numbers[removed]:
            raise ValueError(f"{host} {n}x{n} site {site} holds Z={z_old}, "
                             f"not {removed}")
        out.append({"zOld": z_old,
                    "zNew": 0 if added is None else int(atomic_numbers[added]),
                    "position": [float(x) for x in pos[site]]})
    return {
        "host": host,
        "lattice": [[float(x) for x in row] for row in atoms.cell.array],
        "pristineSites": len(atoms),
        # Mean z of all pristine atoms: the metal plane of 2H-MX2, the plane
        # of hBN, the middle of the M-M dimers of GaSe/InSe, the middle of
        # the puckered BP layer (all these layers are mirror- or
        # inversion-symmetric about it).
        "zMid": float(pos[:, 2].mean()),
        "defects": out,
    }


def config_from_sample(cfg) -> dict:
    """From a ``sample.Config``."""
    return config_from_sites(cfg.host, cfg.size, [(d.site, d.removed, d.added)
                                                   for d in cfg.defects])


def config_from_record(rec: dict, check: bool = True) -> dict:
    """From a dataset record; ``check`` verifies that the rebuilt pristine
    cell, minus the record's vacancies and with its substitutions, is the
    structure stored in the record (to 1e-4 Å)."""
    n = tuple(int(x) for x in rec["supercell"][:2])
    cfg = config_from_sites(rec["host"], n, [(d["site"], d["removed"],
                                              d["added"]) for d in rec["defects"]])
    if check and "positions" in rec:
        atoms = pristine_supercell(rec["host"], n)
        symbols = atoms.get_chemical_symbols()
        for d in rec["defects"]:
            if d["added"] is not None:
                symbols[d["site"]] = d["added"]
        gone = {d["site"] for d in rec["defects"] if d["added"] is None}
        keep = [i for i in range(len(atoms)) if i not in gone]
        want_pos = atoms.get_positions()[keep]
        want_sym = [symbols[i] for i in keep]
        got_pos = np.asarray(rec["positions"], dtype=np.float64)
        if (want_sym != list(rec["species"]) or got_pos.shape != want_pos.shape
                or np.abs(got_pos - want_pos).max() > 1e-4
                or np.abs(np.asarray(rec["cell"]) - atoms.cell.array).max() > 1e-4):
            raise ValueError(f"record {rec.get('id')}: stored structure does "
                             f"not match the rebuilt pristine cell + defects")
    return cfg


# ---------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------

def sparse_graph(config: dict) -> dict:
    """The sparse defect graph of REPRESENTATION.md from a ``config``."""
    defects = config["defects"]
    if not defects:
        raise ValueError("a configuration needs at least one defect")
    z_mid = float(config["zMid"])
    pos = np.array([d["position"] for d in defects], dtype=np.float64)
    nodes = np.stack([
        np.concatenate([onehot_z(int(d["zNew"])), onehot_z(int(d["zOld"])),
                        [(p[2] - z_mid) / LAYER_SCALE]])
        for d, p in zip(defects, pos)])
    src, dst, dist = periodic_edges(pos, np.asarray(config["lattice"]),
                                    SPARSE_CUTOFF)
    state = np.concatenate([onehot_host(config["host"]),
                            [100.0 * len(defects) / config["pristineSites"]]])
    return {"nodes": nodes.astype(np.float32), "src": src, "dst": dst,
            "dist": dist.astype(np.float32), "state": state.astype(np.float32),
            # exact (float64) values, for the fixtures
            "nodes64": nodes, "dist64": dist, "state64": state}


def full_graph_from_atoms(host: str, atoms, z_mid: float) -> dict:
    """All-atom graph: onehot16(Z) ++ [(z - zMid)/3] per atom, edges within
    5 Å (in-plane periodic), state = host one-hot ++ [0]."""
    pos = atoms.get_positions()
    nodes = np.stack([np.concatenate([onehot_z(int(z)),
                                      [(p[2] - z_mid) / LAYER_SCALE]])
                      for z, p in zip(atoms.get_atomic_numbers(), pos)])
    src, dst, dist = periodic_edges(pos, atoms.cell.array, FULL_CUTOFF)
    state = np.concatenate([onehot_host(host), [0.0]])
    return {"nodes": nodes.astype(np.float32), "src": src, "dst": dst,
            "dist": dist.astype(np.float32), "dist64": dist,
            "state": state.astype(np.float32)}


def full_graph_from_record(rec: dict) -> dict:
    """Full graph of the defect structure stored in the record (zMid from the
    rebuilt pristine cell, so vacancies do not shift the layer feature)."""
    from ase import Atoms
    n = tuple(int(x) for x in rec["supercell"][:2])
    z_mid = float(pristine_supercell(rec["host"], n).get_positions()[:, 2].mean())
    atoms = Atoms(rec["species"], positions=rec["positions"], cell=rec["cell"],
                  pbc=rec.get("pbc", (True, True, False)))
    return full_graph_from_atoms(rec["host"], atoms, z_mid)


def graph_to_json(g: dict) -> dict:
    """The fixture form of a graph: exact float64 values (the model itself
    reads them as float32)."""
    return {"nodes": [[float(x) for x in row] for row in g["nodes64"]],
            "src": [int(x) for x in g["src"]],
            "dst": [int(x) for x in g["dst"]],
            "dist": [float(x) for x in g["dist64"]],
            "state": [float(x) for x in g["state64"]]}


def usable(rec: dict) -> bool:
    """A record with labels we can train on (gap may still be None)."""
    return ("error" not in rec and rec.get("formation_energy_per_site")
            is not None and rec.get("defects"))


if __name__ == "__main__":
    # Summary of the graphs of the current dataset.
    from defects.store import load_dataset
    path = os.path.join(HERE, "data", "dft.jsonl")
    recs = [r for r in load_dataset(path).values() if usable(r)]
    print(f"{path}: {len(recs)} usable records")
    for r in recs:
        g = sparse_graph(config_from_record(r))
        f = full_graph_from_record(r)
        print(f"{r['id']}: sparse N={len(g['nodes'])} E={len(g['src'])} | "
              f"full N={len(f['nodes'])} E={len(f['src'])}")
