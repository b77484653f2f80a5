"""How well a trained score network denoises real crystals: the check that
tells a weak score network from weak sampling settings.

    cd models && /usr/bin/python3 -m cdvae.denoise_check --dataset carbon_24
    /usr/bin/python3 -m cdvae.denoise_check --dataset carbon_24 --checkpoint cdvae/checkpoints/carbon_24-painn.pt

For ``--n`` validation crystals: z from the encoder (its mean), the true
lattice and atom types; Cartesian noise of one of the model's levels sigma
is added to the true positions, and annealed Langevin dynamics runs from
that level to the last by sampling's own ``sample.langevin`` (types held at
the true ones; ``--steps-per-level`` steps of ``--step-lr``).  Printed per
starting sigma: the mean relative error of each atom's nearest-neighbour
distance against the true structure, after noising and after denoising.
A score network that has learned the structure brings the error down; one
that has not leaves it, or makes it worse, whatever the sampling settings.
Only the first noise levels of sampling (lattice, composition and
positions from z) are left out, so this isolates the local refinement
that COV-P depends on.
"""

from __future__ import annotations

import argparse
import math
import warnings

import torch

from cdvae import data
from cdvae.model import cart_to_frac, collate, frac_to_cart, radius_graph_pbc
from cdvae.sample import DEFAULT_STEP_LR, DEFAULT_STEPS_PER_LEVEL, langevin
from cdvae.train import checkpoint_path, model_from_checkpoint

NN_RADIUS = 4.0   # Å: every crystal in these datasets has a neighbour closer than this


def nearest_neighbour(frac, lattice, num_atoms) -> torch.Tensor:
    """Each atom's distance to its nearest neighbour (periodic images included), Å."""
    src, _, vec = radius_graph_pbc(frac, lattice, num_atoms, NN_RADIUS)
    with warnings.catch_warnings():   # PyTorch 1.13 calls scatter_reduce "beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.full((len(frac),), math.inf).scatter_reduce(0, src, vec.norm(dim=-1), reduce="amin")


@torch.no_grad()
def denoise_errors(model, crystals, start_sigmas, steps_per_level: int, step_lr: float,
                   seed: int = 0) -> list[tuple[float, float, float]]:
    """(sigma, error after noising, error after denoising) per starting sigma."""
    cfg = model.cfg
    b = collate(crystals, model.z_to_index)
    g = torch.Generator().manual_seed(seed)
    src, dst, vec = radius_graph_pbc(b["frac"], b["lattice"], b["num_atoms"], cfg.cutoff)
    mu, _ = model.encode(b["types"], src, dst, vec, b["crystal"], len(crystals))
    true = nearest_neighbour(b["frac"], b["lattice"], b["num_atoms"])
    sigmas = model.sigmas.tolist()
    err = lambda f: float(((nearest_neighbour(f, b["lattice"], b["num_atoms"]) - true).abs() / true).mean())
    out = []
    for start in start_sigmas:
        k0 = next(i for i, s in enumerate(sigmas) if s <= start)
        cart = frac_to_cart(b["frac"], b["lattice"], b["crystal"])
        cart = cart + sigmas[k0] * torch.randn(cart.shape, generator=g)
        frac = torch.remainder(cart_to_frac(cart, b["lattice"], b["crystal"]), 1.0)
        noised = err(frac)
        state = {"lattice": b["lattice"], "crystal": b["crystal"], "num_atoms": b["num_atoms"],
                 "frac": frac, "types": b["types"], "z": mu}
        frac = langevin(model, state, g, steps_per_level, step_lr,
                        first_level=k0, update_types=False)["frac"]
        out.append((sigmas[k0], noised, err(frac)))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="carbon_24")
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt")
    p.add_argument("--n", type=int, default=32, help="validation crystals")
    p.add_argument("--sigmas", default="0.05,0.1,0.3", help="starting noise levels (Å), rounded down to the model's")
    p.add_argument("--steps-per-level", type=int, default=DEFAULT_STEPS_PER_LEVEL)
    p.add_argument("--step-lr", type=float, default=DEFAULT_STEP_LR)
    args = p.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint or checkpoint_path(args.dataset))
    model = model_from_checkpoint(ck)
    crystals = data.splits(data.load(args.dataset, verbose=False))["val"][:args.n]
    print(f"{args.dataset}, {ck['config'].get('score_net', 'radial')} score network, epoch {ck['epoch']}; "
          f"{len(crystals)} validation crystals, {args.steps_per_level} steps per level, step_lr {args.step_lr:g}")
    print("| start sigma (Å) | nearest-neighbour error, noised | denoised |")
    print("|---:|---:|---:|")
    for sigma, noised, denoised in denoise_errors(model, crystals, [float(x) for x in args.sigmas.split(",")],
                                                  args.steps_per_level, args.step_lr):
        print(f"| {sigma:.3f} | {100 * noised:.1f} % | {100 * denoised:.1f} % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
