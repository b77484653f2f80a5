"""Train the CDVAE on one crystal dataset, resumably, on the CPU.

    cd models && /usr/bin/python3 -m cdvae.train --dataset perov_5 --minutes 60

Every epoch ends with a checkpoint (``checkpoints/<dataset>.pt``: config,
weights, optimiser, learning-rate state, history and the weights with the
best validation loss), so a run killed at any point, or stopped by its time
budget, continues where it was with the next call, in this session or the
next one. The checkpoint is committed to git for that reason.

Split: data.py (hash of the row id; 80/10/10). Training shuffles with a
generator seeded by (seed, epoch), validation uses a fixed noise generator,
so the validation loss of two epochs is comparable. Adam, lr 1e-3, reduced by
0.6 after 30 epochs without improvement (down to 1e-4), like CDVAE's configs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

from cdvae import data
from cdvae.model import CDVAE, Config, collate, lattice_from_params

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINTS = os.path.join(HERE, "checkpoints")


def checkpoint_path(dataset: str) -> str:
    return os.path.join(CHECKPOINTS, f"{dataset}.pt")


def make_config(dataset: str, train: list[data.Crystal], **overrides) -> Config:
    vocab = data.vocabulary(train)
    n = np.array([len(c.numbers) for c in train], dtype=float)
    lat = np.concatenate([np.stack([c.lengths for c in train]) / n[:, None] ** (1 / 3),
                          np.stack([c.angles for c in train])], 1)
    props = np.array([c.prop for c in train])
    props = props[~np.isnan(props)]
    cfg = Config(vocab=vocab, max_atoms=int(n.max()),
                 lattice_mean=lat.mean(0).tolist(),
                 lattice_std=np.maximum(lat.std(0), 1e-3).tolist(),
                 prop_mean=float(props.mean()) if len(props) else 0.0,
                 prop_std=float(props.std()) if len(props) else 1.0,
                 **volume_standardisation(log_volumes_per_atom(train)))
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def log_volumes_per_atom(crystals: list[data.Crystal]) -> np.ndarray:
    """log(Å³ per atom) of each crystal: the volume head's target."""
    cells = lattice_from_params(torch.as_tensor(np.stack([c.lengths for c in crystals]), dtype=torch.float32),
                                torch.as_tensor(np.stack([c.angles for c in crystals]), dtype=torch.float32))
    n = np.array([len(c.numbers) for c in crystals], dtype=float)
    return np.log(torch.det(cells).abs().numpy() / n)


def volume_standardisation(log_vpa: np.ndarray) -> dict:
    """The Config fields that standardise the volume head's target."""
    return {"log_volume_mean": float(log_vpa.mean()), "log_volume_std": max(float(log_vpa.std()), 1e-3)}


def model_from_checkpoint(ck: dict, which: str = "best") -> CDVAE:
    model = CDVAE(Config(**ck["config"]))
    model.load_state_dict(ck["best_state" if which == "best" else "model"])
    model.eval()
    return model


def best_epoch(ck: dict) -> int:
    """The epoch whose weights are ``best_state`` (the one with the lowest
    validation loss in the history), which is what export and evaluate
    load; ``ck["epoch"]`` counts the epochs trained after it too."""
    hits = [h["epoch"] for h in ck.get("history", []) if h.get("val_loss") == ck["best_val"]]
    return hits[-1] if hits else ck["epoch"]


def load_model(dataset: str, which: str = "best") -> CDVAE:
    return model_from_checkpoint(torch.load(checkpoint_path(dataset)), which)


def batches(items, size: int, g: torch.Generator | None):
    order = torch.randperm(len(items), generator=g).tolist() if g is not None else range(len(items))
    order = list(order)
    for k in range(0, len(order), size):
        yield [items[i] for i in order[k:k + size]]


@torch.no_grad()
def evaluate(model: CDVAE, crystals, vocab_index, size: int) -> dict:
    model.eval()
    g = torch.Generator().manual_seed(12345)
    sums: dict[str, float] = {}
    count = 0
    for chunk in batches(crystals, size, None):
        out = model.loss(collate(chunk, vocab_index), g)
        for k, v in out.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
        count += len(chunk)
    model.train()
    return {k: v / count for k, v in sums.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="perov_5")
    p.add_argument("--minutes", type=float, default=60.0, help="stop after the epoch that passes this")
    p.add_argument("--max-epochs", type=int, default=100000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=None, help="use only this many crystals (smoke tests)")
    p.add_argument("--checkpoint", default=None, help="path (default checkpoints/<dataset>.pt)")
    p.add_argument("--score-net", choices=("radial", "painn"), default="radial",
                   help="score network of a new model (model.py: ScoreNet or PaiNNScoreNet); "
                        "a resumed model keeps its own")
    p.add_argument("--volume-head", action="store_true",
                   help="a new model gets the volume-per-atom head (model.py); "
                        "python -m cdvae.volume_head adds one to a trained model")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    crystals = data.load(args.dataset, limit=args.limit, verbose=False)
    sp = data.splits(crystals)
    path = args.checkpoint or checkpoint_path(args.dataset)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        ck = torch.load(path)
        cfg = Config(**ck["config"])
        model = CDVAE(cfg)
        model.load_state_dict(ck["model"])
        opt = torch.optim.Adam(model.parameters(), lr=ck["lr"])
        opt.load_state_dict(ck["optimizer"])
        print(f"resuming {path} at epoch {ck['epoch']} (best val {ck['best_val']:.4f})", flush=True)
    else:
        cfg = make_config(args.dataset, sp["train"], score_net=args.score_net,
                          volume_head=args.volume_head)
        model = CDVAE(cfg)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        ck = {"epoch": 0, "best_val": math.inf, "best_state": None, "history": [],
              "lr": args.lr, "bad_epochs": 0, "train_seconds": 0.0,
              "dataset": args.dataset, "split_rule": data.SPLIT_RULE,
              "sizes": {k: len(v) for k, v in sp.items()}}
        print(f"new model: {sum(p.numel() for p in model.parameters())} parameters, "
              f"{len(cfg.vocab)} elements, splits {ck['sizes']}", flush=True)
    vocab_index = model.z_to_index
    t_start = time.perf_counter()
    while ck["epoch"] < args.max_epochs:
        t0 = time.perf_counter()
        g = torch.Generator().manual_seed(args.seed * 100003 + ck["epoch"])
        model.train()
        tot, n = 0.0, 0
        for chunk in batches(sp["train"], args.batch, g):
            out = model.loss(collate(chunk, vocab_index), g)
            opt.zero_grad()
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            tot += float(out["loss"]) * len(chunk)
            n += len(chunk)
        val = evaluate(model, sp["val"], vocab_index, 256)
        ck["epoch"] += 1
        dt = time.perf_counter() - t0
        ck["train_seconds"] += dt
        ck["history"].append({"epoch": ck["epoch"], "train": tot / n, "seconds": dt, "lr": ck["lr"],
                              **{f"val_{k}": v for k, v in val.items()}})
        if val["loss"] < ck["best_val"]:
            ck["best_val"], ck["bad_epochs"] = val["loss"], 0
            ck["best_state"] = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            ck["bad_epochs"] += 1
            if ck["bad_epochs"] >= 30 and ck["lr"] > 1e-4:
                ck["lr"] = max(ck["lr"] * 0.6, 1e-4)
                ck["bad_epochs"] = 0
                for group in opt.param_groups:
                    group["lr"] = ck["lr"]
        ck.update(config=cfg.to_dict(), model=model.state_dict(), optimizer=opt.state_dict())
        tmp = path + ".tmp"
        torch.save(ck, tmp)
        os.replace(tmp, path)    # a kill never leaves half a checkpoint
        print(f"epoch {ck['epoch']:4d}  train {tot / n:8.4f}  val {val['loss']:8.4f} "
              f"(coord {val['coord']:.3f} type {val['type']:.3f} lat {val['lattice']:.3f} vol {val['volume']:.3f} "
              f"comp {val['composition']:.3f} kld {val['kld']:.1f})  {dt:5.1f} s", flush=True)
        if time.perf_counter() - t_start > args.minutes * 60:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
