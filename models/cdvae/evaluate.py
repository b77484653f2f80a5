"""Evaluate a trained CDVAE like the paper's generation task and write the
table into ``models/RESULTS.md`` (section "cdvae") and
``results/<dataset>.json``.

    cd models && /usr/bin/python3 -m cdvae.evaluate --dataset perov_5 --n 1000

Samples ``--n`` crystals by annealed Langevin dynamics (sample.py), then
computes (metrics.py) the paper's metrics the way CDVAE's
``scripts/compute_metrics.py`` does: validity (structure; SMACT composition),
coverage against the held-out test split with CrystalNN / magpie
fingerprints and the paper's fixed cutoffs, and the Wasserstein distances of
density and number of elements. The same metrics for the validation split's
real crystals are printed beside them: the ceiling a perfect generator of
this distribution would reach. CrystalNN is slow (25-35 ms a site), so the
fingerprints of the real crystals are cached in ``models/cdvae/cache/``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

from cdvae import data, latent_prior, metrics
from cdvae.sample import DEFAULT_STEP_LR, DEFAULT_STEPS_PER_LEVEL, sample
from cdvae.train import best_epoch, checkpoint_path, model_from_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
PAPER_SAMPLES = 10_000
W_SAMPLES = 1000          # GenEval: Wasserstein on 1,000 random valid samples
FP_VERSION = "cdvae-metrics-v1"   # bump when metrics.py's fingerprints change

# Xie et al., "Crystal Diffusion Variational Autoencoder for Periodic Material
# Generation", ICLR 2022, generation table, CDVAE rows, as listed in
# ../shared/data/generation-metrics/README.md (checked there against the
# CDVAE repository's result image and DiffCSP's Table 4): validity %
# (struct, comp), COV-R %, COV-P %, W(density), W(property), W(#elements).
PAPER = {
    "perov_5": {"struct": 100.0, "comp": 98.59, "cov_r": 99.45, "cov_p": 98.46,
                "w_density": 0.1258, "w_prop": 0.0264, "w_elements": 0.0628},
    "carbon_24": {"struct": 100.0, "comp": None, "cov_r": 99.80, "cov_p": 83.08,
                  "w_density": 0.1407, "w_prop": 0.2850, "w_elements": None},
    "mp_20": {"struct": 100.0, "comp": 86.70, "cov_r": 99.15, "cov_p": 99.49,
              "w_density": 0.6875, "w_prop": 0.2778, "w_elements": 1.432},
}


def paper_key(dataset: str) -> str:
    """The paper's dataset for ours: the Materials Project sets (mp_20_biternary,
    mp20_biternary_pilot) are subsets of mp_20's pool, so they take its cutoffs
    and stand beside its row (not the same crystals: see the cdvae README)."""
    return "mp_20" if dataset.startswith(("mp_20", "mp20")) else dataset


def cutoffs(dataset: str) -> tuple[float, float]:
    """The paper's COV cutoffs (structure, composition)."""
    return metrics.COV_CUTOFFS[paper_key(dataset)]


def finite(c: dict) -> bool:
    """Whether a crystal's cell and coordinates are numbers at all: a sampler
    that diverged leaves NaN, on which pymatgen's compiled distance code
    segfaults (two carbon_24 PaiNN samples, session 30). Such a crystal is
    structurally invalid and has no fingerprint."""
    return bool(np.isfinite(c["lengths"]).all() and np.isfinite(c["angles"]).all()
                and np.isfinite(np.asarray(c["frac"], dtype=float)).all())


def _structure_fingerprint_of(c: dict) -> np.ndarray:
    if not finite(c):
        return np.full(metrics.STRUCT_FP_LEN, np.nan)
    s = metrics.structure(c["lengths"], c["angles"], c["frac"], c["numbers"])
    try:
        return metrics.structure_fingerprint(s)
    except Exception:      # compute_metrics.py: the crystal becomes invalid, no fingerprint
        return np.full(metrics.STRUCT_FP_LEN, np.nan)


def isolated_fingerprints(crystals: list[dict], label: str = ""):
    """Structure fingerprints, computed in a child process so that a crash
    inside pymatgen's compiled code costs one crystal, not the run: one
    carbon_24 sample made ``coord_cython`` segfault (session 30) after 29 min
    of sampling. The crystal that kills the child gets no fingerprint, as an
    exception does in compute_metrics.py; the child is started again for the
    rest. Yields fingerprints in order."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context
    k, t0 = 0, time.perf_counter()
    while k < len(crystals):
        with ProcessPoolExecutor(1, mp_context=get_context("fork")) as ex:
            try:
                for fp in ex.map(_structure_fingerprint_of, crystals[k:]):
                    k += 1
                    if k % 100 == 0 or k == len(crystals):
                        el = time.perf_counter() - t0
                        print(f"  {label}: {k}/{len(crystals)} fingerprinted, {el:.0f} s, "
                              f"~{el / k * (len(crystals) - k):.0f} s left", flush=True)
                    yield fp
            except BrokenProcessPool:
                print(f"  {label}: crystal {k} crashed the fingerprinting process; no fingerprint", flush=True)
                k += 1
                yield np.full(metrics.STRUCT_FP_LEN, np.nan)


def describe(crystals: list[dict], label: str = "", cache: str | None = None) -> dict:
    """Structures, validity and fingerprints of a list of crystal dicts.
    ``cache``: .npz path for the structure fingerprints (real crystals)."""
    fps = None
    if cache and os.path.exists(cache):
        z = np.load(cache)
        if len(z["fp_s"]) == len(crystals):
            fps = z["fp_s"]
            print(f"  {label}: structure fingerprints from {os.path.relpath(cache, HERE)}", flush=True)
    out = {"struct": [], "comp": [], "density": [], "n_elem": [], "fp_s": [], "fp_c": []}
    t0 = time.perf_counter()
    fp_iter = iter(fps) if fps is not None else isolated_fingerprints(crystals, label)
    for c, fp_s in zip(crystals, fp_iter):
        if finite(c):
            s = metrics.structure(c["lengths"], c["angles"], c["frac"], c["numbers"])
            out["struct"].append(metrics.structural_valid(s))
            out["density"].append(float(s.density) if s.volume > 0.1 else math.nan)
        else:
            out["struct"].append(False)
            out["density"].append(math.nan)
        out["comp"].append(metrics.compositional_valid(c["numbers"]))
        out["n_elem"].append(len(set(c["numbers"])))
        out["fp_s"].append(fp_s)
        out["fp_c"].append(metrics.composition_fingerprint(c["numbers"]))
    for k in out:
        out[k] = np.array(out[k])
    out["fp_ok"] = np.isfinite(out["fp_s"]).all(1)
    out["fp_seconds"] = time.perf_counter() - t0 if fps is None else None
    if cache and fps is None:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        np.savez(cache, fp_s=out["fp_s"])
    return out


def cache_path(dataset: str, split: str, crystals: list[data.Crystal]) -> str:
    h = hashlib.sha1(FP_VERSION.encode())
    for c in crystals:
        h.update(c.id.encode())
    return os.path.join(data.CACHE, f"fp-{dataset}-{split}-{h.hexdigest()[:12]}.npz")


def read_app_samples(paths: list[str]) -> tuple[list[dict], dict]:
    """Crystals sampled by the app's own sampler (``latticelab sample
    --format json``: src/core/generate/langevin.ts, the score network on the
    WASM SIMD kernels or onnxruntime-web) as evaluate's crystal dicts, and
    what produced them. Refuses files from different models, schedules or
    providers, and repeated seeds (repeated crystals would inflate nothing
    but would not be 10,000 independent samples)."""
    crystals: list[dict] = []
    meta: dict = {}
    seeds: list[int] = []
    seconds = 0.0
    for path in paths:
        with open(path) as fh:
            d = json.load(fh)
        this = {"model": d["model"], "steps": d["steps"], "provider": d["provider"],
                "latent_prior": d.get("latentPrior", "standard"),   # files from before the field: N(0, I)
                # which export sampled them (files from before these fields: unknown), so
                # that runs of two trainings of one model are never pooled
                "score_net": d.get("scoreNet"), "epochs": d.get("epochs"),
                # PaiNN's feature clamp changes the samples of the crystals it catches
                "feature_bound": d.get("featureBound")}
        if meta and this != meta:
            raise SystemExit(f"{path}: {this} differs from the other sample files' {meta}")
        meta = this
        if d["seed"] in seeds:
            raise SystemExit(f"{path}: seed {d['seed']} appears twice")
        seeds.append(d["seed"])
        seconds += d["ms"] / 1000
        for c in d["crystals"]:
            crystals.append({"lengths": [float(x) for x in c["lattice"]["abc"]],
                             "angles": [float(x) for x in c["lattice"]["angles"]],
                             "frac": c["frac"], "numbers": [int(z) for z in c["species"]]})
    return crystals, {**meta, "seeds": seeds, "seconds": seconds, "files": len(paths)}


def as_dicts(crystals: list[data.Crystal]) -> list[dict]:
    return [{"lengths": c.lengths.tolist(), "angles": c.angles.tolist(), "frac": c.frac.tolist(),
             "numbers": c.numbers.tolist()} for c in crystals]


def scores(gen: dict, ref: dict, t_s: float, t_c: float, seed: int = 0) -> dict:
    """compute_metrics.py GenEval: validity over all samples (a crystal
    whose fingerprint fails is invalid); COV over every generated crystal
    with fingerprints (valid or not), COV-P divided by all of them;
    Wasserstein on (up to 1,000 random) valid samples against all
    reference crystals."""
    valid = gen["struct"] & gen["comp"] & gen["fp_ok"]
    ok = gen["fp_ok"]
    rok = ref["fp_ok"]      # a reference crystal without fingerprint would crash CDVAE's code: dropped
    cov_r, cov_p = metrics.coverage(gen["fp_s"][ok], gen["fp_c"][ok], ref["fp_s"][rok],
                                    ref["fp_c"][rok], t_s, t_c, num_gen=len(valid))
    p_s, p_c = metrics.precision_parts(gen["fp_s"][ok], gen["fp_c"][ok], ref["fp_s"][rok],
                                       ref["fp_c"][rok], t_s, t_c, num_gen=len(valid))
    idx = np.flatnonzero(valid)
    if len(idx) > W_SAMPLES:
        idx = np.random.default_rng(seed).choice(idx, W_SAMPLES, replace=False)
    return {
        "n": int(len(valid)), "struct": 100 * gen["struct"].mean(), "comp": 100 * gen["comp"].mean(),
        "valid": 100 * valid.mean(), "cov_r": 100 * cov_r, "cov_p": 100 * cov_p,
        "w_density": metrics.wasserstein(gen["density"][idx], ref["density"]),
        "w_elements": metrics.wasserstein(gen["n_elem"][idx], ref["n_elem"]),
        "fp_failed": int((~ok).sum()),
        "cov_p_struct": 100 * p_s, "cov_p_comp": 100 * p_c,
    }


def add_property_distance(dataset, rows, gen_crystals, gen, other, reference):
    """The paper's "W property": Wasserstein distance between the property of
    (up to 1,000 random) valid samples and of the reference crystals, both as
    predicted by the independently trained model (property_model.py), as
    compute_metrics.py does with its own property models; also for the
    real crystals ``other`` (the "val_crystals" row) unless None. Skipped
    (returns None) when that model has not been trained."""
    from cdvae.property_model import judge_for
    judge = judge_for(dataset)
    if judge is None:
        return None
    ref_p = judge.predict(as_dicts(reference))
    valid = np.flatnonzero(gen["struct"] & gen["comp"] & gen["fp_ok"])
    if len(valid) > W_SAMPLES:
        valid = np.random.default_rng(0).choice(valid, W_SAMPLES, replace=False)
    if len(valid):
        rows["model"]["w_prop"] = metrics.wasserstein(judge.predict([gen_crystals[i] for i in valid]), ref_p)
    if other is not None:
        rows["val_crystals"]["w_prop"] = metrics.wasserstein(judge.predict(as_dicts(other)), ref_p)
    return judge.test_mae


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
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt")
    p.add_argument("--samples", nargs="+", default=None, metavar="JSON",
                   help="score crystals from the app's sampler (latticelab sample --format json, "
                        "one file per seed) instead of sampling with PyTorch; written as its own "
                        "row (results/<dataset>-app.json)")
    p.add_argument("--save-samples", default=None, metavar="JSON",
                   help="also write the sampled crystals to this file before they are scored")
    p.add_argument("--latent-prior", choices=("standard", "fitted"), default="standard",
                   help="z from N(0, I) (the paper's) or from latent_prior.py's Gaussian fitted to the "
                        "training crystals' aggregate posterior")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    sp = data.splits(data.load(args.dataset, verbose=False))
    t_s, t_c = cutoffs(args.dataset)
    # `reference` is the split the samples are compared with (test), the
    # other held-out split gives real crystals: what a perfect generator scores.
    other = "val" if args.reference == "test" else "test"
    print(f"fingerprinting the real crystals ({len(sp[args.reference])} {args.reference}, "
          f"{len(sp[other])} {other}; cached)", flush=True)
    ref = describe(as_dicts(sp[args.reference]), args.reference,
                   cache_path(args.dataset, args.reference, sp[args.reference]))
    if args.samples:  # a row of generated crystals only: no real-crystal row
        return evaluate_app_samples(args, sp, ref, t_s, t_c)
    val = describe(as_dicts(sp[other]), other, cache_path(args.dataset, other, sp[other]))

    ck = torch.load(args.checkpoint or checkpoint_path(args.dataset))
    model = model_from_checkpoint(ck)
    prior = latent_prior.fit(model, sp["train"]) if args.latent_prior == "fitted" else None
    t0 = time.perf_counter()
    gen_crystals = sample(model, args.n, args.seed, args.steps_per_level, args.step_lr, prior=prior)
    sample_s = time.perf_counter() - t0
    print(f"sampled {args.n} in {sample_s:.1f} s", flush=True)
    if args.save_samples:
        with open(args.save_samples, "w") as fh:
            json.dump({"dataset": args.dataset, "seed": args.seed, "crystals": gen_crystals}, fh)
    gen = describe(gen_crystals, "generated")
    fp_s_per_site = gen["fp_seconds"] / max(1, sum(len(c["numbers"]) for c in gen_crystals))
    print(f"structure fingerprint: {1000 * fp_s_per_site:.1f} ms per site", flush=True)

    rows = {"model": scores(gen, ref, t_s, t_c), "val_crystals": scores(val, ref, t_s, t_c)}
    judge_mae = add_property_distance(args.dataset, rows, gen_crystals, gen, sp[other], sp[args.reference])
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
        "epochs": best_epoch(ck), "trained_epochs": ck["epoch"], "score_net": ck["config"].get("score_net", "radial"),
        "feature_bound": ck["config"].get("feature_bound"),
        "warm_start": ck.get("warm_start"),
        "train_hours": ck["train_seconds"] / 3600, "best_val": ck["best_val"],
        "sizes": ck["sizes"], "split_rule": data.SPLIT_RULE,
        "sampling": {"n": args.n, "seed": args.seed, "steps_per_level": args.steps_per_level,
                     "levels": model.cfg.num_noise_levels, "step_lr": args.step_lr,
                     "seconds": sample_s, "latent_prior": args.latent_prior},
        "volume_head": model.cfg.volume_head,
        "metrics": "CDVAE's own (compute_metrics.py): SMACT validity, CrystalNN 'ops' and magpie "
                   "fingerprints, the paper's COV cutoffs",
        "fingerprint_ms_per_site": 1000 * fp_s_per_site,
        "thresholds": {"struct": t_s, "comp": t_c}, "rows": rows, "paper": PAPER.get(paper_key(args.dataset)),
        "judge_test_mae": judge_mae,
        "note": args.note,
    }
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{args.dataset}.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    write_markdown()
    return 0


def evaluate_app_samples(args, sp, ref, t_s, t_c) -> int:
    """``--samples``: the same metrics on crystals from the app's sampler,
    written to results/<dataset>-app.json (a row of its own beside the
    PyTorch-sampled one)."""
    gen_crystals, meta = read_app_samples(args.samples)
    if meta["model"] != args.dataset:
        raise SystemExit(f"the samples are from model {meta['model']}, not {args.dataset}")
    print(f"{len(gen_crystals)} crystals from {meta['files']} file(s) of the app's sampler "
          f"({meta['provider']}; {meta['seconds']:.0f} s of sampling)", flush=True)
    gen = describe(gen_crystals, "generated")
    row = scores(gen, ref, t_s, t_c)
    add_property_distance(args.dataset, {"model": row}, gen_crystals, gen, None, sp[args.reference])
    print(json.dumps({a: (round(b, 4) if isinstance(b, float) else b) for a, b in row.items()}))
    if args.no_write:
        return 0
    if args.reference != "test":
        raise SystemExit("results are written only against the test split")
    out = {"dataset": args.dataset, "date": _dt.date.today().isoformat(),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, Node {meta_node_version()}",
           "sampler": meta, "fingerprint_seconds": gen["fp_seconds"], "row": row}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{args.dataset}-app.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    write_markdown()
    return 0


def meta_node_version() -> str:
    import subprocess
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "unknown"


def table_row(label: str, m: dict) -> str:
    """One row of a dataset's generation table."""
    return (f"| {label} | {fmt(m['struct'])} | {fmt(m['comp'])} | {fmt(m['cov_r'])} | {fmt(m['cov_p'])} | "
            f"{fmt(m['w_density'], 4)} | {fmt(m.get('w_prop'), 4)} | {fmt(m['w_elements'], 4)} |")


def app_row_lines(dataset: str) -> tuple[list[str], list[str]]:
    """The row of results/<dataset>-app.json (``--samples``), if any, and
    the sentence under the table that says what sampled it."""
    path = os.path.join(RESULTS, f"{dataset}-app.json")
    if not os.path.exists(path):
        return [], []
    r = json.load(open(path))
    m, s = r["row"], r["sampler"]
    prior = ("z from the fitted latent prior" if s.get("latent_prior") == "fitted"
             else "z from N(0, I)")   # rows from before the field were all N(0, I)
    net = (f", {s['score_net']} score network at {s['epochs']} epochs" if s.get("score_net") else "")
    if s.get("feature_bound") is not None:
        net += f" (features clamped at {s['feature_bound']:.0f})"
    return [table_row(f"this project's CDVAE, {m['n']:,} samples from the app's sampler{net}, {prior}", m)], \
           [f"The row \"from the app's sampler\" ({r['date']}, {r['machine']}): {m['n']:,} crystals from "
            f"`latticelab sample --format json` (the app's own sampler, src/core/generate/langevin.ts, "
            f"{s['steps']} Langevin steps; {s['provider']}), {s['files']} runs with seeds "
            f"{min(s['seeds'])}–{max(s['seeds'])}, {s['seconds'] / 60:.0f} min of sampling in all; "
            f"scored by `evaluate.py --samples` with the same code and test split as the rows above.", ""]


def schedule_rows(dataset: str):
    """Rows of the same checkpoint sampled with another number of Langevin
    steps per level (results/<dataset>-steps<k>.json, from --no-write runs)."""
    out = []
    for name in sorted(os.listdir(RESULTS)):
        if name.startswith(f"{dataset}-steps") and name.endswith(".json"):
            r = json.load(open(os.path.join(RESULTS, name)))
            out.append((r["steps_per_level"], r["row"]))
    return out


def standard_prior_rows(dataset: str) -> list[dict]:
    """The same checkpoint and seed sampled from N(0, I), where the main row
    uses the fitted latent prior (results/<dataset>-prior-standard.json: the
    row the dataset had before the prior was fitted)."""
    path = os.path.join(RESULTS, f"{dataset}-prior-standard.json")
    return [json.load(open(path))["row"]] if os.path.exists(path) else []


def optimization_lines(dataset: str) -> list[str]:
    path = os.path.join(RESULTS, f"{dataset}-optimization.json")
    if not os.path.exists(path):
        return []
    o = json.load(open(path))
    paper = o.get("paper")
    lines = [f"**Property optimisation** (`optimize.py`, {o['date']}): the paper's protocol (CDVAE "
             f"`get_optim_metrics`): {o['starts']} test crystals encoded, Adam on the latent mean towards the lowest "
             f"property head, {o['steps']:,} steps at lr {o['lr']:g}, decoded {len(o['decoded_at'])} times "
             f"({o['steps_per_level']} Langevin steps per level); each start's best valid decoding as judged by the "
             f"independent MEGNet (test MAE {o['judge_test_mae']:.3f}); success = at or below the test split's "
             f"5/10/15th percentile ({', '.join(f'{p:.3f}' for p in o['percentiles_5_10_15'])}). "
             f"{o['valid_decoded']} of {o['decoded']} decodings were valid; the judged median went from "
             f"{o['median_start_judged']:.3f} (the start crystals) to {fmt(o['median_best_judged'], 3)} (best per start).", "",
             "| | SR5 | SR10 | SR15 |", "|---|---|---|---|",
             f"| this project's CDVAE | {o['sr5']:.2f} | {o['sr10']:.2f} | {o['sr15']:.2f} |"]
    if paper:
        lines.append(f"| CDVAE, paper | {paper[0]:.2f} | {paper[1]:.2f} | {paper[2]:.2f} |")
    lines += ["", "Per decoding (after that many Adam steps): valid of " + str(o["starts"]) + ", median property "
              "of the valid ones by the judge and by the CDVAE's own head. The head keeps falling far below "
              "anything in the data while the judge levels off: the optimiser exploits the head.", "",
              "| step | " + " | ".join(str(p["step"]) for p in o["per_step"]) + " |",
              "|---|" + "---:|" * len(o["per_step"]),
              "| valid | " + " | ".join(str(p["valid"]) for p in o["per_step"]) + " |",
              "| judge | " + " | ".join(fmt(p["median_judged"], 2) for p in o["per_step"]) + " |",
              "| head | " + " | ".join(fmt(p["median_head"], 2) for p in o["per_step"]) + " |"]
    return lines + [""]


def write_markdown() -> None:
    from mlcore.results_md import update_section
    lines = ["## Crystal generation (CDVAE)", "",
             "Written by `models/cdvae/evaluate.py` from the checkpoints in "
             "`models/cdvae/checkpoints/`. Generation metrics of Xie et al. (ICLR 2022) "
             "computed the way its code does (`scripts/compute_metrics.py`, re-implemented in "
             "`models/cdvae/metrics.py`): SMACT compositional validity, CrystalNN (\"ops\") "
             "structure and magpie composition fingerprints, the paper's coverage cutoffs. "
             "Against the held-out **test** split of our own split (the original splits are not "
             "available; see `models/cdvae/data.py`). Validity: % of all samples; COV over all "
             "samples (as the official code); Wasserstein distances: valid samples against the "
             "test crystals. The row \"real validation crystals\" scores the validation split's "
             "crystals as if generated: the ceiling for this split. The paper's rows are from "
             f"its generation table ({PAPER_SAMPLES:,} samples, 100 Langevin steps per noise "
             "level); ours use far fewer samples (stated per dataset), so its COV-R is not "
             "directly comparable (recall grows with the number of samples).", ""]
    for name in sorted(os.listdir(RESULTS)) if os.path.isdir(RESULTS) else []:
        if not name.endswith(".json") or "-" in name:     # <dataset>-optimization.json, <dataset>-steps<k>.json
            continue
        r = json.load(open(os.path.join(RESULTS, name)))
        s = r["sampling"]
        lines += [f"### {r['dataset']}", "",
                  f"{r['date']}, {r['machine']}. **{s['n']} samples** (the paper: {PAPER_SAMPLES:,}). Model: "
                  f"{r.get('score_net', 'radial')} score network, {r['epochs']} epochs "
                  + (f"after a warm start (encoder and heads from the {r['warm_start']['base']['score_net']} "
                     f"model at {r['warm_start']['base']['epochs']} epochs, score network from "
                     f"{r['warm_start']['score']['epochs']} epochs of its own training) "
                     if r.get("warm_start") else "")
                  + f"({r['train_hours']:.2f} h of training), best validation loss "
                  f"{r['best_val']:.3f}; split {r['sizes']}. Sampling: {s['n']} crystals, seed "
                  f"{s['seed']}, {s['levels']} noise levels x {s['steps_per_level']} steps, "
                  f"step_lr {s['step_lr']:g}, {s['seconds']:.0f} s"
                  + (", z from the Gaussian fitted to the training crystals' aggregate posterior "
                     "(latent_prior.py; the paper's N(0, I) otherwise)"
                     if s.get("latent_prior") == "fitted" else "")
                  + (", cells scaled by the volume-per-atom head (volume_head.py)"
                     if r.get("volume_head") else "")
                  + f". Coverage cutoffs (the paper's): structure "
                  f"{r['thresholds']['struct']:g}, composition {r['thresholds']['comp']:g}."
                  + (f" {r['note']}" if r.get("note") else "")
                  + ("" if r.get("metrics") else " **Computed with the earlier substitute "
                     "fingerprints and thresholds: rerun evaluate.py.**"), "",
                  "| | valid struct % | valid comp % | COV-R % | COV-P % | W density (g/cm³) | W property | W #elements |",
                  "|---|---|---|---|---|---|---|---|"]
        fitted = s.get("latent_prior") == "fitted"
        model_label = "this project's CDVAE" + (", z from the fitted latent prior" if fitted else "")
        for label, key in ((model_label, "model"), ("real validation crystals", "val_crystals")):
            m = r["rows"][key]
            lines.append(table_row(label, m))
        for m in standard_prior_rows(r["dataset"]):
            lines.append(table_row("this project's CDVAE, z from N(0, I) (the paper's sampling)", m))
        for k, m in schedule_rows(r["dataset"]):
            lines.append(table_row(f"this project's CDVAE, {k} Langevin steps per level", m))
        app_row, app_note = app_row_lines(r["dataset"])
        lines += app_row
        if r.get("paper"):
            m = r["paper"]
            which = "" if paper_key(r["dataset"]) == r["dataset"] else f", {paper_key(r['dataset'])}: other crystals"
            lines.append(table_row(f"CDVAE, paper ({PAPER_SAMPLES:,} samples{which})", m))
        lines.append("")
        if r.get("judge_test_mae") is not None:
            from cdvae.property_model import ENSEMBLE_JUDGED
            judge = ("the app's crystal-property MEGNet ensemble (models/properties; its formation energy output), "
                     "test MAE {:.3f} on the test crystals it was not trained on" if r["dataset"] in ENSEMBLE_JUDGED
                     else "the independent MEGNet of `property_model.py` (test MAE {:.3f})").format(r["judge_test_mae"])
            lines += [f"W property: the property ({r['dataset']}'s own column) of valid samples and test crystals as predicted by "
                      f"{judge}, as the paper uses its own property models.", ""]
        lines += app_note
        lines += optimization_lines(r["dataset"])
    update_section("cdvae", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
