"""Export a trained CDVAE for the browser: two ONNX graphs, a manifest and
parity fixtures.

    cd models && /usr/bin/python3 -m cdvae.export --dataset perov_5

Writes ``export/<dataset>/``:

* ``heads.onnx``: z (B, latent) -> num_atoms_logits (B, max_atoms+1),
  lattice (B, 6: lengths / N^(1/3) in Å, angles in degrees), composition
  (B, V probabilities), property (B,).
* ``score.onnx``: one score-network evaluation, the body of a Langevin step:
  z_atom (N, latent), types (N,) int64 vocabulary indices, log_sigma (N,),
  src, dst (E,) int64, vec (E, 3) Å -> score (N, 3), type_logits (N, V).
  The graph (every periodic neighbour within ``cutoff``, both directions,
  vec = r_dst + image . L - r_src) is built outside, by the app's neighbour
  list. Opset 17, N and E dynamic.
* ``property_head.json``: the property head's weights (latent -> SiLU MLP ->
  property), so that the app can take its gradient for the target mode
  (optimize.py; the TypeScript forward and gradient are checked against
  PyTorch's autograd by the fixtures).
* ``score_weights.bin`` (radial score networks): the score network's
  weights for the app's WASM SIMD kernels (score_weights.py).
* ``model.json``: the manifest (format ``latticelab-cdvae/1``): vocabulary,
  noise schedule, cutoff, sampling defaults, property, training summary.

and ``fixtures/<dataset>.json``: inputs and PyTorch outputs of both graphs on
noisy test crystals, with the crystals themselves (lattice, fractional
coordinates) so that the TypeScript test can also build the graph with its
own neighbour list and compare.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import sys

import torch

from cdvae import data, latent_prior, score_weights
from cdvae.model import (CDVAE, PaiNNScoreNet, ScoreNet, collate, feature_bound_set_to, radius_graph_pbc,
                         segment_sum)
from cdvae.optimize import optimize_latents, property_of
from cdvae.sample import DEFAULT_STEP_LR, DEFAULT_STEPS_PER_LEVEL
from cdvae.train import best_epoch, checkpoint_path, model_from_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
FORMAT = "latticelab-cdvae/1"
PROPERTY_INFO = {
    "perov_5": {"name": "heat of formation", "column": "heat_ref", "unit": "eV/atom",
                "source": "perov_5 (Castelli et al., Energy Environ. Sci. 5, 9034 (2012), via CDVAE)"},
    "carbon_24": {"name": "energy", "column": "energy_per_atom", "unit": "eV/atom",
                  "source": "carbon_24 (C. J. Pickard, AIRSS data for carbon at 10 GPa, Materials Cloud "
                            "Archive 2020.0026, via CDVAE)"},
    "mp_20_biternary": {"name": "formation energy", "column": "formation_energy_per_atom",
                        "unit": "eV/atom", "source": "Materials Project (CC BY 4.0)"},
    "mp20_biternary_pilot": {"name": "formation energy", "column": "formation_energy_per_atom",
                             "unit": "eV/atom", "source": "Materials Project via mp_20 (CC BY 4.0)"},
}


class Heads(torch.nn.Module):
    def __init__(self, model: CDVAE):
        super().__init__()
        self.model = model

    def forward(self, z):
        return self.model.heads(z)


class RowSum(torch.autograd.Function):
    """``segment_sum(x, index, len(like))``: rows of x added into the rows
    named by index. Exported as ONNX ScatterND with reduction "add" on an
    (E, 1) index, which onnxruntime adds a row (a contiguous slice) at a time;
    the ScatterElements that PyTorch's scatter_add becomes needs the index
    expanded to every element and was, with that Expand, 27 % of a score
    step on onnxruntime-web WASM (bench/RESULTS.md)."""

    @staticmethod
    def forward(ctx, x, index, like):
        return segment_sum(x, index, like.shape[0])

    @staticmethod
    def symbolic(g, x, index, like):
        zero = g.op("Constant", value_t=torch.tensor([0], dtype=torch.int64))
        one = g.op("Constant", value_t=torch.tensor([1], dtype=torch.int64))
        two = g.op("Constant", value_t=torch.tensor([2], dtype=torch.int64))
        rows = g.op("Slice", g.op("Shape", like), zero, one)
        cols = g.op("Slice", g.op("Shape", x), one, two)
        shape = g.op("Concat", rows, cols, axis_i=0)
        zeros = g.op("ConstantOfShape", shape, value_t=torch.tensor([0.0], dtype=torch.float32))
        return g.op("ScatterND", zeros, g.op("Unsqueeze", index, one), x, reduction_s="add")


def edge_mlp(seq: torch.nn.Sequential, h, src, dst, rbf):
    """``seq(cat([h[src], h[dst], rbf]))`` with its first layer split by input
    block: W [h_s, h_d, r] = (h W_s^T)[src] + (h W_d^T)[dst] + r W_r^T. The
    node parts are computed once per atom and gathered per edge, so an edge
    costs rbf x hidden multiply-adds in that layer instead of
    (2 hidden + rbf) x hidden; with about 40 edges per atom the score network
    does 2.3x fewer (bench/RESULTS.md). Same weights, same function."""
    first = seq[0]
    H = h.shape[1]
    w = first.weight
    y = (h @ w[:, :H].t())[src] + (h @ w[:, H:2 * H].t())[dst] + rbf @ w[:, 2 * H:].t() + first.bias
    for layer in list(seq)[1:]:
        y = layer(y)
    return y


class Score(torch.nn.Module):
    """The model's score network for ONNX, the same function: ScoreNet.forward
    (model.py) computed with edge_mlp, or PaiNNScoreNet with RowSum."""

    def __init__(self, model: CDVAE):
        super().__init__()
        self.score: ScoreNet | PaiNNScoreNet = model.score

    def forward(self, z_atom, types, log_sigma, src, dst, vec):
        if not isinstance(self.score, ScoreNet):
            # PaiNNScoreNet: its own forward, rows summed by ScatterND
            return self.score(z_atom, types, log_sigma, src, dst, vec, rowsum=RowSum.apply)
        s, net = self.score, self.score.net
        x = torch.cat([s.embed(types), z_atom, log_sigma[:, None]], -1)
        dist = vec.norm(dim=-1)
        rbf, env = net.basis(dist)
        h = net.inp(x)
        for layer in net.layers:
            m = edge_mlp(layer.msg, h, src, dst, rbf) * env[:, None]
            agg = RowSum.apply(m, src, h) * layer.scale
            h = h + layer.upd(torch.cat([layer.norm(h), agg], -1))
        e = edge_mlp(s.edge_out, h, src, dst, rbf) * env[:, None]
        unit = vec / torch.clamp(dist, min=1e-6)[:, None]
        return RowSum.apply(e * unit, src, h), s.type_out(h)


def export_dir(dataset: str) -> str:
    return os.path.join(HERE, "export", dataset)


def fixture_path(dataset: str) -> str:
    return os.path.join(HERE, "fixtures", f"{dataset}.json")


def step_inputs(model: CDVAE, crystals, sigma_index: int, seed: int) -> dict:
    """A noisy batch as the sampler would see it at noise level sigma_index."""
    g = torch.Generator().manual_seed(seed)
    b = collate(crystals, model.z_to_index)
    sigma = float(model.sigmas[sigma_index])
    cart = torch.einsum("ni,nij->nj", b["frac"], b["lattice"][b["crystal"]])
    cart = cart + sigma * torch.randn(cart.shape, generator=g)
    inv = torch.linalg.inv(b["lattice"])
    frac = torch.remainder(torch.einsum("ni,nij->nj", cart, inv[b["crystal"]]), 1.0)
    src, dst, vec = radius_graph_pbc(frac, b["lattice"], b["num_atoms"], model.cfg.cutoff)
    z = torch.randn(len(crystals), model.cfg.latent, generator=g)
    return {"z": z, "z_atom": z[b["crystal"]], "types": b["types"],
            "log_sigma": torch.full((len(frac),), math.log(sigma)),
            "src": src, "dst": dst, "vec": vec, "frac": frac, "lattice": b["lattice"],
            "num_atoms": b["num_atoms"], "sigma": sigma}


def clipped_inputs(model: CDVAE, test) -> dict:
    """Two test crystals in cells 30 % shorter, at the smallest noise: atoms
    so crowded that the unbounded PaiNN blocks overflow (carbon_24 at epoch
    59: NaN) and the feature bound clips, so that the fixture checks the
    clamp in score.onnx too.  Refuses to return a case the bound leaves alone."""
    squeezed = [dataclasses.replace(c, lengths=c.lengths * 0.7) for c in test[12:14]]
    x = step_inputs(model, squeezed, model.cfg.num_noise_levels - 1, 103)
    args = (x["z_atom"], x["types"], x["log_sigma"], x["src"], x["dst"], x["vec"])
    bounded, _ = model.score(*args)
    with feature_bound_set_to(model, None):
        free, _ = model.score(*args)
    if torch.equal(bounded, free):
        raise RuntimeError("the squeezed fixture crystals do not reach the feature bound; choose others")
    return dict(x, clipped=True)


def export(dataset: str, checkpoint: str | None = None, fitted_prior: bool = False) -> dict:
    ck = torch.load(checkpoint or checkpoint_path(dataset))
    model = model_from_checkpoint(ck)
    out = export_dir(dataset)
    os.makedirs(out, exist_ok=True)
    sp = data.splits(data.load(dataset, verbose=False))
    prior = latent_prior.fit(model, sp["train"]) if fitted_prior else None
    sample_in = step_inputs(model, sp["test"][:4], 25, 0)

    torch.onnx.export(
        Heads(model), (sample_in["z"],), os.path.join(out, "heads.onnx"),
        input_names=["z"], output_names=["num_atoms_logits", "lattice", "composition", "property"],
        dynamic_axes={"z": {0: "B"}, "num_atoms_logits": {0: "B"}, "lattice": {0: "B"},
                      "composition": {0: "B"}, "property": {0: "B"}},
        opset_version=OPSET, do_constant_folding=True)
    names = ["z_atom", "types", "log_sigma", "src", "dst", "vec"]
    torch.onnx.export(
        Score(model), tuple(sample_in[k] for k in names), os.path.join(out, "score.onnx"),
        input_names=names, output_names=["score", "type_logits"],
        dynamic_axes={"z_atom": {0: "N"}, "types": {0: "N"}, "log_sigma": {0: "N"},
                      "src": {0: "E"}, "dst": {0: "E"}, "vec": {0: "E"},
                      "score": {0: "N"}, "type_logits": {0: "N"}},
        opset_version=OPSET, do_constant_folding=True)

    with open(os.path.join(out, "property_head.json"), "w") as fh:
        json.dump(property_head(model), fh)
    files = {"heads": "heads.onnx", "score": "score.onnx", "property_head": "property_head.json"}
    if isinstance(model.score, ScoreNet):
        score_weights.write(model, out)
        files["score_weights"] = score_weights.FILE
    elif os.path.exists(os.path.join(out, score_weights.FILE)):
        os.remove(os.path.join(out, score_weights.FILE))  # a radial model's, now stale

    cfg = model.cfg
    manifest = {
        "format": FORMAT, "dataset": dataset,
        "reference": "Xie et al., Crystal Diffusion Variational Autoencoder for Periodic "
                     "Material Generation, ICLR 2022 (arXiv:2110.06197); compact variant, "
                     "see models/cdvae/model.py",
        "vocab": cfg.vocab, "max_atoms": cfg.max_atoms, "latent": cfg.latent,
        "cutoff": cfg.cutoff, "score_net": cfg.score_net, "volume_head": cfg.volume_head,
        # inside score.onnx already; here so that the app and the CLI can say so
        **({"feature_bound": {"bound": cfg.feature_bound, **ck.get("feature_range", {})}}
           if cfg.feature_bound is not None else {}),
        "sigmas": model.sigmas.tolist(),
        "type_sigmas": model.type_sigmas.tolist(),
        "defaults": {"steps_per_level": DEFAULT_STEPS_PER_LEVEL, "step_lr": DEFAULT_STEP_LR},
        "property": PROPERTY_INFO.get(dataset),
        "files": files,
        **({"latent_prior": latent_prior.to_json(prior)} if prior is not None else {}),
        "training": {"epochs": best_epoch(ck), "trained_epochs": ck["epoch"], "hours": round(ck["train_seconds"] / 3600, 3),
                     "best_val_loss": ck["best_val"], "sizes": ck["sizes"],
                     "split_rule": data.SPLIT_RULE, "date": _dt.date.today().isoformat()},
    }
    with open(os.path.join(out, "model.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    write_fixtures(model, dataset, sp["test"], prior)
    return manifest


PROPERTY_HEAD_FORMAT = "latticelab-cdvae-property-head/1"


def property_head(model: CDVAE) -> dict:
    """fc_property as plain numbers: y = W x + b per layer (weight rows =
    outputs, as nn.Linear), SiLU between layers, none after the last;
    property = y * std + mean."""
    layers = [m for m in model.fc_property if isinstance(m, torch.nn.Linear)]
    return {
        "format": PROPERTY_HEAD_FORMAT, "activation": "silu",
        "layers": [{"in": l.in_features, "out": l.out_features,
                    "weight": [round(v, 8) for v in l.weight.detach().reshape(-1).tolist()],
                    "bias": [round(v, 8) for v in l.bias.detach().tolist()]} for l in layers],
        "mean": model.cfg.prop_mean, "std": model.cfg.prop_std,
    }


def property_fixtures(model: CDVAE) -> dict:
    """Head value and autograd gradient at a few z, and a short Adam run per objective."""
    g = torch.Generator().manual_seed(7)
    z = torch.randn(3, model.cfg.latent, generator=g)
    with torch.enable_grad():
        return _property_fixtures(model, z)


def _property_fixtures(model: CDVAE, z: torch.Tensor) -> dict:
    zg = z.clone().requires_grad_(True)
    p = property_of(model, zg)
    p.sum().backward()
    target = float(p[0].detach()) + 0.5
    runs = {}
    for objective in ("min", "max", "near"):
        r = optimize_latents(model, z, objective, target=target, steps=25, lr=1e-2)
        runs[objective] = {"z": r["z"].tolist(), "trace": r["trace"].tolist()}
    return {"z": z.tolist(), "property": p.detach().tolist(), "grad": zg.grad.tolist(),
            "adam": {"steps": 25, "lr": 1e-2, "target": target, "runs": runs}}


def _list(t: torch.Tensor):
    return t.reshape(-1).tolist()


@torch.no_grad()
def write_fixtures(model: CDVAE, dataset: str, test, prior: dict | None = None) -> None:
    cases = []
    # noise levels: large, middle, small; a few test crystals each
    inputs = [step_inputs(model, test[start:start + 3], level, 100 + k)
              for k, (level, start) in enumerate(((0, 0), (25, 4), (49, 8)))]
    if model.cfg.feature_bound is not None:
        inputs.append(clipped_inputs(model, test))
    for x in inputs:
        score, logits = model.score(x["z_atom"], x["types"], x["log_sigma"], x["src"], x["dst"], x["vec"])
        heads = model.heads(x["z"])
        cases.append({
            **({"clipped": True} if x.get("clipped") else {}),
            "sigma": x["sigma"], "num_atoms": _list(x["num_atoms"]),
            "lattice": x["lattice"].tolist(), "frac": x["frac"].tolist(),
            "z": x["z"].tolist(), "types": _list(x["types"]),
            "edges": {"src": _list(x["src"]), "dst": _list(x["dst"]), "vec": _list(x["vec"])},
            "score": score.tolist(), "type_logits": logits.tolist(),
            "heads": {"num_atoms_logits": heads[0].tolist(), "lattice": heads[1].tolist(),
                      "composition": heads[2].tolist(), "property": heads[3].tolist()},
        })
    os.makedirs(os.path.dirname(fixture_path(dataset)), exist_ok=True)
    with open(fixture_path(dataset), "w") as fh:
        eps = torch.randn(3, model.cfg.latent, generator=torch.Generator().manual_seed(5))
        json.dump({"dataset": dataset, "note": "written by models/cdvae/export.py", "cases": cases,
                   "property_head": property_fixtures(model),
                   **({"latent_prior": {"eps": eps.tolist(), "z": latent_prior.apply(prior, eps).tolist()}}
                      if prior is not None else {})}, fh)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="perov_5")
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt")
    p.add_argument("--latent-prior", choices=("standard", "fitted"), default="standard",
                   help="the app draws z from N(0, I) (the paper's) or from latent_prior.py's fitted Gaussian "
                        "(written into model.json)")
    args = p.parse_args()
    torch.set_num_threads(1)
    m = export(args.dataset, args.checkpoint, fitted_prior=args.latent_prior == "fitted")
    print(f"exported {args.dataset}: epochs {m['training']['epochs']}, -> {export_dir(args.dataset)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
