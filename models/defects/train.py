"""Train the sparse defect MEGNet on the GPAW dataset, compare it with
baselines on the same split, and export an ensemble of seeds for the app.

    cd models && /usr/bin/python3 -m defects.train      # train, report, export

* **Split**: by defect configuration, deterministic and stable as the dataset
  grows: ``sha1("lattice-lab-split-v1:" + canonical_key)``, first 8 hex digits
  mod 100 -> < 80 train, < 90 val, else test.  ``canonical_key`` (sample.py) is
  the same for symmetry-equivalent configurations, so equivalent structures can
  never straddle train and test, and a structure never changes side when more
  data arrive.
* **Targets**: formation energy per defect site (eV), HOMO-LUMO gap (eV),
  and the HOMO and LUMO relative to the pristine host's valence band maximum
  (the HOMO of the pristine supercell of the same size and settings: 2DMD's
  normalisation, Huang et al. 2023), normalised with the training set's mean
  and std; a missing target is masked (GFN0-xTB records have no pristine
  HOMO, so their levels are masked in pretraining).
* **Models**, all on the same split:
  sparse MEGNet (the app's model; several seeds, early stopping on val);
  full-graph MEGNet (same code, every atom, 5 Å edges);
  ridge regression on simple descriptors (defect counts by kind,
  concentration, shortest defect-defect distance); the training mean.
* **Pretraining** (optional, on when ``data/xtb.jsonl`` exists): the sparse
  MEGNet is also trained a second way, first on GFN0-xTB labels
  (``xtb_label.py``) and then fine-tuned on the DFT training set.  Only xtb
  records whose configuration falls in the DFT *train* split are used, so no
  val/test configuration is ever seen; xtb labels never enter a test number.
* **Outputs**: ``models/RESULTS.md`` (table in the shape of the 2DMD paper's),
  ``models/defects/export/results.json``, the per-epoch losses of every run in
  ``export/curves.json``, each seed's val and test predictions in
  ``export/predictions.jsonl``, and the exported model (export.py): by
  default (``--export all``) every sparse seed of both variants, plain and
  pretrained, which the app averages and whose spread it reports as an
  uncertainty.  ``--export best`` ships only the seeds of the variant whose
  averaged prediction has the lower val loss (``ensemble_val_loss``); that
  choice proved no better than a coin on ~76 val structures (EXPERIMENTS.md).

Everything is seeded and single-threaded, so a rerun on the same data gives the
same numbers.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import hashlib
import json
import math
import os
import sys
import time

# One OpenBLAS thread, set before numpy and torch load it: torch.set_num_threads
# does not reach OpenBLAS's own pool (one thread per core), and when GPAW
# workers keep the cores busy those threads fight over them (README "Run
# times": batches 2.7-3.5x slower).  It also makes the float rounding the same on every machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from defects.featurize import (FULL_CUTOFF, FULL_NODE_IN,  # noqa: E402
                               SPARSE_CUTOFF, SPARSE_NODE_IN, STATE_IN,
                               config_from_record, full_graph_from_record,
                               periodic_edges, sparse_graph, usable)
from defects.hosts import HOSTS  # noqa: E402
from defects.export import TARGETS as EXPORT_TARGETS  # noqa: E402
from defects.store import load_dataset  # noqa: E402
from mlcore.megnet import MEGNet, predict_raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

DATASET = os.path.join(HERE, "data", "dft.jsonl")
PRETRAIN = os.path.join(HERE, "data", "xtb.jsonl")
RESULTS_MD = os.path.join(os.path.dirname(HERE), "RESULTS.md")
RESULTS_JSON = os.path.join(HERE, "export", "results.json")
# Per-epoch train and val losses of every run, one run per line, so an
# overfitting diagnosis can be redone without re-training (README "Choosing
# epochs").
CURVES_JSON = os.path.join(HERE, "export", "curves.json")
# Each MEGNet seed's de-normalised val and test predictions, one run per
# line, in the order of results.json's val_ids and test_ids: export rules
# (which seeds to ship) can then be compared on val across runs without
# re-training (EXPERIMENTS.md, session 14).
PREDICTIONS_JSON = os.path.join(HERE, "export", "predictions.jsonl")
SPLIT_SALT = "lattice-lab-split-v1"
SPLIT_RULE = ("sha1('lattice-lab-split-v1:' + canonical_key)[:8] as int "
              "mod 100: <80 train, <90 val, else test")
# The outputs, in order: the contract with the app, written once in export.py.
TARGETS = tuple(EXPORT_TARGETS)
N_TARGETS = len(TARGETS)
MIN_MEANINGFUL = 200  # below this many structures, say the numbers mean little
# Gaussians of the sparse model's edge basis over [0, SPARSE_CUTOFF]
# (megnet.py, rbf.ts megnetBasis).  MEGNet expands distances in Gaussians too
# (Chen et al., Chem. Mater. 31, 3564 (2019)); the count is this project's
# choice, stored in the manifest's shape, and the Setup line quotes it.
SPARSE_RBF = 50
PRETRAINED_ROW = "MEGNet, sparse, GFN0-xTB pretrained + DFT fine-tuned"
# The export candidate made of every sparse seed of every variant.
ALL_SPARSE = "MEGNet, sparse, plain and pretrained seeds together"
DEFECT_LABELS = tuple(dict.fromkeys(  # unique, in host order (S_Se is in GaSe and InSe)
    k.label for h in HOSTS.values() for k in h.defect_kinds))


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def key_bucket(salt: str, canonical_key: str, n: int) -> int:
    """sha1(salt + ':' + key), first 8 hex digits as int, mod n: a stable
    bucket for a configuration (split, pretraining val, CV fold)."""
    return int(hashlib.sha1(f"{salt}:{canonical_key}".encode())
               .hexdigest()[:8], 16) % n


def split_of(canonical_key: str) -> str:
    h = key_bucket(SPLIT_SALT, canonical_key, 100)
    return "train" if h < 80 else "val" if h < 90 else "test"


def level(rec: dict, which: str) -> float:
    """A record's HOMO or LUMO (eV) relative to the valence band maximum of
    its pristine host: the pristine supercell's HOMO, same size and settings
    (``references.pristine_homo``).  NaN where either is missing."""
    e = rec.get(which)
    vbm = (rec.get("references") or {}).get("pristine_homo")
    return float(e) - float(vbm) if e is not None and vbm is not None else np.nan


def load(path: str = DATASET, full: bool = True,
         spins: dict[str, dict] | None = None) -> list[dict]:
    """Usable records, sorted by id, each with its graphs (the full graph
    only when ``full``), targets and split.  ``spins``: spin-polarised
    recomputations by id (spin_labels.py); where one is the ground state its
    labels replace the restricted ones (``d["spin"]`` is then True)."""
    from defects.spin_labels import relabel
    out = []
    for rec in sorted(load_dataset(path).values(), key=lambda r: r["id"]):
        if not usable(rec):
            continue
        new = relabel(rec, (spins or {}).get(rec["id"]))
        if new is not None:
            rec = {**rec, **{k: new[k] for k in ("formation_energy_per_site", "gap", "homo", "lumo")}}
        gap = rec.get("gap")
        out.append({
            "rec": rec, "id": rec["id"], "host": rec["host"],
            "split": split_of(rec["canonical_key"]),
            "config": config_from_record(rec),
            "spin": new is not None,
            "y": np.array([rec["formation_energy_per_site"],
                           np.nan if gap is None else gap,
                           level(rec, "homo"), level(rec, "lumo")],
                          dtype=np.float64),
        })
    for d in out:
        d["sparse"] = sparse_graph(d["config"])
        if full:
            d["full"] = full_graph_from_record(d["rec"])
    return out


def load_pretraining(path: str) -> tuple[list[dict], list[dict]]:
    """xtb records of configurations in the DFT *train* split, cut into a
    pretraining train/val by a second hash (1 in 10 to val, for early
    stopping).  Configurations of the DFT val/test splits are dropped here, so
    pretraining never sees them."""
    rows = [d for d in load(path, full=False) if d["split"] == "train"]

    def is_val(d):
        return key_bucket("pretrain-val", d["rec"]["canonical_key"], 10) == 0
    return ([d for d in rows if not is_val(d)], [d for d in rows if is_val(d)])


def normalisation(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-target mean and std over the training rows (NaN = missing); std
    is 1 where it cannot be estimated (fewer than 2 values, or constant)."""
    mean = np.array([np.nanmean(c) if np.isfinite(c).any() else 0.0 for c in y.T])
    std = np.array([np.nanstd(c) if np.isfinite(c).sum() > 1 else 1.0 for c in y.T])
    std[~(std > 1e-6)] = 1.0
    return mean, std


# ---------------------------------------------------------------------------
# MEGNet training
# ---------------------------------------------------------------------------

def masked_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    mask = torch.isfinite(y)
    diff = torch.where(mask, pred - torch.nan_to_num(y), torch.zeros_like(pred))
    return (diff ** 2).sum() / mask.sum().clamp(min=1)


def masked_mae(pred: np.ndarray, y: np.ndarray) -> float:
    mask = np.isfinite(y)
    return float(np.abs(pred - y)[mask].mean()) if mask.any() else float("nan")


def train_megnet(train, val, graph_key: str, shape: dict, mean, std,
                 seed: int, max_epochs: int, patience: int,
                 batch_size: int, lr: float,
                 init: dict | None = None,
                 early_stopping: bool = True,
                 weight_decay: float = 0.0) -> tuple[MEGNet, dict]:
    """Adam on the normalised masked MSE.  With ``early_stopping``: keeps the
    weights of the epoch with the lowest val loss (train loss when there is
    no val set) and stops after ``patience`` epochs without improvement
    (``patience`` <= 0: never stops early, trains all ``max_epochs``).
    Without: trains ``max_epochs`` and keeps the last weights, ignoring
    ``patience`` (for when the val set is too small to choose an epoch; see
    ``--min-val``).  ``init``: a state dict to start from (fine-tuning)
    instead of a random one.
    ``weight_decay`` > 0: AdamW (decoupled weight decay, Loshchilov & Hutter,
    ICLR 2019) instead of Adam, against the overfitting that README
    EXPERIMENTS.md measured; 0 keeps plain Adam so old runs replay.
    ``info`` carries the loss after every epoch: ``curve`` (the selection
    loss, val or train) and ``train_curve`` (mean train batch loss)."""
    torch.manual_seed(seed)
    model = MEGNet(**shape)
    if init is not None:
        model.load_state_dict(init)
    opt = (torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
           if weight_decay > 0 else torch.optim.Adam(model.parameters(), lr=lr))
    gen = torch.Generator().manual_seed(seed)
    g_train = [d[graph_key] for d in train]
    y_train = torch.tensor((np.stack([d["y"] for d in train]) - mean) / std,
                           dtype=torch.float32)
    g_val = [d[graph_key] for d in val]
    y_val = (torch.tensor((np.stack([d["y"] for d in val]) - mean) / std,
                          dtype=torch.float32) if val else None)
    best, best_state, best_epoch, since = math.inf, None, -1, 0
    curve: list[float] = []  # val (or train) loss after each epoch
    train_curve: list[float] = []  # mean train batch loss in each epoch
    t0 = time.perf_counter()
    for epoch in range(max_epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen).tolist()
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            pred = predict_raw(model, [g_train[k] for k in idx])
            loss = masked_mse(pred, y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        model.eval()
        if val:
            with torch.no_grad():
                score = float(masked_mse(predict_raw(model, g_val), y_val))
        else:
            score = total / len(train)
        curve.append(score)
        train_curve.append(total / len(train))
        if not early_stopping:
            best, best_epoch = score, epoch  # the last epoch is the one kept
        elif score < best - 1e-7:
            best, best_state, best_epoch, since = score, copy.deepcopy(
                model.state_dict()), epoch, 0
        else:
            since += 1
            if 0 < patience <= since:
                break
    if early_stopping:
        model.load_state_dict(best_state)
    info = {"seed": seed, "best_epoch": best_epoch, "epochs": epoch + 1,
            "selection_loss": best, "selected_on": "val" if val else "train",
            "early_stopping": early_stopping, "curve": curve,
            "train_curve": train_curve, "weight_decay": weight_decay,
            "seconds": round(time.perf_counter() - t0, 1)}
    return model.eval(), info


def cv_fold(d: dict, folds: int) -> int:
    """Cross-validation fold of a record, by a hash of its canonical key."""
    return key_bucket("cv-fold", d["rec"]["canonical_key"], folds)


def cv_epochs(train, graph_key: str, shape: dict, mean, std, seed: int,
              max_epochs: int, batch_size: int, lr: float, folds: int = 5,
              init: dict | None = None,
              weight_decay: float = 0.0) -> tuple[int, dict]:
    """Number of epochs chosen by ``folds``-fold cross-validation on the
    training set: each fold is trained ``max_epochs`` on the others, and the
    epoch with the lowest mean fold loss wins.  Used instead of early
    stopping when the val split is too small to pick an epoch (a val set of
    4 structures picked epochs whose test MAE was worse than the mean's).
    Folds are by a hash of the canonical key, so equivalent configurations
    stay in one fold."""
    curves, t0 = [], time.perf_counter()
    for k in range(folds):
        inner = [d for d in train if cv_fold(d, folds) != k]
        held = [d for d in train if cv_fold(d, folds) == k]
        if not inner or not held:
            continue
        _, info = train_megnet(inner, held, graph_key, shape, mean, std, seed,
                               max_epochs=max_epochs, patience=0,
                               batch_size=batch_size, lr=lr, init=init,
                               early_stopping=False, weight_decay=weight_decay)
        curves.append(info["curve"])
    mean_curve = np.mean(np.array(curves), axis=0)
    epochs = int(np.argmin(mean_curve)) + 1
    return epochs, {"folds": len(curves), "epochs": epochs,
                    "cv_loss": float(mean_curve[epochs - 1]),
                    "seconds": round(time.perf_counter() - t0, 1)}


def predict(model: MEGNet, data, graph_key: str, mean, std) -> np.ndarray:
    if not data:
        return np.zeros((0, N_TARGETS))
    with torch.no_grad():
        raw = predict_raw(model, [d[graph_key] for d in data]).numpy()
    return raw * std + mean


# ---------------------------------------------------------------------------
# Descriptor baseline
# ---------------------------------------------------------------------------

def descriptors(d: dict) -> np.ndarray:
    """Host one-hot, count of each defect kind, concentration (%), shortest
    defect-defect distance including periodic images (Å; for one defect the
    distance to its own nearest image)."""
    rec = d["rec"]
    counts = [sum(x["label"] == lab for x in rec["defects"]) for lab in DEFECT_LABELS]
    cfg = d["config"]
    pos = np.array([x["position"] for x in cfg["defects"]])
    _, _, dist = periodic_edges(pos, np.array(cfg["lattice"]), 60.0)
    hosts = [1.0 * (rec["host"] == h) for h in HOSTS]
    return np.array(hosts + counts + [100 * rec["concentration"],
                                      float(dist.min()) if len(dist) else 60.0])


def ridge_baseline(train, val, test, cv: bool = False, folds: int = 5):
    """Standardised ridge per target, alpha picked on val (1.0 without val),
    or with ``cv`` by ``folds``-fold cross-validation on train."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X = {k: np.stack([descriptors(d) for d in s]) if s else np.zeros((0, 1))
         for k, s in (("train", train), ("val", val), ("test", test))}
    preds, alphas = np.full((len(test), N_TARGETS), np.nan), []
    for t in range(N_TARGETS):
        ytr = np.array([d["y"][t] for d in train])
        ok = np.isfinite(ytr)
        if ok.sum() < 2:
            preds[:, t] = np.nanmean(ytr) if ok.any() else np.nan
            alphas.append(None)
            continue
        best = (math.inf, 1.0)
        fold = np.array([cv_fold(d, folds) for d in train])

        def fit(a, rows):
            return make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(
                X["train"][rows & ok], ytr[rows & ok])
        for a in 10.0 ** np.arange(-3, 4):
            if cv:
                errs = [masked_mae(fit(a, fold != k).predict(X["train"][fold == k]),
                                   ytr[fold == k])
                        for k in range(folds) if (fold == k).any() and ((fold != k) & ok).sum() > 1]
                err = float(np.nanmean(errs)) if errs else math.inf
            elif val:
                err = masked_mae(fit(a, np.ones(len(train), bool)).predict(X["val"]),
                                 np.array([d["y"][t] for d in val]))
            else:
                break
            if np.isfinite(err) and err < best[0]:
                best = (err, a)
        m = make_pipeline(StandardScaler(), Ridge(alpha=best[1])).fit(X["train"][ok], ytr[ok])
        if test:
            preds[:, t] = m.predict(X["test"])
        alphas.append(best[1])
    return preds, alphas


# ---------------------------------------------------------------------------
# Metrics and report
# ---------------------------------------------------------------------------

def metrics(pred: np.ndarray, data) -> dict:
    """MAE per target, overall and per host: {target: {"all"|host: mae}}."""
    out = {}
    y = np.stack([d["y"] for d in data]) if data else np.zeros((0, N_TARGETS))
    hosts = np.array([d["host"] for d in data], dtype=object)
    # TARGETS[:columns]: predictions saved by runs before the defect levels
    # (two targets) still score.
    for t, name in enumerate(TARGETS[:y.shape[1]]):
        m = {"all": masked_mae(pred[:, t], y[:, t]) if data else float("nan")}
        for h in HOSTS:
            sel = np.array([x == h for x in hosts], dtype=bool)
            m[h] = masked_mae(pred[sel, t], y[sel, t]) if sel.any() else float("nan")
        out[name] = m
    return out


def finite_or_none(obj):
    """NaN/inf -> None recursively: JSON for the browser must not hold NaN."""
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def fmt(values) -> str:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{np.mean(vals):.3f} ± {np.std(vals, ddof=1):.3f}"


def write_results_md(rows: dict, counts: dict, data, settings: dict,
                     args, seconds: float, pretrain_sizes=(0, 0),
                     cv_summary: dict | None = None,
                     exported: tuple[str, int, dict] | None = None) -> None:
    """``exported``: (variant, members, spread_check) of the exported
    ensemble, for the Setup line that says what the app runs."""
    total = sum(counts["all"].values())
    hosts = list(HOSTS)
    lines = [
        "## Defect property models",
        "",
        f"Written by `models/defects/train.py` on {_dt.date.today().isoformat()}"
        f" from `models/defects/data/dft.jsonl` ({total} usable structures; "
        f"the whole run took {seconds / 60:.1f} min on one CPU thread).",
        "",
    ]
    if total < MIN_MEANINGFUL:
        lines += [
            f"> **Warning: only {total} structures "
            f"({counts['all']['train']} train / {counts['all']['val']} val / "
            f"{counts['all']['test']} test). With so few the numbers below are "
            "not meaningful yet**: a test set of a handful of structures gives "
            "MAEs that swing by the size of the targets' spread, and the models "
            "are far from converged in data. The table is here so the pipeline "
            "runs end to end; rerun `train.py` as the dataset grows.",
            "",
        ]
    lines += [
        "Test-set mean absolute errors, in the shape of the model comparison of "
        "Kazeev et al., npj Comput Mater 9, 113 (2023) (sparse-graph MEGNet against "
        "SchNet, GemNet, full-graph MEGNet and CatBoost on 2DMD, the dataset of Huang "
        "et al., npj 2D Mater Appl 7, 6 (2023); their combined-test MAEs are 37 ± 2 "
        "meV/site for the formation energy and 105 ± 2 meV for the HOMO-LUMO gap, on "
        "relaxed, partly spin-polarised VASP labels: not the task here, which is "
        "unrelaxed, spin-restricted GPAW at the Γ point, so compare with care): rows are "
        "models, columns materials. MEGNet rows are mean ± sample std over "
        f"{args.seeds} seeds; a row \"mean of the seeds' predictions\" is one "
        "number, the MAE of the average of those seeds' predictions (an "
        "ensemble; the app runs the exported one, see Setup). `n/a` "
        "where the test set has no structure of that host.",
        "",
        "| structures | " + " | ".join(hosts) + " | all |",
        "|---|" + "---|" * (len(hosts) + 1),
    ]
    for part in ("train", "val", "test"):
        lines.append(f"| {part} | " + " | ".join(
            str(counts[h][part]) for h in hosts) + f" | {counts['all'][part]} |")
    for t, title in ((TARGETS[0], "Formation energy per defect site, MAE (eV)"),
                     (TARGETS[1], "HOMO-LUMO gap (Γ point), MAE (eV)"),
                     (TARGETS[2], "HOMO relative to the pristine host's VBM (Γ point), MAE (eV)"),
                     (TARGETS[3], "LUMO relative to the pristine host's VBM (Γ point), MAE (eV)")):
        lines += ["", f"**{title}**", "",
                  "| model | " + " | ".join(hosts) + " | all |",
                  "|---|" + "---|" * (len(hosts) + 1)]
        for name, runs in rows.items():
            lines.append(f"| {name} | " + " | ".join(
                fmt([r[t][h] for r in runs]) for h in hosts + ["all"]) + " |")
    s = settings
    lines += [
        "",
        "## Setup",
        "",
        f"* Split: by defect configuration, {SPLIT_RULE} (stable as data arrive).",
        "* Sparse MEGNet: the app's model (`models/defects/REPRESENTATION.md`), "
        "one node per defect site, edges < 10 Å between sites and their "
        "in-plane images, state = host one-hot + concentration; "
        f"{args.blocks} blocks, {args.hidden}/{args.features} widths, "
        f"{SPARSE_RBF} Gaussians."
        + ((f" Exported: all {exported[1]} sparse seeds, plain and pretrained"
            if exported[0] == ALL_SPARSE else
            f" Exported: all {exported[1]} seeds of \"{exported[0]}\"")
           + (", the sparse variant whose seeds' averaged prediction has the "
              "lower val loss (lower CV loss when val is small, see Training)"
              if args.export == "best" else
              " (`--export all`: no choice between variants, which ~76 val "
              "structures could not make reliably; EXPERIMENTS.md)")
           + "; the app predicts their mean and shows their spread (std "
           "over the seeds) as an uncertainty."
           + (" On the test split the mean spread is " + ", ".join(
               f"{c['meanSpread']:.3f} eV ({lab}; error within 1x / 2x the spread "
               f"for {100 * c['within1']:.0f} / {100 * c['within2']:.0f} % of "
               f"structures, Spearman rank correlation of spread and error "
               f"{c['spearman']:.2f})"
               for lab, c in zip(("E_f", "gap", "HOMO", "LUMO"), exported[2].values()))
              + "." if exported[2] else "") if exported else ""),
        "* Defect levels: HOMO and LUMO of the defective supercell minus the "
        "HOMO of the pristine supercell of the same size and settings (its "
        "Γ-point valence band maximum; the 2DMD normalisation of Huang et al. "
        "2023). The gap is its own output, so the predicted LUMO − HOMO and the "
        "predicted gap can differ by up to the models' errors.",
        f"* Full-graph MEGNet: same code, every atom (onehot16(Z) + layer "
        f"feature), edges < {FULL_CUTOFF:g} Å, state = host one-hot + 0.",
        *([f"* Pretrained sparse MEGNet: the same model trained first on "
           f"GFN0-xTB labels (`models/defects/xtb_label.py`, xtb's periodic "
           f"GFN0, Γ point) of {pretrain_sizes[0]} + {pretrain_sizes[1]} "
           f"(train + best-epoch val) configurations, all from the DFT "
           f"*train* split (no val/test configuration is seen), up to "
           f"{args.pretrain_epochs} epochs at batch {args.pretrain_batch}, then "
           f"fine-tuned on the DFT train set like the plain one. WSe2 is not "
           f"in the xtb set: GFN0 makes the WSe2 sheet metallic (gap 0 vs "
           f"DFT's 1.5 eV). xtb labels are never in a test number."]
          if PRETRAINED_ROW in rows else []),
        "* Ridge: standardised descriptors (host, count of each defect kind, "
        "concentration, shortest defect-defect distance with images), alpha "
        "chosen on val (by the same 5-fold CV when val is small). Train mean: "
        "predicts the training mean.",
        "* Training: "
        + (f"AdamW (weight decay {args.weight_decay})" if args.weight_decay > 0 else "Adam")
        + f" lr {args.lr}, batch {args.batch}, up to "
        f"{args.max_epochs} epochs ({args.full_max_epochs} for the full graph), keeping the epoch with the lowest val loss "
        + (f"(early stopping, patience {args.patience})" if args.patience > 0
           else "(no early stopping: every run trains its full epoch budget)")
        + ", normalised targets, masked MSE."
        + (f" **The val split has fewer than {args.min_val} structures**, too few "
           "to pick an epoch, so instead: the number of epochs is chosen by "
           "5-fold cross-validation on the train split (folds by canonical key; "
           + ", ".join(f"{n}: {e}" for n, e in cv_summary.items())
           + "), every seed trains that many epochs and keeps its last weights, "
           f"the full graph trains its {args.full_max_epochs}-epoch cap"
           + (", and the exported ensemble is the sparse variant with the "
              "lower CV loss." if args.export == "best" else ".")
           if cv_summary else ""),
        f"* DFT labels: {s.get('code', 'GPAW')} {s.get('gpaw_version', '')}, "
        f"mode {s.get('mode')}, basis {s.get('basis')}, {s.get('xc')}, "
        f"h = {s.get('h')} Å, k-points {s.get('kpts')}, "
        f"{s.get('occupations')}, not spin polarised; unrelaxed ideal "
        "hosts with point defects; formation energies against elemental "
        "references (see `models/defects/README.md`). Γ-only gaps are "
        "labels of this dataset, not converged band gaps.",
    ]
    from mlcore.results_md import update_section
    update_section("defects", "\n".join(lines) + "\n", RESULTS_MD)


# ---------------------------------------------------------------------------

def ensemble_metrics(preds: list[np.ndarray], data) -> dict:
    """``metrics`` of the mean of several runs' predictions."""
    return metrics(np.mean(np.stack(preds), axis=0), data)


def spread_check(preds: list[np.ndarray], data) -> dict:
    """Is the members' spread a usable uncertainty?  Per target on ``data``
    (the test split): the mean spread (std over members, ddof 0, as the app
    computes it), the MAE of the members' mean, the share of structures whose
    error is within 1x and 2x the spread, and the Spearman rank correlation
    between spread and |error| (ties are rare in floats: plain ranks)."""
    if not data:
        return {}
    p = np.stack(preds)
    mean, spread = p.mean(0), p.std(0)
    y = np.stack([d["y"] for d in data])
    out = {}
    for t, name in enumerate(TARGETS[:y.shape[1]]):
        ok = np.isfinite(y[:, t])
        if not ok.any():
            continue
        err, sd = np.abs(mean[ok, t] - y[ok, t]), spread[ok, t]

        def rank(v):
            return np.argsort(np.argsort(v)).astype(float)
        rho = float(np.corrcoef(rank(sd), rank(err))[0, 1]) if ok.sum() > 2 else float("nan")
        out[name] = {"meanSpread": float(sd.mean()), "mae": float(err.mean()),
                     "within1": float((err <= sd).mean()),
                     "within2": float((err <= 2 * sd).mean()),
                     "spearman": rho, "n": int(ok.sum())}
    return out


def ensemble_val_loss(val_preds: list[np.ndarray], val, mean, std) -> float:
    """Normalised masked MSE (the training loss) of the mean of the members'
    de-normalised predictions on ``val``: the val loss of the ensemble the
    app would run.  It ranks the sparse variants for export, because the
    mean of the members' own val losses lets one bad seed decide (session
    12).  With ~76 val structures it is still a noisy choice: EXPERIMENTS.md
    has how it fared."""
    if not val:
        return float("nan")
    p = (np.mean(np.stack(val_preds), axis=0) - mean) / std
    y = (np.stack([d["y"] for d in val]) - mean) / std
    return float(masked_mse(torch.from_numpy(p), torch.from_numpy(y)))


def choose_variant(scores: dict[str, float]) -> str:
    """The variant with the lowest selection score; NaN never wins, and a
    tie goes to the first variant trained (the plain one)."""
    return min(scores, key=lambda k: (not np.isfinite(scores[k]),
                                      scores[k] if np.isfinite(scores[k]) else 0.0))


def export_members(sparse_runs: dict[str, list], rule: str,
                   selection: dict[str, float]) -> tuple[str, list]:
    """Which sparse seeds the app ships: (name, runs).  ``all``: every seed
    of every variant, in training order (one variant alone keeps its name);
    ``best``: the seeds of ``choose_variant(selection)``."""
    if rule == "best" or len(sparse_runs) == 1:
        chosen = choose_variant({k: v for k, v in selection.items() if k in sparse_runs})
        return chosen, sparse_runs[chosen]
    if rule != "all":
        raise ValueError(f"unknown export rule {rule!r}")
    return ALL_SPARSE, [r for runs in sparse_runs.values() for r in runs]


def prediction_line(label: str, seed: int, val_pred, test_pred) -> dict:
    """One PREDICTIONS_JSON line: a run's de-normalised predictions at 6
    significant digits (float32 models; ~1e-6 eV), NaN as null."""
    def short(p):
        return [[float(f"{v:.6g}") for v in row] for row in np.asarray(p, float)]
    return {"variant": label, "seed": seed, "val": short(val_pred),
            "test": short(test_pred)}


def ensemble_label(label: str, seeds: int) -> str:
    return f"{label}: mean of the {seeds} seeds' predictions"


def pop_curves(info: dict, label: str, seed: int) -> dict:
    """Moves the per-epoch losses out of a run's ``info`` (which goes to
    results.json) into one CURVES_JSON line, at 4 significant digits."""
    def short(c):
        return [float(f"{x:.4g}") for x in c]
    return {"variant": label, "seed": seed, "selected_on": info["selected_on"],
            "best_epoch": info["best_epoch"],
            "train": short(info.pop("train_curve")),
            info["selected_on"]: short(info.pop("curve"))}


def write_jsonl(rows: list[dict], path: str) -> None:
    """One JSON object per line (JSON Lines): a list with indent=1 would put
    every one of ~8,000 numbers on its own line."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        for r in rows:
            fh.write(json.dumps(finite_or_none(r), allow_nan=False) + "\n")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DATASET)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--max-epochs", type=int, default=500)
    p.add_argument("--full-max-epochs", type=int, default=300,
                   help="epoch cap of the full-graph baseline (each of its "
                        "epochs costs ~50x a sparse one)")
    p.add_argument("--patience", type=int, default=0,
                   help="epochs without a better val loss before stopping; "
                        "0 (default) trains all --max-epochs and keeps the "
                        "best val epoch (why: 'Choosing epochs' in "
                        "models/defects/README.md)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    # The model's size.  The exported shape goes into the manifest, which
    # megnet.ts reads; the defaults are the size the app ships.
    p.add_argument("--hidden", type=int, default=64,
                   help="MLP hidden width (even: the readout halves it)")
    p.add_argument("--features", type=int, default=32,
                   help="width of node, edge and state vectors between blocks")
    p.add_argument("--blocks", type=int, default=3, help="MEGNet blocks")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="decoupled weight decay (AdamW) for every MEGNet run; "
                        "0 = plain Adam. See models/defects/EXPERIMENTS.md")
    p.add_argument("--no-full", action="store_true",
                   help="skip the full-graph MEGNet baseline (the slow one)")
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--export", choices=("all", "best"), default="all",
                   help="which sparse seeds the app gets: all (default) = "
                        "every seed of both variants; best = the seeds of the "
                        "variant whose averaged prediction has the lower val "
                        "loss (EXPERIMENTS.md, session 14)")
    p.add_argument("--pretrain", default=PRETRAIN,
                   help="GFN0-xTB pretraining set (default %(default)s; "
                        "used when the file exists)")
    p.add_argument("--no-pretrain", action="store_true",
                   help="skip the pretrained sparse MEGNet")
    p.add_argument("--min-val", type=int, default=30,
                   help="below this many val structures, choose the epoch "
                        "count by 5-fold CV on train instead of early "
                        "stopping on val (default %(default)s)")
    p.add_argument("--cv-max-epochs", type=int, default=500)
    p.add_argument("--pretrain-epochs", type=int, default=100)
    p.add_argument("--pretrain-batch", type=int, default=64)
    p.add_argument("--spin-labels", default=None, metavar="JSONL",
                   help="spin-polarised recomputations (spin_check.py's file); "
                        "where one is the ground state by more than 10 meV its "
                        "labels replace the restricted ones (spin_labels.py). "
                        "Off by default: mixing both kinds within a host is only "
                        "sound once all its odd-electron records are recomputed")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    spins = None
    if args.spin_labels:
        from defects.spin_labels import spin_records
        spins = spin_records(args.spin_labels)
    data = load(args.data, spins=spins)
    if spins is not None:
        print(f"[train] spin-aware labels from {args.spin_labels}: "
              f"{sum(d['spin'] for d in data)} of {len(data)} records relabelled")
    parts = {k: [d for d in data if d["split"] == k] for k in ("train", "val", "test")}
    train, val, test = parts["train"], parts["val"], parts["test"]
    counts = {h: {k: sum(d["host"] == h for d in v) for k, v in parts.items()}
              for h in HOSTS}
    counts["all"] = {k: len(v) for k, v in parts.items()}
    print(f"[train] {len(data)} usable structures: {len(train)} train, "
          f"{len(val)} val, {len(test)} test")
    if not train:
        print("[train] no training structures yet: nothing to train "
              "(the dataset is empty or every record is in val/test)")
        return 1
    if len(data) < 10:
        print(f"[train] WARNING: only {len(data)} structures. The model is "
              "trained and exported so the pipeline runs end to end, but its "
              "predictions are not meaningful.")
    mean, std = normalisation(np.stack([d["y"] for d in train]))

    sparse_shape = dict(nodeIn=SPARSE_NODE_IN, stateIn=STATE_IN, rbf=SPARSE_RBF,
                        cutoff=SPARSE_CUTOFF, hidden=args.hidden,
                        features=args.features, blocks=args.blocks, outputs=N_TARGETS)
    full_shape = dict(sparse_shape, nodeIn=FULL_NODE_IN, cutoff=FULL_CUTOFF)
    kw = dict(max_epochs=args.max_epochs, patience=args.patience,
              batch_size=args.batch, lr=args.lr, weight_decay=args.weight_decay)
    rows, runs_info = {}, {}
    # label -> [(model, info, test predictions, val predictions)] of each
    # sparse seed: the export is every seed of one variant.
    sparse_runs: dict[str, list] = {}
    curves: list[dict] = []  # written to CURVES_JSON
    predictions: list[dict] = []  # written to PREDICTIONS_JSON
    # Early stopping needs a val set that can tell epochs apart; below
    # --min-val structures the epoch count is cross-validated instead.
    small_val = len(val) < args.min_val

    def export_score(label: str) -> float:
        """What ranks the sparse variants for export: the val loss of the
        seeds' averaged prediction (``ensemble_val_loss``), or with a small
        val split the variant's CV loss (cross-validated on seed 0 only)."""
        runs = sparse_runs[label]
        if small_val:
            return float(np.mean([info["cv"]["cv_loss"] for _, info, _, _ in runs]))
        return ensemble_val_loss([v for _, _, _, v in runs], val, mean, std)

    def run_seeds(label: str, key: str, shape: dict, cap: dict,
                  pretrain: tuple | None = None) -> None:
        """Trains ``args.seeds`` seeds, records their test MAEs under
        ``label`` and, for the sparse graph, keeps the models for export.
        ``pretrain``: (train, val, mean, std) of a pretraining set to train
        on first, each seed then fine-tuned on the DFT train set."""
        rows[label], runs_info[label] = [], []
        chosen = None  # (epochs, cv info) when the val split is too small
        preds = []  # each seed's test predictions, for the ensemble row
        for seed in range(args.seeds):
            init, pinfo = None, None
            if pretrain is not None:
                p_train, p_val, p_mean, p_std = pretrain
                pre, pinfo = train_megnet(
                    p_train, p_val, key, shape, p_mean, p_std, seed,
                    max_epochs=args.pretrain_epochs, patience=args.patience,
                    batch_size=args.pretrain_batch, lr=args.lr,
                    weight_decay=args.weight_decay)
                curves.append(pop_curves(pinfo, label + " (pretraining)", seed))
                init = pre.state_dict()
            if not small_val:
                model, info = train_megnet(train, val, key, shape, mean, std,
                                           seed, **cap, init=init)
            else:
                if chosen is None and key == "sparse":  # once, on seed 0
                    chosen = cv_epochs(train, key, shape, mean, std, seed,
                                       max_epochs=min(cap["max_epochs"], args.cv_max_epochs),
                                       batch_size=cap["batch_size"], lr=cap["lr"],
                                       init=init, weight_decay=cap["weight_decay"])
                    print(f"[train] {label}: {chosen[0]} epochs by "
                          f"{chosen[1]['folds']}-fold CV ({chosen[1]['seconds']} s)")
                # The full graph is too slow to cross-validate: it trains its cap.
                epochs = chosen[0] if chosen else cap["max_epochs"]
                model, info = train_megnet(train, val, key, shape, mean, std,
                                           seed, **dict(cap, max_epochs=epochs),
                                           init=init, early_stopping=False)
                if chosen:
                    info["cv"] = chosen[1]
            curves.append(pop_curves(info, label, seed))
            if pinfo is not None:
                info["pretraining"] = pinfo
            preds.append(predict(model, test, key, mean, std))
            val_pred = predict(model, val, key, mean, std)
            predictions.append(prediction_line(label, seed, val_pred, preds[-1]))
            m = metrics(preds[-1], test)
            info["test_mae"] = m
            info["variant"] = label
            rows[label].append(m)
            runs_info[label].append(info)
            print(f"[train] {label} seed {seed}: best epoch {info['best_epoch']} "
                  f"of {info['epochs']}, {info['selected_on']} loss "
                  f"{info['selection_loss']:.4f}, test MAE E_f "
                  f"{fmt([m[TARGETS[0]]['all']])} gap {fmt([m[TARGETS[1]]['all']])} "
                  f"HOMO {fmt([m[TARGETS[2]]['all']])} LUMO {fmt([m[TARGETS[3]]['all']])} "
                  f"eV ({info['seconds']} s"
                  + (f" + {pinfo['seconds']} s pretraining" if pinfo else "") + ")")
            if key == "sparse":
                sparse_runs.setdefault(label, []).append(
                    (model, info, preds[-1], val_pred))
        if len(preds) > 1:
            # The seeds disagree by more than the rows' differences (README
            # "Choosing epochs"); averaging them shows what an ensemble buys.
            rows[ensemble_label(label, len(preds))] = [ensemble_metrics(preds, test)]

    run_seeds("MEGNet, sparse defect graph (app)", "sparse", sparse_shape, kw)
    pre_train, pre_val = [], []
    if not args.no_pretrain and os.path.exists(args.pretrain):
        pre_train, pre_val = load_pretraining(args.pretrain)
        print(f"[train] pretraining set {args.pretrain}: {len(pre_train)} "
              f"train, {len(pre_val)} val (DFT-train configurations only)")
    if pre_train:
        p_mean, p_std = normalisation(np.stack([d["y"] for d in pre_train]))
        run_seeds(PRETRAINED_ROW, "sparse", sparse_shape, kw,
                  pretrain=(pre_train, pre_val, p_mean, p_std))
    if not args.no_full:
        run_seeds("MEGNet, full structure graph", "full", full_shape,
                  dict(kw, max_epochs=args.full_max_epochs))
    if len(sparse_runs) > 1:
        # The default export: what averaging both variants' seeds gives.
        every = [p for runs in sparse_runs.values() for _, _, p, _ in runs]
        rows[ensemble_label(ALL_SPARSE, len(every))] = [ensemble_metrics(every, test)]
    ridge_pred, alphas = ridge_baseline(train, val, test, cv=small_val)
    rows["Ridge on defect descriptors"] = [metrics(ridge_pred, test)]
    rows["Training-set mean"] = [metrics(np.tile(mean, (len(test), 1)), test)]

    settings = dict(data[0]["rec"].get("settings", {}))
    settings["gpaw_version"] = data[0]["rec"].get("gpaw_version", "")
    seconds = time.perf_counter() - t0
    cv_summary = {label: f"{runs[0]['cv']['epochs']} epochs"
                  for label, runs in runs_info.items() if "cv" in runs[0]}
    selection = {lab: export_score(lab) for lab in sparse_runs}
    if len(sparse_runs) > 1 and not small_val:
        # Scored for the record (results.json), so that the rules can be
        # compared across runs; choose_variant never sees it.
        every_val = [v for runs in sparse_runs.values() for _, _, _, v in runs]
        all_score = ensemble_val_loss(every_val, val, mean, std)
    else:
        all_score = None
    chosen, members = export_members(sparse_runs, args.export, selection)
    spread = spread_check([p for _, _, p, _ in members], test)
    print("[train] export candidates (" + ("mean CV loss" if small_val else
          "val loss of the seeds' mean") + "): " + ", ".join(
          f"{lab!r} {v:.4f}" for lab, v in selection.items())
          + (f", all seeds {all_score:.4f}" if all_score is not None else "")
          + f"; rule --export {args.export}")
    print(f"[train] export: the {len(members)} seeds of {chosen!r}; test spread "
          + ", ".join(f"{t} {c['meanSpread']:.3f} eV (within 2x: "
                      f"{100 * c['within2']:.0f} %, rho {c['spearman']:.2f})"
                      for t, c in spread.items()))
    write_results_md(rows, counts, data, settings, args, seconds,
                     (len(pre_train), len(pre_val)), cv_summary,
                     exported=(chosen, len(members), spread))
    report = {"date": _dt.date.today().isoformat(), "counts": counts,
              "split": SPLIT_RULE, "normalization": {"mean": mean.tolist(),
                                                     "std": std.tolist()},
              "runs": runs_info, "ridge_alphas": alphas,
              "exported": {"variant": chosen, "members": len(members),
                           "rule": args.export,
                           "memberVariants": [i["variant"] for _, i, _, _ in members],
                           "scoredBy": "cv_loss" if small_val else "ensemble_val_loss",
                           "selection": selection, "allSeedsScore": all_score,
                           "spread": spread},
              "test_ids": [d["id"] for d in test],
              "val_ids": [d["id"] for d in val]}
    os.makedirs(os.path.dirname(RESULTS_JSON), exist_ok=True)
    with open(RESULTS_JSON, "w") as fh:
        json.dump(finite_or_none(report), fh, indent=1, allow_nan=False)
        fh.write("\n")
    write_jsonl(curves, CURVES_JSON)
    write_jsonl(predictions, PREDICTIONS_JSON)
    print(f"[train] wrote {RESULTS_MD}, {RESULTS_JSON}, {CURVES_JSON} and "
          f"{PREDICTIONS_JSON}")

    if not args.no_export:
        from defects import export
        from ase.data import atomic_numbers
        elements = set()  # every element present in a training structure
        for d in train:
            elements |= {atomic_numbers[x] for x in d["rec"]["species"]}
            elements |= {x["zOld"] for x in d["config"]["defects"]}
        # Whether each member was pretrained on GFN0-xTB labels: written per
        # member (the app counts these instead of matching variant names) and
        # summed for the `pretrained` line below.
        member_pretrained = ["pretraining" in info for _, info, _, _ in members]
        training = {
            "structures": len(train),
            "structuresVal": len(val), "structuresTest": len(test),
            "hosts": sorted({d["host"] for d in train}),
            "elements": sorted(int(z) for z in elements),
            "maxDefects": max(len(d["config"]["defects"]) for d in train),
            "hostCounts": {h: counts[h]["train"] for h in HOSTS if counts[h]["train"]},
            # Defect concentration (defects per 100 pristine sites, the last
            # state feature) seen in training: the app warns outside it.
            "concentration": [
                min(100.0 * len(d["config"]["defects"]) / d["config"]["pristineSites"] for d in train),
                max(100.0 * len(d["config"]["defects"]) / d["config"]["pristineSites"] for d in train),
            ],
            "dataset": "models/defects/data/dft.jsonl",
            "split": SPLIT_RULE,
            "variant": chosen,
            "seeds": [info["seed"] for _, info, _, _ in members],
            # Member k's variant (the plain and pretrained seeds share seed
            # numbers).
            "memberVariants": [info["variant"] for _, info, _, _ in members],
            "memberPretrained": member_pretrained,
            # Test MAE of the members' mean (what the app predicts), and of
            # each member alone.
            "testMae": {t: v["all"] for t, v in ensemble_metrics(
                [p for _, _, p, _ in members], test).items()},
            "memberTestMae": [{t: info["test_mae"][t]["all"] for t in TARGETS}
                              for _, info, _, _ in members],
            # How the spread relates to the error on the test split
            # (spread_check): the app quotes it beside each uncertainty.
            "spread": spread,
        }
        pretrained = sum(member_pretrained)
        if pretrained:
            training["pretrained"] = (
                f"GFN0-xTB labels of {len(pre_train)} DFT-train configurations "
                f"({os.path.relpath(args.pretrain, os.path.dirname(os.path.dirname(HERE)))})"
                + (f", {pretrained} of the {len(members)} models"
                   if pretrained < len(members) else ""))
        if len(data) < MIN_MEANINGFUL:
            training["warning"] = (f"trained on {len(train)} structures only: "
                                   "predictions are not meaningful yet")
        export.export_all([m for m, _, _, _ in members], mean, std,
                          finite_or_none(training))
    return 0


if __name__ == "__main__":
    sys.exit(main())
