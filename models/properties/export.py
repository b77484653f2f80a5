"""Gather the trained members, score the ensemble, and export it for the app.

    cd models && /usr/bin/python3 -m properties.export

Reads ``checkpoints/member-*.pt`` (``train.py``; each member's best epoch on
the validation split) and writes

* ``export/megnet-properties.json`` + ``.bin``: the ensemble in the
  ``latticelab-megnet/2`` format (``mlcore/weights.py``), representation
  ``crystal-full/1`` (``graphs.py``), with what the app needs to say when a
  structure is outside the training data (elements, largest cell);
* ``export/megnet-properties-trunk.onnx``: the members' encoders and blocks
  as one ONNX graph for onnxruntime-web's WASM provider (``export_trunk.py``);
* ``fixtures/crystal-graphs.json``: a few crystals (triclinic, one atom, 50+
  atoms, a slab with vacuum), their graphs and the ensemble's outputs, which
  the TypeScript CPU reference and the WGSL kernels must reproduce;
* ``results/ensemble.json`` and the ``properties`` section of
  ``models/RESULTS.md``: test and validation MAE per target and subset,
  the baselines of ``baselines.py`` beside them, and how often the error fell
  within 2x the members' spread.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time

import numpy as np
import torch

from mlcore.megnet import EnsembleGraph, MEGNet
from mlcore.results_md import update_section
from mlcore.weights import read_weights, write_weights

from .data import HERE, SOURCES, SPLIT_SALT, TARGET_UNITS, TARGETS
from .graphs import MAX_Z, STATE_IN, load, neighbor_edges, node_features, restrict
from .train import CHECKPOINTS, Batches, predict

EXPORT = os.path.join(HERE, "export")
NAME = "megnet-properties"
FIXTURES = os.path.join(HERE, "fixtures", "crystal-graphs.json")
RESULTS = os.path.join(HERE, "results")
REPRESENTATION = "crystal-full/1"
#: Manifest target names: what and in which unit.
TARGET_NAMES = ["formation_energy_eV_per_atom", "band_gap_eV", "energy_above_hull_eV_per_atom"]
SPLIT_RULE = (f"sha1('{SPLIT_SALT}:' + material_id)[:8] as int mod 100: "
              "<80 train, <90 val, else test")


def load_members(folder: str = CHECKPOINTS):
    """(models, mean, std, checkpoints) of every member, in seed order."""
    paths = sorted(glob.glob(os.path.join(folder, "member-*.pt")),
                   key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    if not paths:
        raise SystemExit(f"no checkpoints in {folder}: run properties.train first")
    models, cks = [], []
    for p in paths:
        ck = torch.load(p)
        m = MEGNet(**ck["shape"])
        m.load_state_dict(ck["best_model"])
        models.append(m.eval())
        cks.append(ck)
    mean, std = cks[0]["mean"], cks[0]["std"]
    for ck in cks[1:]:
        if ck["shape"] != cks[0]["shape"] or not np.allclose(ck["mean"], mean):
            raise SystemExit("members differ in shape or normalisation")
    return models, np.asarray(mean), np.asarray(std), cks


def spread_stats(each: np.ndarray, y: np.ndarray) -> dict:
    """Per target: mean spread (std over members, ddof 0, as the app shows),
    the MAE of the mean, and the share of errors within 1x / 2x the spread."""
    mean, sd = each.mean(0), each.std(0)
    out = {}
    for t, name in enumerate(TARGETS):
        ok = np.isfinite(y[:, t])
        err = np.abs(mean[ok, t] - y[ok, t])
        out[name] = {"meanSpread": float(sd[ok, t].mean()), "mae": float(err.mean()),
                     "within1": float((err <= sd[ok, t]).mean()),
                     "within2": float((err <= 2 * sd[ok, t]).mean()), "n": int(ok.sum())}
    return out


def evaluate(models, mean, std, data) -> dict:
    """Per split: each member's predictions, the ensemble's MAE per target and
    subset, and the spread check."""
    out = {}
    for split in ("val", "test"):
        idx = np.nonzero(data["split"] == split)[0]
        each = np.stack([predict(m, Batches(data, idx), mean, std) for m in models])
        y = data["y"][idx]
        ens = each.mean(0)
        rows = []
        for subset in [s for s, _ in SOURCES] + ["all"]:
            sel = np.ones(len(idx), bool) if subset == "all" else data["subset"][idx] == subset
            for t, name in enumerate(TARGETS):
                ok = sel & np.isfinite(y[:, t])
                if not ok.any():
                    continue
                rows.append({"model": f"MEGNet, ensemble of {len(models)}", "split": split,
                             "target": name, "subset": subset,
                             "mae": float(np.abs(ens[ok, t] - y[ok, t]).mean()), "n": int(ok.sum())})
                for k, e in enumerate(each):
                    rows.append({"model": f"MEGNet, member {k + 1}", "split": split, "target": name,
                                 "subset": subset, "mae": float(np.abs(e[ok, t] - y[ok, t]).mean()),
                                 "n": int(ok.sum())})
        out[split] = {"rows": rows, "spread": spread_stats(each, y)}
    return out


# ---------------------------------------------------------------------------
# Fixtures for the TypeScript and WGSL parity tests
# ---------------------------------------------------------------------------

def _slab():
    """Monolayer 2H-MoS2 with 20 Å of vacuum (a = 3.19 Å, PBE; the
    defect pipeline's host, models/defects/hosts.py)."""
    from ase.build import mx2
    a = mx2("MoS2", "2H", a=3.19, thickness=3.19, vacuum=10.0)
    return np.array(a.cell), a.get_chemical_symbols(), a.get_scaled_positions()


def fixture_crystals(data: dict) -> list[dict]:
    """A triclinic test crystal, a one-atom cell, the largest test crystal
    (50+ atoms), a slab, and a crystal with an element beyond the one-hot."""
    from pymatgen.core import Structure

    from .data import read_rows
    rows = {r["id"]: r for r in read_rows()}
    test = np.nonzero(data["split"] == "test")[0]
    natoms = np.diff(data["node_offsets"])
    picks = []
    for i in test:
        s = Structure.from_str(rows[str(data["id"][i])]["cif"], fmt="cif")
        if s.lattice.is_orthogonal or len(s) > 12:
            continue
        a, b, c = s.lattice.angles
        if min(abs(a - 90), abs(b - 90), abs(c - 90), abs(a - 60), abs(b - 60), abs(c - 60), abs(a - 120), abs(c - 120)) > 3:
            picks.append(("triclinic", i))
            break
    one = [i for i in test if natoms[i] == 1]
    if one:
        picks.append(("one atom", one[0]))
    picks.append(("largest", test[np.argmax(natoms[test])]))
    out = []
    for label, i in picks:
        s = Structure.from_str(rows[str(data["id"][i])]["cif"], fmt="cif")
        out.append({"label": f"{label}: {data['id'][i]} {s.composition.reduced_formula}",
                    "lattice": s.lattice.matrix.tolist(), "species": [x.specie.symbol for x in s],
                    "frac": s.frac_coords.tolist()})
    lat, sp, fr = _slab()
    out.append({"label": "slab: MoS2 monolayer, 20 Å vacuum", "lattice": lat.tolist(),
                "species": sp, "frac": fr.tolist()})
    return out


def write_fixtures(models, mean, std, data, path: str = FIXTURES) -> None:
    from .graphs import atomic_number
    cutoff = float(models[0].shape["cutoff"])
    ens = EnsembleGraph(models, mean, std).eval()
    out = []
    for c in fixture_crystals(data):
        src, dst, dist = neighbor_edges(np.array(c["lattice"]), np.array(c["frac"]), cutoff)
        z = np.array([atomic_number(s) for s in c["species"]])
        with torch.no_grad():
            y, each = ens(torch.from_numpy(node_features(z)), torch.from_numpy(src).long(),
                          torch.from_numpy(dst).long(), torch.from_numpy(dist),
                          torch.zeros(1, STATE_IN))
        out.append({**c, "src": src.tolist(), "dst": dst.tolist(),
                    "dist": [float(x) for x in dist], "y": y[0].tolist(),
                    "members": each.tolist()})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"about": "written by models/properties/export.py: crystals, their 4 Å graphs "
                   "(pymatgen neighbour list) and the exported ensemble's outputs "
                   "(mean, then each member), de-normalised, in manifest target order",
                   "cutoff": cutoff, "targets": TARGET_NAMES, "crystals": out}, fh)
        fh.write("\n")


# ---------------------------------------------------------------------------
# RESULTS.md
# ---------------------------------------------------------------------------

def _table(rows: list[dict], split: str, models: list[str]) -> list[str]:
    subsets = [s for s, _ in SOURCES] + ["all"]
    lines = ["| model | target | " + " | ".join(subsets) + " |",
             "|---|---|" + "---:|" * len(subsets)]
    for m in models:
        for t in TARGETS:
            cells = []
            for s in subsets:
                hit = [r for r in rows if r["model"] == m and r["split"] == split
                       and r["target"] == t and r["subset"] == s]
                cells.append(f"{hit[0]['mae']:.3f} ({hit[0]['n']})" if hit else "—")
            if any(c != "—" for c in cells):
                lines.append(f"| {m} | {t} ({TARGET_UNITS[t]}) | " + " | ".join(cells) + " |")
    return lines


#: Readable names of baselines.py's rows.
BASELINE_NAMES = {
    "train_mean": "training-set mean",
    "composition_ridge": "element fractions + ridge",
    "composition_hgb": "element fractions + gradient boosting",
    "matgl_megnet_mp2018_eform": "matgl MEGNet-MP-2018.6.1-Eform (optimistic, see below)",
}


def write_results(ev: dict, baselines: dict | None, cks: list[dict], data: dict) -> None:
    rows = ev["test"]["rows"] + ev["val"]["rows"]
    if baselines:
        rows += [{**r, "model": BASELINE_NAMES.get(r["model"], r["model"])} for r in baselines["rows"]]
    names = list(dict.fromkeys(r["model"] for r in rows))
    ens_name = [n for n in names if n.startswith("MEGNet, ensemble")]
    member_names = [n for n in names if n.startswith("MEGNet, member")]
    others = [n for n in names if not n.startswith("MEGNet,")]
    counts = {s: {sp: int(((data["subset"] == s) & (data["split"] == sp)).sum())
                  for sp in ("train", "val", "test")} for s, _ in SOURCES}
    shape = cks[0]["shape"]
    lines = [
        "## Crystal properties: full-graph MEGNet (models/properties)",
        "",
        f"Written by `cd models && /usr/bin/python3 -m properties.export` on {time.strftime('%Y-%m-%d')}.",
        "",
        "**Data.** Materials Project crystals from `../shared/data/crystals/` "
        f"({len(data['id'])} distinct material_ids; a duplicate keeps its first subset in the order "
        "mp_20_pilot, mp_20_biternary, mpts_52). Split: " + SPLIT_RULE + ". Rows per subset "
        "(train / val / test): " + "; ".join(f"{s} {c['train']} / {c['val']} / {c['test']}"
                                             for s, c in counts.items()) + ". "
        "The band gap exists for the mp_20 subsets only; the numbers in brackets are the rows scored.",
        "",
        f"**Model.** MEGNet on the full periodic graph, cutoff {shape['cutoff']} Å, {shape['rbf']} Gaussians, "
        f"one-hot Z (1–{MAX_Z}), widths {shape['hidden']} → {shape['features']}, {shape['blocks']} blocks, "
        f"Set2Set {shape['set2setSteps']} steps; three outputs (eform, gap, ehull), masked L1 on "
        f"standardised targets; {len(cks)} members from seeds "
        + ", ".join(str(c["seed"]) for c in cks) + ", each the best epoch on val: "
        + "; ".join(f"seed {c['seed']} epoch {c['state'].get('best_epoch')} of {c['state']['epoch']} "
                    f"({c['state']['seconds'] / 60:.0f} min)" for c in cks) + "."
        + "".join(f" Seed {c['seed']} continued at lr {x['lr']:g} from epoch {x['epoch'] + 1}."
                  for c in cks for x in c["state"].get("lr_changes", [])),
        "",
        "### Test split, MAE (rows scored)",
        "",
        *_table(rows, "test", ens_name + others + member_names),
        "",
        "### Validation split, MAE",
        "",
        *_table(rows, "val", ens_name + others),
        "",
        "### The members' spread as an uncertainty (test split)",
        "",
        "| target | mean spread | MAE of the mean | error within 1x spread | within 2x |",
        "|---|---:|---:|---:|---:|",
    ]
    for t, s in ev["test"]["spread"].items():
        lines.append(f"| {t} ({TARGET_UNITS[t]}) | {s['meanSpread']:.3f} | {s['mae']:.3f} | "
                     f"{100 * s['within1']:.0f} % | {100 * s['within2']:.0f} % |")
    if baselines:
        lines += ["", "**Baselines** (`properties.baselines`, same split): the training-set mean; element "
                  "fractions (Z = 1–94) with ridge regression or scikit-learn's histogram gradient boosting, "
                  "hyperparameters chosen on val; and matgl's pretrained MEGNet-MP-2018.6.1-Eform "
                  "(`../shared/reference-models/matgl/`, forward re-implemented in PyTorch and run on our 4 Å "
                  "graphs). That model was trained on Materials Project 2018 data, which holds most of our test "
                  "crystals, so it is an optimistic reference, not a competitor; its errors are mostly a constant "
                  "shift per anion (e.g. +0.2 eV/atom for Se and Br compounds), consistent with MP's energy "
                  "corrections having changed since 2018. Its weights are not shipped."]
    update_section("properties", "\n".join(lines) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Export the crystal-property ensemble for the app.")
    ap.add_argument("--no-results", action="store_true", help="skip evaluation and RESULTS.md (weights and fixtures only)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    models, mean, std, cks = load_members()
    data5 = load(5.0)
    cutoff = float(models[0].shape["cutoff"])
    data = restrict(data5, cutoff) if cutoff < 5.0 else data5
    train = data["split"] == "train"
    natoms = np.diff(data["node_offsets"])
    train_nodes = np.concatenate([data["z"][data["node_offsets"][i]:data["node_offsets"][i + 1]]
                                  for i in np.nonzero(train)[0]])
    ev = None if args.no_results else evaluate(models, mean, std, data)
    training = {
        "dataset": "Materials Project subsets mp_20_pilot, mp_20_biternary, mpts_52 (../shared/data/crystals)",
        "split": SPLIT_RULE,
        "structures": int(train.sum()),
        "elements": sorted(int(z) for z in np.unique(train_nodes)),
        "maxAtoms": int(natoms[train].max()),
        "seeds": [int(c["seed"]) for c in cks],
        "epochs": [int(c["state"].get("best_epoch") or 0) for c in cks],
    }
    if ev:
        training["testMae"] = {n: ev["test"]["spread"][t]["mae"] for n, t in zip(TARGET_NAMES, TARGETS)}
        training["spread"] = {n: ev["test"]["spread"][t] for n, t in zip(TARGET_NAMES, TARGETS)}
    prefix = os.path.join(EXPORT, NAME)
    write_weights(models, prefix, {
        "name": NAME, "representation": REPRESENTATION, "targets": TARGET_NAMES,
        "normalization": {"mean": [float(x) for x in mean], "std": [float(x) for x in std]},
        "training": training,
    })
    # The app reads exactly what was written: check the round trip.
    back, _ = read_weights(prefix)
    write_fixtures(back, mean, std, data)
    from .export_trunk import write_trunk  # imports this module: not at the top
    trunk = write_trunk(prefix)
    print(f"wrote {prefix}.json/.bin ({len(models)} members), {trunk} and {FIXTURES}")
    if ev:
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "ensemble.json"), "w", encoding="utf-8") as fh:
            json.dump(ev, fh, indent=1)
        bpath = os.path.join(RESULTS, "baselines.json")
        baselines = None
        if os.path.exists(bpath):
            with open(bpath, encoding="utf-8") as fh:
                baselines = json.load(fh)
        write_results(ev, baselines, cks, data)
        for t, s in ev["test"]["spread"].items():
            print(f"test {t}: MAE {s['mae']:.4f} {TARGET_UNITS[t]}, within 2x spread {100 * s['within2']:.0f} %")


if __name__ == "__main__":
    main()
