"""A new checkpoint from parts of trained ones, for ``train.py`` to go on with.

    cd models
    /usr/bin/python3 -m cdvae.warm_start --base cdvae/checkpoints/carbon_24.pt \\
        --score cdvae/checkpoints/carbon_24-painn.pt --out cdvae/checkpoints/carbon_24-painn-warm.pt
    /usr/bin/python3 -m cdvae.train --dataset carbon_24 --checkpoint cdvae/checkpoints/carbon_24-painn-warm.pt

Why: a model's encoder and heads (number of atoms, lattice, composition,
property) learn slowly; carbon_24's lattice loss took about 80 epochs to
settle, whatever the score network.  A new score network (``--score``, for
example the PaiNN one) can start from an older model's encoder and heads
(``--base``, same dataset and split) instead of from nothing.  Every weight
keeps training afterwards, so the score network adapts to the base
encoder's latent vectors.  The new checkpoint records both sources, and
its training time is the sum of theirs, so the cost stays honest.
"""

from __future__ import annotations

import argparse
import math
import os

import torch

from cdvae.model import CDVAE, Config


def combine(base: dict, score: dict, lr: float) -> dict:
    if base["split_rule"] != score["split_rule"] or base["sizes"] != score["sizes"]:
        raise SystemExit("the two checkpoints were trained on different splits")
    cfg = Config(**score["config"])
    if Config(**base["config"]).vocab != cfg.vocab:
        raise SystemExit("the two checkpoints know different elements")
    model = CDVAE(cfg)
    state = model.state_dict()
    take_score = {k: v for k, v in score["best_state"].items() if k.startswith("score.")}
    take_base = {k: v for k, v in base["best_state"].items() if not k.startswith("score.") and k in state}
    state.update(take_base)
    state.update(take_score)
    model.load_state_dict(state)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return {
        "epoch": 0, "best_val": math.inf, "best_state": None, "history": [], "lr": lr, "bad_epochs": 0,
        "train_seconds": base["train_seconds"] + score["train_seconds"],
        "dataset": score["dataset"], "split_rule": score["split_rule"], "sizes": score["sizes"],
        "warm_start": {"base": {"epochs": base["epoch"], "score_net": base["config"].get("score_net", "radial"),
                                "parts": "encoder and heads"},
                       "score": {"epochs": score["epoch"], "score_net": cfg.score_net, "parts": "score network"}},
        "config": cfg.to_dict(), "model": model.state_dict(), "optimizer": opt.state_dict(),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="checkpoint giving the encoder and heads")
    p.add_argument("--score", required=True, help="checkpoint giving the score network (and the config)")
    p.add_argument("--out", required=True)
    p.add_argument("--lr", type=float, default=1e-3)
    args = p.parse_args()
    if os.path.exists(args.out):
        raise SystemExit(f"{args.out} exists; train.py resumes it")
    ck = combine(torch.load(args.base), torch.load(args.score), args.lr)
    torch.save(ck, args.out)
    print(f"wrote {args.out}: encoder and heads from {args.base} (epoch {ck['warm_start']['base']['epochs']}), "
          f"score network from {args.score} (epoch {ck['warm_start']['score']['epochs']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
