"""Give a trained CDVAE the volume-per-atom head, fitted on its frozen encoder.

``model.py``'s volume head predicts log(Å³ per atom) from z, and the decoded
cell is scaled to it. A model trained without the head gets one here
without retraining anything else: z is sampled from each training
crystal's posterior (as the training loss does), the new head alone is
trained on it, and the checkpoint is rewritten with the head in both its
current and best weights. Its optimiser state is extended so that
``train.py`` can resume with the head training alongside the rest.

Printed: the head's standardised validation MSE, and the atom density of
cells decoded from the prior before and after (heads_check.py's numbers),
against the test crystals'.

    cd models
    /usr/bin/python3 -m cdvae.volume_head --dataset mp20_biternary_pilot
    /usr/bin/python3 -m cdvae.volume_head --dataset carbon_24 \\
        --checkpoint cdvae/checkpoints/carbon_24-painn-warm.pt
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from scipy.stats import wasserstein_distance

from cdvae import data
from cdvae.heads_check import atom_density, decode_cells, encode_split
from cdvae.model import CDVAE, Config
from cdvae.train import (checkpoint_path, evaluate, log_volumes_per_atom, model_from_checkpoint,
                         volume_standardisation)


def fit_head(model: CDVAE, train: dict, y_train: torch.Tensor, val: dict, y_val: torch.Tensor,
             epochs: int, seed: int = 0) -> list[tuple[int, float]]:
    """Train ``model.fc_volume`` alone on z from the posteriors; rows
    (epoch, validation MSE) every 50 epochs."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.fc_volume.parameters(), lr=1e-3)

    def z_of(d, gen=None):
        return d["mu"] + torch.randn(d["mu"].shape, generator=gen) * torch.exp(0.5 * d["logvar"])

    def val_mse():
        with torch.no_grad():
            return model.volume_loss(z_of(val, g), y_val).item()

    rows = [(0, val_mse())]
    for ep in range(1, epochs + 1):
        perm = torch.randperm(len(y_train))
        for i in range(0, len(perm), 128):
            j = perm[i:i + 128]
            loss = model.volume_loss(z_of({"mu": train["mu"][j], "logvar": train["logvar"][j]}), y_train[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if ep % 50 == 0 or ep == epochs:
            rows.append((ep, val_mse()))
    return rows


def with_volume_head(ck: dict, log_vpa: np.ndarray) -> tuple[CDVAE, dict]:
    """The checkpoint's best model with a fresh volume head (standardised on
    the training crystals' log volumes per atom) and its new config."""
    old = model_from_checkpoint(ck)
    cfg = Config(**{**ck["config"], "volume_head": True, **volume_standardisation(log_vpa)})
    model = CDVAE(cfg)
    missing, unexpected = model.load_state_dict(old.state_dict(), strict=False)
    if unexpected or any(not k.startswith("fc_volume.") for k in missing):
        raise ValueError(f"checkpoint does not fit the model: missing {missing}, unexpected {unexpected}")
    return model, cfg.to_dict()


def extend_optimizer_state(state: dict, n_before: int, n_after: int) -> dict:
    """A copy of Adam's saved state with parameter indices n_before..n_after-1 added to
    its one group (the head is registered last, so old indices stay valid;
    Adam creates the new parameters' moments on its first step)."""
    groups = state["param_groups"]
    if len(groups) != 1 or groups[0]["params"] != list(range(n_before)):
        raise ValueError("expected one parameter group over the model without the head")
    return {**state, "param_groups": [{**groups[0], "params": list(range(n_after))}]}


def install(ck: dict, model: CDVAE, config: dict, best_val: float | None = None) -> dict:
    """The checkpoint with the head in its best and current weights.
    ``best_val``: the best weights' validation loss with the head's term
    (train.py's ``evaluate``), so that training goes on comparing like with
    like; without it the old value stays."""
    head = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("fc_volume.")}
    n_before = len(list(model.parameters())) - len(list(model.fc_volume.parameters()))
    out = dict(ck)
    if best_val is not None:
        out["best_val"] = best_val
    out["config"] = config
    out["best_state"] = {**ck["best_state"], **head}
    out["model"] = {**ck["model"], **head}
    out["optimizer"] = extend_optimizer_state(ck["optimizer"], n_before, len(list(model.parameters())))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="carbon_24")
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt (rewritten)")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--n", type=int, default=2000, help="z drawn from the prior for the density check")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    path = args.checkpoint or checkpoint_path(args.dataset)
    ck = torch.load(path)
    if ck["config"].get("volume_head"):
        print(f"{path} already has a volume head; nothing done", file=sys.stderr)
        return 1
    sp = data.splits(data.load(args.dataset, verbose=False))
    y_train = torch.as_tensor(log_volumes_per_atom(sp["train"]), dtype=torch.float32)
    y_val = torch.as_tensor(log_volumes_per_atom(sp["val"]), dtype=torch.float32)
    model, config = with_volume_head(ck, y_train.numpy())
    model.eval()
    train, val = encode_split(model, sp["train"]), encode_split(model, sp["val"])
    test = sp["test"]
    real = atom_density([len(c.numbers) for c in test], np.stack([c.lengths for c in test]),
                        np.stack([c.angles for c in test]))
    z = torch.randn(args.n, model.cfg.latent, generator=torch.Generator().manual_seed(0))
    before, _ = decode_cells(model_from_checkpoint(ck), z)     # the model as it was, no head
    print(f"{args.dataset}: fitting the volume head on the frozen encoder ({args.epochs} epochs)")
    for ep, mse in fit_head(model, train, y_train, val, y_val, args.epochs):
        print(f"  epoch {ep:4d}  validation MSE (standardised log Å³/atom) {mse:.4f}")
    after, _ = decode_cells(model, z)
    print(f"atom density of cells from the prior (test median {np.median(real):.4f} /Å³):")
    for name, d in (("without the head", before), ("with the head", after)):
        print(f"  {name:17s} median {np.median(d):.4f}  W {wasserstein_distance(real, d):.4f} /Å³")
    # The validation loss now has the head's term: the best weights' own,
    # measured as train.py does, is what later epochs must beat.
    best_val = evaluate(model, sp["val"], model.z_to_index, 256)["loss"]
    print(f"best weights' validation loss with the head: {best_val:.4f} (was {ck['best_val']:.4f})")
    tmp = path + ".tmp"
    torch.save(install(ck, model, config, best_val), tmp)
    os.replace(tmp, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
