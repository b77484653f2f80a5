"""Export a trained sparse MEGNet for the app (REPRESENTATION.md).

Writes, under ``models/defects/export/``:

* ``megnet-sparse.json`` + ``.bin``: the manifest and the tensors of every
  ensemble member as float32 little-endian, W stored [in, out] (the
  TypeScript convention), Set2Set LSTM as wIh [2F, 4F], wHh [F, 4F],
  b = bias_ih + bias_hh;
* ``megnet-sparse.onnx``: one graph in (``nodes`` [N, 33], ``src``/``dst``
  [E] int64, ``dist`` [E], ``state`` [1, 7]); out ``y`` [1, 2], the members'
  mean, and ``members`` [K, 2], each de-normalised, with N and E dynamic
  (opset 17, PyTorch 1.13 exporter);

and ``models/defects/fixtures/sparse-graphs.json``: fixed configurations, their
graphs and this ensemble's outputs (the mean and each member's), which the
TypeScript tests must reproduce.

``train.py`` calls :func:`export_all` with every sparse seed of both
variants (plain and pretrained; ``--export best``: one variant's): the app
averages them
(EXPERIMENTS.md: averaging seeds was the largest gain measured).  Run as a script, this file
re-exports the ONNX model and the fixtures from the weight files already in
``export/`` (e.g. after a change of the fixture list)::

    cd models && /usr/bin/python3 -m defects.export
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

from defects.featurize import config_from_sites, graph_to_json, sparse_graph
from defects.hosts import HOSTS
from mlcore import weights
from defects.references import host_band_edges, reference_potentials
from mlcore.megnet import EnsembleGraph, MEGNet
# named_tensors: the contract's tensor names and layouts (tests use it here).
from mlcore.weights import named_tensors  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT_DIR = os.path.join(HERE, "export")
FIXTURE_PATH = os.path.join(HERE, "fixtures", "sparse-graphs.json")
NAME = "megnet-sparse"
REPRESENTATION = "sparse-defect/1"
# The outputs, in order (train.py's TARGETS): formation energy per defect
# site, HOMO-LUMO gap, and the HOMO and LUMO relative to the pristine host's
# valence band maximum (train.py ``level``), all eV.
TARGETS = ["formation_energy_per_site_eV", "gap_eV", "homo_vbm_eV", "lumo_vbm_eV"]
OPSET = 17


# ---------------------------------------------------------------------------
# Weight files (the format and its reader/writer are mlcore.weights')
# ---------------------------------------------------------------------------

def write_weights(models: list[MEGNet], mean, std, training: dict,
                  prefix: str = os.path.join(EXPORT_DIR, NAME),
                  name: str = NAME) -> dict:
    """Write ``prefix.json`` + ``prefix.bin`` for the ensemble ``models`` (all
    of one shape; one model is an ensemble of one); returns the manifest.
    Member m's tensors carry ``"member": m`` and follow member m-1's.

    The defect model's own manifest fields are set here (representation,
    targets, normalisation, training facts, host lattice parameters);
    :func:`mlcore.weights.write_weights` adds the rest and the tensors."""
    return weights.write_weights(models, prefix, {
        "name": name,
        "representation": REPRESENTATION,
        "targets": TARGETS,
        "normalization": {"mean": [float(x) for x in mean],
                          "std": [float(x) for x in std]},
        "training": training,
        # In-plane lattice parameter (Å) of each host as trained: the app
        # rescales its own hosts to these before building the sparse graph.
        "hostLattice": {host: float(h.a) for host, h in HOSTS.items()},
        # The chemical potentials the labels use, so the app can shift E_f to others (issue 28).
        "referencePotentials": reference_potentials(),
        # The host's Γ-point band edges per supercell, the frame of the
        # predicted defect levels (the app's level diagram).
        "hostBandEdges": host_band_edges(),
    })


def read_weights(prefix: str = os.path.join(EXPORT_DIR, NAME)):
    """Rebuild the ensemble from ``prefix.json`` + ``.bin`` (format /1 or
    /2; by default the exported defect model).  Returns (list of MEGNets,
    manifest)."""
    return weights.read_weights(prefix)


# ---------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------

def graph_inputs(g: dict) -> tuple:
    return (torch.as_tensor(g["nodes"], dtype=torch.float32),
            torch.as_tensor(g["src"], dtype=torch.long),
            torch.as_tensor(g["dst"], dtype=torch.long),
            torch.as_tensor(g["dist"], dtype=torch.float32),
            torch.as_tensor(g["state"], dtype=torch.float32).reshape(1, -1))


def export_onnx(models: list[MEGNet], mean, std,
                path: str = os.path.join(EXPORT_DIR, NAME + ".onnx")) -> str:
    """Trace the ensemble's single-graph forward on a 3-defect example with
    edges; N and E are dynamic axes.  Checked with onnx.checker."""
    import onnx
    ensemble = EnsembleGraph(models, mean, std).eval()
    example = sparse_graph(config_from_sites(
        "MoS2", 4, [(0, "Mo", None), (1, "S", "Se"), (13, "S", None)]))
    torch.onnx.export(
        ensemble, graph_inputs(example), path,
        input_names=["nodes", "src", "dst", "dist", "state"],
        output_names=["y", "members"],
        dynamic_axes={"nodes": {0: "N"}, "src": {0: "E"}, "dst": {0: "E"},
                      "dist": {0: "E"}},
        opset_version=OPSET, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    return path


def onnx_outputs(path: str, g: dict) -> tuple[tuple[np.ndarray, np.ndarray], str]:
    """Run the ONNX file on one graph: onnxruntime when importable, else the
    numpy interpreter.  Returns ((y, members), which runtime)."""
    feeds = {k: v.numpy() for k, v in zip(
        ["nodes", "src", "dst", "dist", "state"], graph_inputs(g))}
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        y, members = sess.run(["y", "members"], feeds)
        return (y, members), "onnxruntime"
    except ImportError:
        from mlcore import onnx_numpy
        y, members = onnx_numpy.run(path, feeds)[:2]
        return (y, members), "onnx_numpy"


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

#: (name, host, n, [(site, removed, added)]).  Site order in a cell is
#: metal, top chalcogen, bottom chalcogen (hosts.py); indices 3k, 3k+1, 3k+2.
FIXTURE_CONFIGS = [
    ("MoS2 4x4 V_S (top), one defect, no edges", "MoS2", 4,
     [(1, "S", None)]),
    ("MoS2 4x4 V_Mo + V_S (bottom), neighbours 2.4 A apart", "MoS2", 4,
     [(0, "Mo", None), (2, "S", None)]),
    ("MoS2 5x5 W_Mo + Se_S (top) + V_S (bottom)", "MoS2", 5,
     [(0, "Mo", "W"), (31, "S", "Se"), (50, "S", None)]),
    ("MoS2 3x3 V_S, sees its own images (9.57 A)", "MoS2", 3,
     [(1, "S", None)]),
    ("MoS2 8x8 V_Mo, one defect, no edges", "MoS2", 8,
     [(0, "Mo", None)]),
    ("WSe2 4x4 Mo_W", "WSe2", 4, [(0, "W", "Mo")]),
    ("WSe2 5x5 V_Se (bottom) + S_Se (top)", "WSe2", 5,
     [(2, "Se", None), (37, "Se", "S")]),
    ("WSe2 4x4 V_W + V_Se + S_Se", "WSe2", 4,
     [(3, "W", None), (4, "Se", None), (26, "Se", "S")]),
]


def fixture_entries(models: list[MEGNet], mean, std) -> list[dict]:
    ensemble = EnsembleGraph(models, mean, std).eval()
    out = []
    for name, host, n, defects in FIXTURE_CONFIGS:
        config = config_from_sites(host, n, defects)
        g = sparse_graph(config)
        with torch.no_grad():
            y, each = ensemble(*graph_inputs(g))
        out.append({"name": name, "config": config, "graph": graph_to_json(g),
                    "output": [float(v) for v in y[0]],
                    "members": [[float(v) for v in row] for row in each]})
    return out


def write_fixtures(models: list[MEGNet], mean, std, path: str = FIXTURE_PATH) -> list:
    entries = fixture_entries(models, mean, std)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(entries, fh, indent=1, allow_nan=False)
        fh.write("\n")
    return entries


def check_onnx_against_torch(path: str, entries: list[dict]) -> float:
    """Largest |ONNX - PyTorch| over the fixtures (a zero-edge one included),
    the mean and every member."""
    worst = 0.0
    for e in entries:
        g = sparse_graph(e["config"])
        (y, each), runtime = onnx_outputs(path, g)
        worst = max(worst, float(np.abs(y[0] - np.array(e["output"])).max()),
                    float(np.abs(each - np.array(e["members"])).max()))
    print(f"[export] ONNX ({runtime}) vs PyTorch on {len(entries)} fixtures: "
          f"max |diff| = {worst:.2e}")
    return worst


def export_all(models: list[MEGNet], mean, std, training: dict) -> dict:
    """Weights + ONNX + fixtures for the ensemble ``models``; returns the
    manifest."""
    models = [m.eval() for m in models]
    manifest = write_weights(models, mean, std, training)
    back, _ = read_weights()
    onnx_path = export_onnx(back, mean, std)
    entries = write_fixtures(back, mean, std)
    worst = check_onnx_against_torch(onnx_path, entries)
    if worst > 1e-4:
        raise RuntimeError(f"ONNX differs from PyTorch by {worst}")
    print(f"[export] wrote {len(models)} members to {EXPORT_DIR}/{NAME}"
          f".json/.bin/.onnx and {FIXTURE_PATH}")
    return manifest


def main() -> int:
    torch.set_num_threads(1)
    models, manifest = read_weights()
    norm = manifest["normalization"]
    path = export_onnx(models, norm["mean"], norm["std"])
    entries = write_fixtures(models, norm["mean"], norm["std"])
    worst = check_onnx_against_torch(path, entries)
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
