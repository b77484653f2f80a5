#!/usr/bin/python3
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

    /usr/bin/python3 models/defects/export.py
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from featurize import config_from_sites, graph_to_json, sparse_graph  # noqa: E402
from megnet import EnsembleGraph, MEGNet  # noqa: E402
from hosts import HOSTS  # noqa: E402

EXPORT_DIR = os.path.join(HERE, "export")
FIXTURE_PATH = os.path.join(HERE, "fixtures", "sparse-graphs.json")
NAME = "megnet-sparse"
FORMAT = "latticelab-megnet/2"
#: /1 held one model and no "member" field; /2 adds ensemble members.
READABLE = ("latticelab-megnet/1", FORMAT)
TARGETS = ["formation_energy_per_site_eV", "gap_eV"]
OPSET = 17


# ---------------------------------------------------------------------------
# Weight files
# ---------------------------------------------------------------------------

def _mlp_tensors(prefix: str, mlp) -> list[tuple[str, np.ndarray]]:
    out = []
    for k, layer in enumerate(mlp.layers):
        out.append((f"{prefix}.{k}.w", layer.weight.detach().numpy().T))
        out.append((f"{prefix}.{k}.b", layer.bias.detach().numpy()))
    return out


def named_tensors(model: MEGNet) -> list[tuple[str, np.ndarray]]:
    """(contract name, array in the contract's layout), in file order."""
    t = []
    t += _mlp_tensors("nodeEncoder", model.nodeEncoder)
    t += _mlp_tensors("edgeEncoder", model.edgeEncoder)
    t += _mlp_tensors("stateEncoder", model.stateEncoder)
    for i, blk in enumerate(model.blocks):
        for part in ("edge", "node", "state"):
            t += _mlp_tensors(f"blocks.{i}.{part}", getattr(blk, part))
    for name in ("set2setNodes", "set2setEdges"):
        lstm = getattr(model, name).lstm
        t.append((f"{name}.wIh", lstm.weight_ih.detach().numpy().T))
        t.append((f"{name}.wHh", lstm.weight_hh.detach().numpy().T))
        t.append((f"{name}.b", (lstm.bias_ih + lstm.bias_hh).detach().numpy()))
    t += _mlp_tensors("readout", model.readout)
    return [(n, np.ascontiguousarray(a, dtype=np.float32)) for n, a in t]


def write_weights(models: list[MEGNet], mean, std, training: dict,
                  prefix: str = os.path.join(EXPORT_DIR, NAME),
                  name: str = NAME) -> dict:
    """Write ``prefix.json`` + ``prefix.bin`` for the ensemble ``models`` (all
    of one shape; one model is an ensemble of one); returns the manifest.
    Member m's tensors carry ``"member": m`` and follow member m-1's."""
    if not models:
        raise ValueError("no models to write")
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    tensors, offset, blobs = [], 0, []
    for m, model in enumerate(models):
        if model.shape != models[0].shape:
            raise ValueError("ensemble members differ in shape")
        for tname, arr in named_tensors(model):
            tensors.append({"name": tname, "member": m, "shape": list(arr.shape),
                            "offset": offset})
            blobs.append(arr.astype("<f4").tobytes())
            offset += arr.size
    model = models[0]
    manifest = {
        "format": FORMAT,
        "name": name,
        "created": _dt.date.today().isoformat(),
        "representation": "sparse-defect/1",
        "shape": {k: (int(v) if float(v).is_integer() else float(v))
                  for k, v in model.shape.items()},
        "set2setSteps": model.set2set_steps,
        "members": len(models),
        "targets": TARGETS,
        "normalization": {"mean": [float(x) for x in mean],
                          "std": [float(x) for x in std]},
        "training": training,
        # In-plane lattice parameter (Å) of each host as trained: the app
        # rescales its own hosts to these before building the sparse graph.
        "hostLattice": {name: float(h.a) for name, h in HOSTS.items()},
        "tensors": tensors,
    }
    with open(prefix + ".bin", "wb") as fh:
        fh.write(b"".join(blobs))
    with open(prefix + ".json", "w") as fh:
        json.dump(manifest, fh, indent=1, allow_nan=False)
        fh.write("\n")
    return manifest


def _member_model(manifest: dict, arrays: dict) -> MEGNet:
    """One MEGNet from its tensors by contract name (the app's round trip)."""
    model = MEGNet(**manifest["shape"], set2setSteps=manifest["set2setSteps"])
    state = {}
    for key in model.state_dict():
        parts = key.split(".")
        if key == "mu":  # the basis centres are not weights
            continue
        if parts[-2] == "lstm":  # set2setX.lstm.{weight_ih,...}
            s2s, what = parts[0], parts[-1]
            if what == "weight_ih":
                state[key] = arrays[f"{s2s}.wIh"].T
            elif what == "weight_hh":
                state[key] = arrays[f"{s2s}.wHh"].T
            elif what == "bias_ih":
                state[key] = arrays[f"{s2s}.b"]
            else:  # bias_hh: folded into b
                state[key] = np.zeros_like(arrays[f"{s2s}.b"])
        else:  # prefix.layers.k.{weight,bias}
            i = parts.index("layers")
            tname = ".".join(parts[:i] + [parts[i + 1]])
            a = arrays[tname + (".w" if parts[-1] == "weight" else ".b")]
            state[key] = a.T if parts[-1] == "weight" else a
    state = {k: torch.tensor(np.ascontiguousarray(v)) for k, v in state.items()}
    state["mu"] = model.mu
    model.load_state_dict(state)
    return model.eval()


def read_weights(prefix: str = os.path.join(EXPORT_DIR, NAME)):
    """Rebuild the ensemble from ``prefix.json`` + ``.bin`` (format /1 or
    /2).  Returns (list of MEGNets, manifest)."""
    with open(prefix + ".json") as fh:
        manifest = json.load(fh)
    if manifest.get("format") not in READABLE:
        raise ValueError(f"unknown model format {manifest.get('format')!r}")
    flat = np.fromfile(prefix + ".bin", dtype="<f4")
    members = [{} for _ in range(manifest.get("members", 1))]
    for t in manifest["tensors"]:
        n = int(np.prod(t["shape"]))
        members[t.get("member", 0)][t["name"]] = \
            flat[t["offset"]:t["offset"] + n].reshape(t["shape"])
    return [_member_model(manifest, a) for a in members], manifest


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
        import onnx_numpy
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
