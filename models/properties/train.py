"""Train one member of the crystal-property MEGNet ensemble on the full
periodic graphs of ``graphs.py`` (PyTorch on CPU).

Each run trains one member (one seed) and keeps, in
``checkpoints/member-<seed>.pt``, the weights of its best epoch on the
validation split together with its history, so members can be trained one
after another or side by side (one core each), and a run can be resumed
(``--resume``) by a later session when the time allowed ran out:

    cd models && nice -n 19 /usr/bin/python3 -m properties.train --seed 1 --minutes 90

The loss is the masked L1 of the normalised targets (eform, gap, ehull;
each standardised with its training-split mean and std; a missing target,
such as mpts_52's gap, adds nothing).  ``export.py`` gathers the members,
evaluates the ensemble and writes the app's weight file.
"""

from __future__ import annotations

import argparse
import math
import os
import time

# One core means one thread everywhere: torch.set_num_threads(1) (below)
# leaves OpenMP's and OpenBLAS's own pools alone, and Debian's torch then ran
# at 200 % CPU on this 2-core machine, starving the benchmarks beside it.
# Set before numpy and torch load their libraries; a caller's value wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mlcore.megnet import MEGNet

from .data import HERE, TARGETS
from .graphs import MAX_Z, STATE_IN, load, restrict

CHECKPOINTS = os.path.join(HERE, "checkpoints")

#: MEGNet's widths (Chen et al. 2019: 64 -> 32 per φ, three blocks) and
#: matgl's 4 Å cutoff for its MP formation-energy MEGNet (shared/
#: reference-models/matgl/MEGNet-MP-2018.6.1-Eform/model.json); 20 Gaussians
#: (width = spacing = 0.21 Å).  5 Å doubles the edges (31 vs 16 per atom)
#: and the epoch time (1.8 vs 0.8 min on one core): RESULTS.md, "Setup".
SHAPE = dict(nodeIn=MAX_Z, stateIn=STATE_IN, rbf=20, cutoff=4.0, hidden=64,
             features=32, blocks=3, outputs=len(TARGETS), set2setSteps=3)


class Batches:
    """Fast batching of the concatenated graph arrays: a batch is built from
    slices, with one-hot node features made on the fly."""

    def __init__(self, data: dict, idx: np.ndarray):
        self.d = data
        self.idx = idx

    def batch(self, ids: np.ndarray) -> dict:
        d = self.d
        no, eo = d["node_offsets"], d["edge_offsets"]
        n_counts = no[ids + 1] - no[ids]
        e_counts = eo[ids + 1] - eo[ids]
        node_ix = np.concatenate([np.arange(no[i], no[i + 1]) for i in ids])
        edge_ix = np.concatenate([np.arange(eo[i], eo[i + 1]) for i in ids])
        shift = np.repeat(np.concatenate([[0], np.cumsum(n_counts)[:-1]]), e_counts)
        z = d["z"][node_ix]
        nodes = torch.zeros(len(z), MAX_Z)
        ok = (z >= 1) & (z <= MAX_Z)
        nodes[torch.from_numpy(np.nonzero(ok)[0]), torch.from_numpy(z[ok] - 1).long()] = 1
        return {
            "nodes": nodes,
            "src": torch.from_numpy(d["src"][edge_ix] + shift).long(),
            "dst": torch.from_numpy(d["dst"][edge_ix] + shift).long(),
            "dist": torch.from_numpy(d["dist"][edge_ix]),
            "state": torch.zeros(len(ids), STATE_IN),
            "node_graph": torch.from_numpy(np.repeat(np.arange(len(ids)), n_counts)).long(),
            "edge_graph": torch.from_numpy(np.repeat(np.arange(len(ids)), e_counts)).long(),
            "y": torch.from_numpy(d["y"][ids]).float(),
        }

    def epoch(self, size: int, rng: np.random.Generator | None):
        order = self.idx if rng is None else rng.permutation(self.idx)
        for k in range(0, len(order), size):
            yield self.batch(order[k:k + size])


def forward(model: MEGNet, b: dict) -> torch.Tensor:
    return model(b["nodes"], b["src"], b["dst"], b["dist"], b["state"],
                 b["node_graph"], b["edge_graph"])


def masked_l1(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over targets of each target's mean |error| over its known values."""
    ok = torch.isfinite(y)
    err = torch.where(ok, (pred - torch.nan_to_num(y)).abs(), torch.zeros_like(pred))
    per = err.sum(0) / ok.sum(0).clamp(min=1)
    return per.mean()


def normalization(data: dict, train_idx: np.ndarray):
    y = data["y"][train_idx]
    return np.nanmean(y, 0), np.nanstd(y, 0)


@torch.no_grad()
def predict(model: MEGNet, batches: Batches, mean, std, size: int = 256) -> np.ndarray:
    """De-normalised predictions [len(batches.idx), targets] in idx order."""
    model.eval()
    out = [forward(model, b).numpy() for b in batches.epoch(size, None)]
    return np.concatenate(out) * std + mean


def mae(pred: np.ndarray, y: np.ndarray) -> list[float]:
    return [float(np.nanmean(np.abs(pred[:, t] - y[:, t]))) for t in range(y.shape[1])]


def split_indices(data: dict) -> dict[str, np.ndarray]:
    return {s: np.nonzero(data["split"] == s)[0] for s in ("train", "val", "test")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=60, help="wall-clock budget; the run stops after the epoch that crosses it")
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N training crystals only (smoke tests)")
    ap.add_argument("--resume", action="store_true", help="continue from checkpoints/member-<seed>.pt")
    ap.add_argument("--set-lr", type=float, default=None,
                    help="after --resume, continue at this learning rate (e.g. a last stretch at a lower rate when the time is short)")
    ap.add_argument("--out", default=CHECKPOINTS)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    data = restrict(load(5.0), SHAPE["cutoff"]) if SHAPE["cutoff"] < 5.0 else load(SHAPE["cutoff"])
    idx = split_indices(data)
    train_idx = idx["train"][: args.limit] if args.limit else idx["train"]
    val_idx = idx["val"][: max(64, args.limit // 4)] if args.limit else idx["val"]
    mean, std = normalization(data, idx["train"])
    model = MEGNet(**SHAPE)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    path = os.path.join(args.out, f"member-{args.seed}.pt")
    state = {"epoch": 0, "best_val": math.inf, "history": [], "seconds": 0.0}
    if args.resume and os.path.exists(path):
        ck = torch.load(path)
        model.load_state_dict(ck["last_model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        print(f"resumed seed {args.seed} at epoch {state['epoch']} (best val {state['best_val']:.4f})", flush=True)
    # Halve the learning rate when the val loss has not improved for 8
    # epochs (MEGNet's recipe is the same idea with a longer patience).
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=8, min_lr=1e-5)
    if args.resume and os.path.exists(path) and "scheduler" in ck:
        sched.load_state_dict(ck["scheduler"])
    if args.set_lr is not None:
        for g in opt.param_groups:
            g["lr"] = args.set_lr
        state.setdefault("lr_changes", []).append({"epoch": state["epoch"], "lr": args.set_lr})
    ymean, ystd = torch.tensor(mean).float(), torch.tensor(std).float()
    train, val = Batches(data, train_idx), Batches(data, val_idx)
    best = ck["best_model"] if args.resume and os.path.exists(path) else None
    t_start = time.time()
    while state["epoch"] < args.epochs:
        t0 = time.time()
        model.train()
        total, n = 0.0, 0
        for b in train.epoch(args.batch, rng):
            loss = masked_l1(forward(model, b), (b["y"] - ymean) / ystd)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(b["state"])
            n += len(b["state"])
        pv = predict(model, val, mean, std)
        vm = mae(pv, data["y"][val_idx])
        vloss = float(np.mean([m / s for m, s in zip(vm, std)]))
        sched.step(vloss)
        state["epoch"] += 1
        state["seconds"] += time.time() - t0
        state["history"].append({"epoch": state["epoch"], "train": total / n, "val": vloss,
                                 "val_mae": vm, "lr": opt.param_groups[0]["lr"],
                                 "seconds": round(time.time() - t0, 1)})
        if vloss < state["best_val"]:
            state["best_val"] = vloss
            state["best_epoch"] = state["epoch"]
            best = {k: v.clone() for k, v in model.state_dict().items()}
        print(f"seed {args.seed} epoch {state['epoch']}: train {total / n:.4f} val {vloss:.4f} "
              f"MAE eform {vm[0]:.4f} gap {vm[1]:.4f} ehull {vm[2]:.4f} "
              f"lr {opt.param_groups[0]['lr']:.1e} ({time.time() - t0:.0f} s)", flush=True)
        os.makedirs(args.out, exist_ok=True)
        torch.save({"shape": SHAPE, "seed": args.seed, "mean": mean, "std": std,
                    "best_model": best, "last_model": model.state_dict(),
                    "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "state": state, "train_size": len(train_idx)}, path + ".tmp")
        os.replace(path + ".tmp", path)  # a kill mid-write keeps the last good file
        if time.time() - t_start > args.minutes * 60:
            break
    print(f"seed {args.seed}: stopped after epoch {state['epoch']}, best val {state['best_val']:.4f} "
          f"at epoch {state.get('best_epoch')}", flush=True)


if __name__ == "__main__":
    main()
