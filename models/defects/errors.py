"""Where a finished training run goes wrong, from its files alone (no
training): how each export candidate would have scored on val and on test,
and which test structures the exported ensemble misses most.

    cd models
    /usr/bin/python3 -m defects.errors            # the last run
    /usr/bin/python3 -m defects.errors --worst 15 --target gap_eV

Reads ``export/results.json`` (split ids, normalisation, which seeds were
exported), ``export/predictions.jsonl`` (each seed's val and test
predictions, written by train.py since session 14) and the dataset for the
labels.  The dataset only grows (records are appended, never rewritten), so
the ids of an old run are still there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as train.py

import numpy as np  # noqa: E402

from defects.spin_labels import odd_electrons  # noqa: E402
from defects.train import (ALL_SPARSE, DATASET, PREDICTIONS_JSON,  # noqa: E402
                           RESULTS_JSON, TARGETS, ensemble_val_loss, load,
                           masked_mae)


def read_predictions(path: str = PREDICTIONS_JSON) -> dict[tuple[str, int], dict]:
    """(variant, seed) -> {"val": [n, T], "test": [n, T]} (null -> NaN)."""
    out = {}
    with open(path) as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                out[(r["variant"], r["seed"])] = {
                    # [n, targets]; runs before the defect levels saved 2.
                    k: (np.array(r[k], dtype=float).reshape(len(r[k]), -1)
                        if r[k] else np.zeros((0, len(TARGETS))))
                    for k in ("val", "test")}
    return out


def candidates(preds: dict, sparse_variants: list[str]) -> dict[str, list]:
    """Export candidates: each sparse variant's seeds, and all of them."""
    out = {v: [k for k in preds if k[0] == v] for v in sparse_variants}
    out = {v: ks for v, ks in out.items() if ks}
    if len(out) > 1:
        out[ALL_SPARSE] = [k for ks in out.values() for k in ks]
    return out


def rule_table(preds, cands, val, test, mean, std) -> list[dict]:
    """Per candidate: val loss of its seeds' mean (what the rules rank by)
    and the test MAE of that mean, per target."""
    rows = []
    for name, keys in cands.items():
        v = [preds[k]["val"] for k in keys]
        t = np.mean([preds[k]["test"] for k in keys], axis=0)
        y = np.stack([d["y"] for d in test])
        rows.append({"candidate": name, "seeds": len(keys),
                     "valLoss": ensemble_val_loss(v, val, mean, std),
                     **{tg: masked_mae(t[:, i], y[:, i]) for i, tg in enumerate(TARGETS[:y.shape[1]])}})
    return rows


def worst(test, mean_pred, spread, target: str, n: int) -> list[dict]:
    """The ``n`` test structures with the largest |error| on ``target``."""
    i = TARGETS.index(target)
    rows = []
    for d, p, s in zip(test, mean_pred, spread):
        if np.isfinite(d["y"][i]):
            rec = d["rec"]
            rows.append({"id": d["id"], "supercell": "x".join(map(str, rec["supercell"][:2])),
                         "defects": " ".join(x["label"] for x in rec["defects"]),
                         "label": float(d["y"][i]), "pred": float(p[i]),
                         "err": float(p[i] - d["y"][i]), "spread": float(s[i])})
    return sorted(rows, key=lambda r: -abs(r["err"]))[:n]


def by_host_parity(test: list[dict], pred: np.ndarray, label: np.ndarray) -> list[dict]:
    """Per host (test order): MAE with its 90 % bootstrap interval, max error, the MAE and count of the even-
    and of the odd-electron structures, and the labels' mean absolute
    deviation (what predicting the host's mean would score, on test)."""
    odd = np.array([odd_electrons(d["rec"]) for d in test])
    err = np.abs(pred - label)

    def part(mask):
        return (float(err[mask].mean()), int(mask.sum())) if mask.any() else None
    rows = []
    for h in dict.fromkeys(d["host"] for d in test):
        sel = np.array([d["host"] == h for d in test]) & np.isfinite(label)
        # 90 % bootstrap interval of the host's MAE: with 10-20 test
        # structures a host's MAE is itself uncertain by tens of percent.
        e = err[sel]
        boot = np.random.default_rng(0).choice(e, (2000, len(e))).mean(1)
        rows.append({"host": h, "n": int(sel.sum()), "mae": float(e.mean()),
                     "mae90": (float(np.percentile(boot, 5)), float(np.percentile(boot, 95))),
                     "max": float(e.max()), "even": part(sel & ~odd), "odd": part(sel & odd),
                     "spread": float(np.abs(label[sel] - label[sel].mean()).mean())})
    return rows


def fmt_mae(part) -> str:
    return "   -   (0)" if part is None else f"{part[0]:.3f} ({part[1]})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DATASET)
    ap.add_argument("--results", default=RESULTS_JSON)
    ap.add_argument("--predictions", default=PREDICTIONS_JSON)
    ap.add_argument("--target", default=TARGETS[1], choices=TARGETS)
    ap.add_argument("--worst", type=int, default=10)
    args = ap.parse_args(argv)
    if not os.path.exists(args.predictions):
        print(f"no {args.predictions}: it is written by train.py since session 14; retrain first")
        return 1
    with open(args.results) as fh:
        res = json.load(fh)
    by_id = {d["id"]: d for d in load(args.data, full=False)}
    missing = [i for i in res["val_ids"] + res["test_ids"] if i not in by_id]
    if missing:
        print(f"{len(missing)} ids of the run are not in {args.data} (e.g. {missing[0]})")
        return 1
    val = [by_id[i] for i in res["val_ids"]]
    test = [by_id[i] for i in res["test_ids"]]
    mean = np.array(res["normalization"]["mean"])
    std = np.array(res["normalization"]["std"])
    preds = read_predictions(args.predictions)
    exported = res["exported"]
    sparse = list(exported["selection"])  # the sparse variants, training order

    print("Export candidates (val loss of the seeds' mean; test MAE in eV):")
    for r in rule_table(preds, candidates(preds, sparse), val, test, mean, std):
        mark = " <- exported" if r["candidate"] == exported["variant"] else ""
        print(f"  {r['candidate']:<55} {r['seeds']} seeds  val {r['valLoss']:.4f}  "
              + "  ".join(f"{t} {r[t]:.3f}" for t in TARGETS) + mark)

    members = candidates(preds, sparse).get(exported["variant"], [])
    if not members:
        print(f"the exported candidate {exported['variant']!r} has no predictions")
        return 1
    each = np.stack([preds[k]["test"] for k in members])
    m, s = each.mean(0), each.std(0)
    y = np.stack([d["y"] for d in test])
    i = TARGETS.index(args.target)
    print(f"\n{args.target}, exported ensemble, test MAE by host; split by electron "
          "count (odd: a half-filled level in the spin-restricted labels); spread = "
          "the labels' mean absolute deviation from their mean:")
    for r in by_host_parity(test, m[:, i], y[:, i]):
        print(f"  {r['host']:<5} n={r['n']:>3}  MAE {r['mae']:.3f} [{r['mae90'][0]:.3f}-{r['mae90'][1]:.3f}]  max {r['max']:.3f}  "
              f"even {fmt_mae(r['even'])}  odd {fmt_mae(r['odd'])}  label spread {r['spread']:.3f}")
    print(f"\nThe {args.worst} largest errors on {args.target} (eV):")
    print(f"  {'id':<12} {'cell':<5} {'defects':<28} {'label':>7} {'pred':>7} {'err':>7} {'spread':>7}")
    for r in worst(test, m, s, args.target, args.worst):
        print(f"  {r['id']:<12} {r['supercell']:<5} {r['defects']:<28} {r['label']:7.3f} "
              f"{r['pred']:7.3f} {r['err']:+7.3f} {r['spread']:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
