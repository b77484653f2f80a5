"""Measure how large a PaiNN score network's features get in training, and
set the checkpoint's ``feature_bound`` above that.

Why: PaiNN's update is quadratic in the vector features, so a crystal whose
features leave the range seen in training blows up within the four blocks
(model.Config.feature_bound).  This script runs the training loss's forward
pass (random noise level per crystal, as in training) over the train split,
records the largest |s| and per-channel |v| each block outputs, and stores
``factor`` times the larger of the two as the bound.  Within the training
range the bound changes nothing, so the weights are not retrained.

    cd models
    python -m cdvae.feature_bound --dataset carbon_24 \\
        --checkpoint cdvae/checkpoints/carbon_24-painn-warm.pt --factor 2

The measured range goes into the checkpoint beside the bound
(``ck["feature_range"]``), and export.py copies both into model.json.
"""

from __future__ import annotations

import argparse
import sys

import torch

from cdvae import data
from cdvae.model import CDVAE, collate, feature_bound_set_to
from cdvae.train import batches, checkpoint_path, model_from_checkpoint


@torch.no_grad()
def feature_range(model: CDVAE, crystals, passes: int = 2, batch: int = 128, seed: int = 1) -> dict:
    """Largest |s| and per-channel |v| any PaiNN block outputs on ``crystals``
    noised as in training, over ``passes`` passes (each a fresh draw of
    noise levels and noise)."""
    if model.cfg.score_net != "painn":
        raise ValueError(f"the feature bound is for PaiNN score networks, not {model.cfg.score_net!r}")
    largest = {"s": 0.0, "v": 0.0}

    def record(_module, _inputs, out):
        s, v = out
        largest["s"] = max(largest["s"], float(s.abs().max()))
        largest["v"] = max(largest["v"], float(torch.sqrt((v * v).sum(1)).max()))

    hooks = [layer.register_forward_hook(record) for layer in model.score.layers]
    try:
        g = torch.Generator().manual_seed(seed)
        for _ in range(passes):
            for chunk in batches(crystals, batch, g):
                model.loss(collate(chunk, model.z_to_index), g)
    finally:
        for h in hooks:
            h.remove()
    return {"max_s": largest["s"], "max_v": largest["v"], "crystals": len(crystals), "passes": passes}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt; rewritten in place")
    p.add_argument("--factor", type=float, default=2.0, help="bound = factor x the largest feature seen")
    p.add_argument("--passes", type=int, default=2)
    args = p.parse_args()
    if args.factor < 1:
        print(f"--factor must be at least 1 (a bound inside the training range changes the model), got {args.factor}",
              file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    path = args.checkpoint or checkpoint_path(args.dataset)
    ck = torch.load(path)
    model = model_from_checkpoint(ck)
    try:
        # measured without a bound, so that an earlier bound cannot hide the range
        with feature_bound_set_to(model, None):
            rng = feature_range(model, data.splits(data.load(args.dataset, verbose=False))["train"], args.passes)
    except ValueError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2
    bound = args.factor * max(rng["max_s"], rng["max_v"])
    ck["config"]["feature_bound"] = bound
    ck["feature_range"] = dict(rng, factor=args.factor)
    torch.save(ck, path)
    print(f"train split ({rng['crystals']} crystals, {rng['passes']} passes): largest |s| {rng['max_s']:.2f}, "
          f"|v| {rng['max_v']:.2f}; feature_bound = {bound:.2f} written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
