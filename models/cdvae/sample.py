"""Annealed Langevin sampling from a trained CDVAE (PyTorch, CPU).

The algorithm of CDVAE's ``langevin_dynamics`` (Xie et al. 2022, after Song
& Ermon 2019), which ``src/core/generate/langevin.ts`` repeats step for step
in the browser:

1. z ~ N(0, I). From z: the number of atoms (argmax of its head), the lattice
   (lengths = head x N^(1/3), angles), the composition (probabilities, turned
   into whole counts by largest remainders), random fractional coordinates.
2. For every noise level sigma (10 Å -> 0.01 Å), ``steps_per_level`` times:
   step = step_lr x (sigma / sigma_last)^2;
   x <- x + step x score / sigma + sqrt(2 step) x N(0, I)   (Cartesian, then
   wrapped into the cell); types <- argmax of the type logits.
"""

from __future__ import annotations

import math
import time

import torch

from cdvae import latent_prior
from cdvae.model import CDVAE, cart_to_frac, frac_to_cart, lattice_from_params, radius_graph_pbc

DEFAULT_STEP_LR = 1e-4
DEFAULT_STEPS_PER_LEVEL = 10


def composition_counts(probs: torch.Tensor, n: int) -> list[int]:
    """Whole atom counts per vocabulary entry summing to n (largest remainders;
    ties to the lower index). Same rule as the TypeScript sampler."""
    raw = [float(p) * n for p in probs]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def initial_state(model: CDVAE, z: torch.Tensor, g: torch.Generator) -> dict:
    natom_logits, lat, comp, prop = model.heads(z)
    num_atoms = natom_logits.argmax(-1).clamp(min=1)
    lengths = lat[:, :3] * num_atoms[:, None].float() ** (1 / 3)
    angles = lat[:, 3:]
    types = []
    for b in range(len(z)):
        counts = composition_counts(comp[b], int(num_atoms[b]))
        for idx, c in enumerate(counts):
            types += [idx] * c
    num_atoms_t = num_atoms.long()
    return {
        "z": z, "num_atoms": num_atoms_t,
        "crystal": torch.repeat_interleave(torch.arange(len(z)), num_atoms_t),
        "lengths": lengths, "angles": angles,
        "lattice": lattice_from_params(lengths, angles),
        "types": torch.tensor(types, dtype=torch.long),
        "frac": torch.rand(int(num_atoms_t.sum()), 3, generator=g),
        "property": prop,
    }


@torch.no_grad()
def langevin(model: CDVAE, state: dict, g: torch.Generator,
             steps_per_level: int = DEFAULT_STEPS_PER_LEVEL,
             step_lr: float = DEFAULT_STEP_LR, trajectory_every: int = 0,
             first_level: int = 0, update_types: bool = True) -> dict:
    """``first_level`` > 0 starts at that noise level (denoise_check.py starts
    from noised real crystals); ``update_types=False`` keeps the state's types
    instead of taking the score network's argmax."""
    cfg = model.cfg
    lattice, crystal, num_atoms = state["lattice"], state["crystal"], state["num_atoms"]
    frac, types = state["frac"].clone(), state["types"].clone()
    z_atom = state["z"][crystal]
    sigma_last = float(model.sigmas[-1])
    traj = []
    step_count = 0
    for sigma in model.sigmas.tolist()[first_level:]:
        step = step_lr * (sigma / sigma_last) ** 2
        log_sigma = torch.full((len(frac),), math.log(sigma))
        for _ in range(steps_per_level):
            src, dst, vec = radius_graph_pbc(frac, lattice, num_atoms, cfg.cutoff)
            score, logits = model.score(z_atom, types, log_sigma, src, dst, vec)
            cart = frac_to_cart(frac, lattice, crystal)
            kick = step * score / sigma + math.sqrt(2 * step) * torch.randn(cart.shape, generator=g)
            # A diverged score (PaiNN on carbon gave NaN) would leave NaN
            # coordinates: that atom keeps its place (as langevin.ts does).
            kick = torch.where(torch.isfinite(kick).all(-1, keepdim=True), kick, torch.zeros_like(kick))
            frac = torch.remainder(cart_to_frac(cart + kick, lattice, crystal), 1.0)
            if update_types:
                types = logits.argmax(-1)
            step_count += 1
            if trajectory_every and step_count % trajectory_every == 0:
                traj.append((frac.clone(), types.clone()))
    out = dict(state)
    out.update(frac=frac, types=types, trajectory=traj)
    return out


def sample(model: CDVAE, n: int, seed: int, steps_per_level: int = DEFAULT_STEPS_PER_LEVEL,
           step_lr: float = DEFAULT_STEP_LR, batch: int = 256, prior: dict | None = None) -> list[dict]:
    """n crystals as dicts: lengths, angles (deg), frac, numbers (Z), property.
    ``prior``: latent_prior.fit's Gaussian, which the N(0, I) draws are mapped
    to (None: the paper's N(0, I))."""
    g = torch.Generator().manual_seed(seed)
    vocab = model.cfg.vocab
    out: list[dict] = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        z = latent_prior.apply(prior, torch.randn(m, model.cfg.latent, generator=g))
        st = langevin(model, initial_state(model, z, g), g, steps_per_level, step_lr)
        ptr = [0] + torch.cumsum(st["num_atoms"], 0).tolist()
        for b in range(m):
            sl = slice(ptr[b], ptr[b + 1])
            out.append({
                "lengths": st["lengths"][b].tolist(), "angles": st["angles"][b].tolist(),
                "frac": st["frac"][sl].tolist(),
                "numbers": [vocab[t] for t in st["types"][sl].tolist()],
                "property": float(st["property"][b]),
            })
    return out


def main() -> int:
    import argparse
    import json
    import os
    import sys

    from cdvae.train import load_model

    p = argparse.ArgumentParser(description="sample crystals from a trained CDVAE")
    p.add_argument("--model", default="perov_5")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps-per-level", type=int, default=DEFAULT_STEPS_PER_LEVEL)
    p.add_argument("--step-lr", type=float, default=DEFAULT_STEP_LR)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    t = time.perf_counter()
    out = sample(model, args.n, args.seed, args.steps_per_level, args.step_lr)
    dt = time.perf_counter() - t
    json.dump({"model": args.model, "seconds": dt, "crystals": out}, sys.stdout)
    print(file=sys.stderr)
    print(f"{args.n} crystals in {dt:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
