"""Do a CDVAE's heads decode crystals of the right size? (No sampling.)

Sampling starts from the heads: z gives the number of atoms and the lattice,
and only then does Langevin dynamics place the atoms in that cell. If the
cell is too large or too small for that many atoms, no score network can
make a real crystal in it. This check decodes the heads alone:

* the atom density (atoms per Å³) of cells decoded from z drawn from the
  prior N(0, I) (what sampling does), from a Gaussian fitted to the training
  crystals' posterior means, and from those means themselves (the best the
  heads can do), each against the test crystals' (Wasserstein distance and
  median); the same for the number of atoms;
* with ``--refit N``: the lattice and number-of-atoms heads trained again
  for N epochs on the frozen encoder (z sampled from each training crystal's
  posterior, the training loss's weights). If their validation loss does not
  fall while the training loss does, z carries too little about the cell and
  the encoder, not the heads, needs training.

    cd models
    /usr/bin/python3 -m cdvae.heads_check --dataset carbon_24
    /usr/bin/python3 -m cdvae.heads_check --dataset carbon_24 \
        --checkpoint cdvae/checkpoints/carbon_24-painn-warm.pt --refit 300
"""

from __future__ import annotations

import argparse
import copy
import sys

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import wasserstein_distance

from cdvae import data
from cdvae.model import CDVAE, collate, lattice_from_params, radius_graph_pbc
from cdvae.train import checkpoint_path, model_from_checkpoint


@torch.no_grad()
def encode_split(model: CDVAE, crystals: list, batch: int = 256) -> dict:
    """Posterior mean and log-variance, standardised lattice target and
    number of atoms of each crystal."""
    parts = []
    for i in range(0, len(crystals), batch):
        b = collate(crystals[i:i + batch], model.z_to_index)
        src, dst, vec = radius_graph_pbc(b["frac"], b["lattice"], b["num_atoms"], model.cfg.cutoff)
        mu, logvar = model.encode(b["types"], src, dst, vec, b["crystal"], len(b["num_atoms"]))
        target = torch.cat([b["lengths"] / b["num_atoms"][:, None].float() ** (1 / 3), b["angles"]], -1)
        parts.append((mu, logvar, (target - model.lat_mean) / model.lat_std, b["num_atoms"]))
    mu, logvar, lat, n = (torch.cat(x) for x in zip(*parts))
    return {"mu": mu, "logvar": logvar, "lattice": lat, "num_atoms": n}


def atom_density(num_atoms, lengths, angles) -> np.ndarray:
    cell = lattice_from_params(torch.as_tensor(lengths, dtype=torch.float32),
                               torch.as_tensor(angles, dtype=torch.float32))
    return (torch.as_tensor(num_atoms, dtype=torch.float32) / torch.det(cell).abs()).numpy()


@torch.no_grad()
def decode_cells(model: CDVAE, z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Atom density and number of atoms of the cells the heads decode from z
    (as sample.py's initial_state: argmax atoms, lengths x N^(1/3))."""
    natom_logits, lat, _, _ = model.heads(z)
    n = natom_logits.argmax(-1).clamp(min=1).float()
    return atom_density(n, lat[:, :3] * n[:, None] ** (1 / 3), lat[:, 3:]), n.int().numpy()


def gaussian_fit(mu: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    cov = torch.cov(mu.T) + 1e-5 * torch.eye(mu.shape[1])
    return mu.mean(0) + torch.randn(n, mu.shape[1], generator=g) @ torch.linalg.cholesky(cov).T


def head_losses(hl, hn, d: dict, g: torch.Generator) -> tuple[float, float]:
    """Standardised lattice MSE and number-of-atoms cross entropy at z
    sampled from each crystal's posterior (as the training loss)."""
    with torch.no_grad():
        z = d["mu"] + torch.randn(d["mu"].shape, generator=g) * torch.exp(0.5 * d["logvar"])
        return F.mse_loss(hl(z), d["lattice"]).item(), F.cross_entropy(hn(z), d["num_atoms"]).item()


def refit(model: CDVAE, train: dict, val: dict, epochs: int, seed: int = 0) -> list[tuple]:
    """Train copies of the lattice and number-of-atoms heads on the frozen
    encoder; rows (epoch, train lattice, val lattice, val natom) every 50."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    hl, hn = copy.deepcopy(model.fc_lattice), copy.deepcopy(model.fc_num_atoms)
    opt = torch.optim.Adam(list(hl.parameters()) + list(hn.parameters()), lr=1e-3)
    rows = [(0, head_losses(hl, hn, train, g)[0], *head_losses(hl, hn, val, g))]
    mu, logvar = train["mu"], train["logvar"]
    for ep in range(1, epochs + 1):
        perm = torch.randperm(len(mu))
        for i in range(0, len(mu), 128):
            j = perm[i:i + 128]
            z = mu[j] + torch.randn(mu[j].shape) * torch.exp(0.5 * logvar[j])
            loss = (model.cfg.cost_lattice * F.mse_loss(hl(z), train["lattice"][j])
                    + model.cfg.cost_natom * F.cross_entropy(hn(z), train["num_atoms"][j]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if ep % 50 == 0 or ep == epochs:
            rows.append((ep, head_losses(hl, hn, train, g)[0], *head_losses(hl, hn, val, g)))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="carbon_24")
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt")
    p.add_argument("--n", type=int, default=2000, help="z drawn per source")
    p.add_argument("--refit", type=int, default=0, metavar="EPOCHS")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model = model_from_checkpoint(torch.load(args.checkpoint or checkpoint_path(args.dataset))).eval()
    sp = data.splits(data.load(args.dataset, verbose=False))
    train = encode_split(model, sp["train"])
    test = sp["test"]
    real_d = atom_density([len(c.numbers) for c in test], np.stack([c.lengths for c in test]),
                          np.stack([c.angles for c in test]))
    real_n = np.array([len(c.numbers) for c in test])
    g = torch.Generator().manual_seed(0)
    print(f"{args.dataset}: test crystals' atom density median {np.median(real_d):.4f} /Å³")
    print(f"{'z from':34s} {'median':>7s} {'W density':>10s} {'W atoms':>8s}")
    for name, z in (("prior N(0, I) (sampling)", torch.randn(args.n, model.cfg.latent, generator=g)),
                    ("Gaussian fit to train means", gaussian_fit(train["mu"], args.n, g)),
                    ("train means", train["mu"])):
        d, n = decode_cells(model, z)
        print(f"{name:34s} {np.median(d):7.4f} {wasserstein_distance(real_d, d):10.4f} "
              f"{wasserstein_distance(real_n, n):8.2f}")
    if args.refit:
        val = encode_split(model, sp["val"])
        print(f"\nheads refitted on the frozen encoder (standardised lattice MSE, natom CE):")
        print(f"{'epoch':>5s} {'train lattice':>14s} {'val lattice':>12s} {'val natom':>10s}")
        for ep, tl, vl, vn in refit(model, train, val, args.refit):
            print(f"{ep:5d} {tl:14.3f} {vl:12.3f} {vn:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
