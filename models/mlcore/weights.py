"""The ``latticelab-megnet/2`` weight files the app reads (the reader is
``src/core/graph/model-file.ts``; the contract is written out in
``models/defects/REPRESENTATION.md``).

A model is two files: ``NAME.json``, the manifest (shape, targets,
normalisation, training facts, and every tensor's name, shape, member and
offset) and ``NAME.bin``, the tensors as float32 little-endian one after the
other.  Tensor names follow the TypeScript ``MegnetWeights`` fields; W is
stored [in, out] (the TypeScript convention, the transpose of
``nn.Linear.weight``); Set2Set's LSTM as wIh [2F, 4F], wHh [F, 4F] and
b = bias_ih + bias_hh.  An ensemble (format /2) tags each tensor with its
member index; /1, one model without tags, is still read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os

import numpy as np
import torch

from .megnet import MEGNet

FORMAT = "latticelab-megnet/2"
#: /1 held one model and no "member" field; /2 adds ensemble members.
READABLE = ("latticelab-megnet/1", FORMAT)


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


def write_weights(models: list[MEGNet], prefix: str, manifest: dict) -> dict:
    """Write ``prefix.json`` + ``prefix.bin`` for the ensemble ``models`` (all
    of one shape; one model is an ensemble of one) and return the manifest.

    ``manifest`` holds the pipeline's own fields (name, representation,
    targets, normalization, training, ...); this adds format, created,
    shape, set2setSteps, members and tensors.  Member m's tensors carry
    ``"member": m`` and follow member m-1's."""
    if not models:
        raise ValueError("no models to write")
    for key in ("name", "representation", "targets", "normalization"):
        if key not in manifest:
            raise ValueError(f"the manifest needs {key!r}")
    d = os.path.dirname(prefix)
    if d:
        os.makedirs(d, exist_ok=True)
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
    out = {
        "format": FORMAT,
        "name": manifest["name"],
        "created": _dt.date.today().isoformat(),
        "representation": manifest["representation"],
        "shape": {k: (int(v) if float(v).is_integer() else float(v))
                  for k, v in model.shape.items()},
        "set2setSteps": model.set2set_steps,
        "members": len(models),
    }
    out.update({k: v for k, v in manifest.items() if k not in out})
    out["tensors"] = tensors
    with open(prefix + ".bin", "wb") as fh:
        fh.write(b"".join(blobs))
    with open(prefix + ".json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, allow_nan=False)
        fh.write("\n")
    return out


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


def read_weights(prefix: str):
    """Rebuild the ensemble from ``prefix.json`` + ``.bin`` (format /1 or
    /2).  Returns (list of MEGNets, manifest)."""
    with open(prefix + ".json", encoding="utf-8") as fh:
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
