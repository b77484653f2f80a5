"""Evaluate a trained CDVAE like the paper's generation task and write the
table into ``models/RESULTS.md`` (section "cdvae") and
``results/<dataset>.json``.

    cd models && /usr/bin/python3 -m cdvae.evaluate --dataset perov_5 --n 1000

Samples ``--n`` crystals by annealed Langevin dynamics (sample.py), then
computes (metrics.py) validity, coverage against the held-out test split and
the Wasserstein distances of density and number of elements. The same
metrics for the validation split's real crystals are printed beside them:
what a perfect generator of this distribution would score with these
fingerprints and thresholds.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

from cdvae import data, metrics
from cdvae.sample import DEFAULT_STEP_LR, DEFAULT_STEPS_PER_LEVEL, sample
from cdvae.train import checkpoint_path, model_from_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# Xie et al., "Crystal Diffusion Variational Autoencoder for Periodic Material
# Generation", ICLR 2022 (arXiv:2110.06197), Table 3 (generation), CDVAE rows:
# validity % (struct, comp), COV-R %, COV-P %, W(density), W(#elements).
# Quoted from memory (the paper is not reachable from this machine): verify.
PAPER = {
    "perov_5": {"struct": 100.0, "comp": 98.59, "cov_r": 99.45, "cov_p": 98.46,
                "w_density": 0.1258, "w_elements": 0.0628},
    "carbon_24": {"struct": 100.0, "comp": None, "cov_r": 99.80, "cov_p": 83.08,
                  "w_density": 0.1407, "w_elements": None},
}


def describe(crystals: list[dict]) -> dict:
    """Structures, validity and fingerprints of a list of crystal dicts."""
    out = {"struct": [], "comp": [], "density": [], "n_elem": [], "fp_s": [], "fp_c": []}
    for c in crystals:
        s = metrics.structure(c["lengths"], c["angles"], c["frac"], c["numbers"])
        sv = metrics.structural_valid(s)
        out["struct"].append(sv)
        out["comp"].append(metrics.compositional_valid(c["numbers"]))
        out["density"].append(float(s.density) if s.volume > 0.1 else math.nan)
        out["n_elem"].append(len(set(c["numbers"])))
        out["fp_s"].append(metrics.rdf_fingerprint(s) if sv else np.full(metrics.RDF_BINS, np.nan))
        out["fp_c"].append(metrics.composition_fingerprint(c["numbers"]))
    for k in out:
        out[k] = np.array(out[k])
    return out


def as_dicts(crystals: list[data.Crystal]) -> list[dict]:
    return [{"lengths": c.lengths.tolist(), "angles": c.angles.tolist(), "frac": c.frac.tolist(),
             "numbers": c.numbers.tolist()} for c in crystals]


def scores(gen: dict, ref: dict, t_s: float, t_c: float, c_mean, c_std) -> dict:
    valid = gen["struct"] & gen["comp"]
    gs, gc = gen["fp_s"][valid], (gen["fp_c"][valid] - c_mean) / c_std
    rs, rc = ref["fp_s"], (ref["fp_c"] - c_mean) / c_std
    cov_r, cov_p = metrics.coverage(gs, gc, rs, rc, t_s, t_c)
    return {
        "n": int(len(valid)), "struct": 100 * gen["struct"].mean(), "comp": 100 * gen["comp"].mean(),
        "valid": 100 * valid.mean(), "cov_r": 100 * cov_r, "cov_p": 100 * cov_p,
        "w_density": metrics.wasserstein(gen["density"][valid], ref["density"]),
        "w_elements": metrics.wasserstein(gen["n_elem"][valid], ref["n_elem"]),
    }


def fmt(v, digits=2):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="perov_5")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2022)
    p.add_argument("--steps-per-level", type=int, default=DEFAULT_STEPS_PER_LEVEL)
    p.add_argument("--step-lr", type=float, default=DEFAULT_STEP_LR)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reference", choices=("test", "val"), default="test",
                   help="split to compare with: tune sampling settings against val, report against test")
    p.add_argument("--note", default="", help="how the sampling settings were chosen (goes into the table)")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    sp = data.splits(data.load(args.dataset, verbose=False))
    ck = torch.load(checkpoint_path(args.dataset))
    model = model_from_checkpoint(ck)
    t0 = time.perf_counter()
    gen_crystals = sample(model, args.n, args.seed, args.steps_per_level, args.step_lr)
    sample_s = time.perf_counter() - t0
    print(f"sampled {args.n} in {sample_s:.1f} s", flush=True)

    # `test` is the reference the samples are compared with, `val` the other
    # held-out split: real crystals that show what a perfect generator scores.
    other = "val" if args.reference == "test" else "test"
    test = describe(as_dicts(sp[args.reference]))
    val = describe(as_dicts(sp[other]))
    gen = describe(gen_crystals)
    # composition fingerprints standardised on the test set (CDVAE's CompScaler idea)
    c_mean, c_std = test["fp_c"].mean(0), test["fp_c"].std(0) + 1e-8
    t_s = float(np.percentile(metrics.nearest(val["fp_s"], test["fp_s"]), 90))
    t_c = float(np.percentile(metrics.nearest((val["fp_c"] - c_mean) / c_std,
                                              (test["fp_c"] - c_mean) / c_std), 90))
    rows = {"model": scores(gen, test, t_s, t_c, c_mean, c_std),
            "val_crystals": scores(val, test, t_s, t_c, c_mean, c_std)}
    for k, r in rows.items():
        print(k, json.dumps({a: (round(b, 4) if isinstance(b, float) else b) for a, b in r.items()}))
    if args.no_write:
        return 0
    if args.reference != "test":
        raise SystemExit("results are written only against the test split")

    result = {
        "dataset": args.dataset, "date": _dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   f"{args.threads} thread(s)",
        "epochs": ck["epoch"], "train_hours": ck["train_seconds"] / 3600, "best_val": ck["best_val"],
        "sizes": ck["sizes"], "split_rule": data.SPLIT_RULE,
        "sampling": {"n": args.n, "seed": args.seed, "steps_per_level": args.steps_per_level,
                     "levels": model.cfg.num_noise_levels, "step_lr": args.step_lr,
                     "seconds": sample_s},
        "thresholds": {"struct": t_s, "comp": t_c}, "rows": rows, "paper": PAPER.get(args.dataset),
        "note": args.note,
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{args.dataset}.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    write_markdown()
    return 0


def write_markdown() -> None:
    from mlcore.results_md import update_section
    lines = ["## Crystal generation (CDVAE)", "",
             "Written by `models/cdvae/evaluate.py` from the checkpoints in "
             "`models/cdvae/checkpoints/`. Generation metrics of Xie et al. (ICLR 2022), "
             "computed on the held-out **test** split of our own split "
             "(the original train splits are not available; see `models/cdvae/data.py`). "
             "Validity: % of all samples; coverage and Wasserstein distances: valid samples "
             "against the test crystals. **Our fingerprints and coverage thresholds differ "
             "from the paper's** (no matminer/SMACT here; `models/cdvae/metrics.py`), so COV "
             "is comparable with the row \"real validation crystals\" (what a perfect generator "
             "would score here), not with the paper's column. The paper's numbers are from "
             "its Table 3 (10,000 samples, 100 Langevin steps per noise level), quoted from "
             "memory without access to the paper on this machine: check them against it.", ""]
    for name in sorted(os.listdir(RESULTS)) if os.path.isdir(RESULTS) else []:
        if not name.endswith(".json"):
            continue
        r = json.load(open(os.path.join(RESULTS, name)))
        s = r["sampling"]
        lines += [f"### {r['dataset']}", "",
                  f"{r['date']}, {r['machine']}. Model: {r['epochs']} epochs "
                  f"({r['train_hours']:.2f} h of training), best validation loss "
                  f"{r['best_val']:.3f}; split {r['sizes']}. Sampling: {s['n']} crystals, seed "
                  f"{s['seed']}, {s['levels']} noise levels x {s['steps_per_level']} steps, "
                  f"step_lr {s['step_lr']:g}, {s['seconds']:.0f} s. Coverage thresholds "
                  f"(90th percentile of val -> test nearest distances): structure "
                  f"{r['thresholds']['struct']:.3f}, composition {r['thresholds']['comp']:.3f}."
                  + (f" {r['note']}" if r.get("note") else ""), "",
                  "| | valid struct % | valid comp % | COV-R % | COV-P % | W density (g/cm³) | W #elements |",
                  "|---|---|---|---|---|---|---|"]
        for label, key in (("this project's CDVAE", "model"), ("real validation crystals", "val_crystals")):
            m = r["rows"][key]
            lines.append(f"| {label} | {fmt(m['struct'])} | {fmt(m['comp'])} | {fmt(m['cov_r'])} | "
                         f"{fmt(m['cov_p'])} | {fmt(m['w_density'], 4)} | {fmt(m['w_elements'], 4)} |")
        if r.get("paper"):
            m = r["paper"]
            lines.append(f"| CDVAE, paper (Table 3; other fingerprints) | {fmt(m['struct'])} | "
                         f"{fmt(m['comp'])} | {fmt(m['cov_r'])} | {fmt(m['cov_p'])} | "
                         f"{fmt(m['w_density'], 4)} | {fmt(m['w_elements'], 4)} |")
        lines.append("")
    update_section("cdvae", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
