"""An independent property predictor for a CDVAE dataset: the judge of
property-targeted generation.

    cd models && /usr/bin/python3 -m cdvae.property_model --dataset perov_5 --minutes 30

The CDVAE paper scores its optimisation task (and its "W property" metric)
with a property model trained separately from the generator, so that the
generator's own property head does not grade its own work (Xie et al., ICLR
2022, section 5.3). This is ours: the project's MEGNet (``mlcore.megnet``,
the same layers the app runs) on the full periodic graph of each crystal,
trained on the CDVAE dataset's train split (data.py's split) to predict the
dataset's property column, model chosen on the validation split, MAE on the
test split written into its checkpoint ``checkpoints/<dataset>-property.pt``
(resumable like train.py).

Graph: every periodic neighbour within ``CUTOFF`` (pymatgen, the same edges
as models/properties); node features one-hot Z; no state input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

from cdvae import data
from mlcore.megnet import MEGNet
from properties.graphs import neighbor_edges

HERE = os.path.dirname(os.path.abspath(__file__))
CUTOFF = 5.0          # Å; perov_5 cells are ~4 Å, so 4 Å would leave the B-X-B links at the edge
MAX_Z = 94
SHAPE = dict(nodeIn=MAX_Z, stateIn=1, rbf=25, cutoff=CUTOFF, hidden=64, features=32, blocks=3,
             outputs=1, set2setSteps=3)


def checkpoint_path(dataset: str) -> str:
    return os.path.join(HERE, "checkpoints", f"{dataset}-property.pt")


def lattice_matrix(lengths, angles) -> np.ndarray:
    from pymatgen.core import Lattice
    return Lattice.from_parameters(*lengths, *angles).matrix


def graph_of(lengths, angles, frac, numbers, cutoff: float = CUTOFF) -> dict:
    src, dst, dist = neighbor_edges(lattice_matrix(lengths, angles), np.asarray(frac, dtype=float), cutoff)
    return {"z": np.asarray(numbers, dtype=np.int64), "src": src, "dst": dst, "dist": dist}


def collate(graphs: list[dict], state_in: int = 1) -> dict:
    n = [len(g["z"]) for g in graphs]
    e = [len(g["src"]) for g in graphs]
    shift = np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), e)
    z = np.concatenate([g["z"] for g in graphs])
    nodes = torch.zeros(len(z), MAX_Z)
    ok = (z >= 1) & (z <= MAX_Z)
    nodes[torch.from_numpy(np.nonzero(ok)[0]), torch.from_numpy(z[ok] - 1)] = 1
    return {
        "nodes": nodes,
        "src": torch.from_numpy(np.concatenate([g["src"] for g in graphs]) + shift).long(),
        "dst": torch.from_numpy(np.concatenate([g["dst"] for g in graphs]) + shift).long(),
        "dist": torch.from_numpy(np.concatenate([g["dist"] for g in graphs])).float(),
        "state": torch.zeros(len(graphs), state_in),
        "node_graph": torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(n)),
        "edge_graph": torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(e)),
    }


def forward(model: MEGNet, b: dict) -> torch.Tensor:
    return model(b["nodes"], b["src"], b["dst"], b["dist"], b["state"], b["node_graph"], b["edge_graph"])[:, 0]


class Judge:
    """The trained predictor: ``predict(crystal dicts) -> property values``."""

    def __init__(self, ck: dict):
        self.model = MEGNet(**ck["shape"])
        self.model.load_state_dict(ck["best_state"])
        self.model.eval()
        self.mean, self.std = ck["mean"], ck["std"]
        self.test_mae = ck.get("test_mae")

    @classmethod
    def load(cls, dataset: str) -> "Judge":
        return cls(torch.load(checkpoint_path(dataset)))

    @torch.no_grad()
    def predict(self, crystals: list[dict], batch: int = 128) -> np.ndarray:
        out = []
        for k in range(0, len(crystals), batch):
            gs = [graph_of(c["lengths"], c["angles"], c["frac"], c["numbers"]) for c in crystals[k:k + batch]]
            out.append(forward(self.model, collate(gs)).numpy() * self.std + self.mean)
        return np.concatenate(out) if out else np.zeros(0)


class EnsembleJudge:
    """The judge of the Materials Project model: the app's own crystal-property
    MEGNet ensemble (``models/properties``, issue 29), whose first output is
    the formation energy per atom of MP, the property this CDVAE learns,
    rather than a second MEGNet trained here. Its members were trained on
    their own split of a superset of these crystals (``properties.data
    .split_of``), so its ``test_mae`` is measured on the CDVAE test crystals
    that are also in its test split: the others were in its training data."""

    def __init__(self, dataset: str):
        from properties.export import load_members
        from properties.graphs import STATE_IN
        from properties.train import forward      # imported here: that module pins thread counts at import
        self.forward = forward
        self.models, self.mean, self.std, cks = load_members()
        self.cutoff = float(cks[0]["shape"]["cutoff"])
        self.state_in = STATE_IN
        from properties.data import split_of as properties_split
        test = [c for c in data.splits(data.load(dataset, verbose=False))["test"]
                if properties_split(c.id) == "test" and np.isfinite(c.prop)]
        pred = self.predict([{"lengths": c.lengths, "angles": c.angles, "frac": c.frac, "numbers": c.numbers}
                             for c in test])
        self.test_mae = float(np.mean(np.abs(pred - np.array([c.prop for c in test]))))
        self.test_count = len(test)

    @torch.no_grad()
    def predict(self, crystals: list[dict], batch: int = 128) -> np.ndarray:
        out = []
        for k in range(0, len(crystals), batch):
            b = collate([graph_of(c["lengths"], c["angles"], c["frac"], c["numbers"], self.cutoff)
                         for c in crystals[k:k + batch]], self.state_in)
            each = [self.forward(m, b)[:, 0].numpy() * self.std[0] + self.mean[0] for m in self.models]
            out.append(np.mean(each, axis=0))
        return np.concatenate(out) if out else np.zeros(0)


#: Datasets judged by the app's property ensemble when no judge was trained here.
ENSEMBLE_JUDGED = {"mp20_biternary_pilot"}


def judge_for(dataset: str):
    """The dataset's judge (a trained ``Judge``, else the property ensemble
    where it predicts the same property), or None."""
    if os.path.exists(checkpoint_path(dataset)):
        return Judge.load(dataset)
    if dataset in ENSEMBLE_JUDGED:
        return EnsembleJudge(dataset)
    return None


def _graphs(crystals: list[data.Crystal]) -> list[dict]:
    return [graph_of(c.lengths, c.angles, c.frac, c.numbers) for c in crystals]


@torch.no_grad()
def _mae(model, graphs, y, mean, std, batch=256) -> float:
    model.eval()
    pred = np.concatenate([forward(model, collate(graphs[k:k + batch])).numpy()
                           for k in range(0, len(graphs), batch)]) * std + mean
    return float(np.mean(np.abs(pred - y)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="perov_5")
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    sp = data.splits(data.load(args.dataset, verbose=False))
    keep = {s: [c for c in sp[s] if np.isfinite(c.prop)] for s in sp}
    t0 = time.perf_counter()
    g = {s: _graphs(keep[s]) for s in keep}
    y = {s: np.array([c.prop for c in keep[s]], dtype=np.float64) for s in keep}
    print(f"graphs in {time.perf_counter() - t0:.0f} s: " + ", ".join(f"{s} {len(g[s])}" for s in g), flush=True)

    path = checkpoint_path(args.dataset)
    model = MEGNet(**SHAPE)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=8, min_lr=1e-5)
    mean, std = float(y["train"].mean()), float(y["train"].std())
    ck = {"epoch": 0, "best_val": float("inf"), "best_state": None, "history": [], "seconds": 0.0}
    if os.path.exists(path):
        ck = torch.load(path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        print(f"resumed at epoch {ck['epoch']}, best val MAE {ck['best_val']:.4f}", flush=True)
    rng = np.random.default_rng(ck["epoch"])
    start = time.perf_counter()
    while time.perf_counter() - start < args.minutes * 60:
        te = time.perf_counter()
        model.train()
        order = rng.permutation(len(g["train"]))
        for k in range(0, len(order), args.batch):
            ids = order[k:k + args.batch]
            b = collate([g["train"][i] for i in ids])
            target = torch.from_numpy((y["train"][ids] - mean) / std).float()
            loss = torch.nn.functional.l1_loss(forward(model, b), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        val = _mae(model, g["val"], y["val"], mean, std)
        sched.step(val)
        ck["epoch"] += 1
        ck["seconds"] += time.perf_counter() - te
        ck["history"].append({"epoch": ck["epoch"], "val_mae": val, "lr": opt.param_groups[0]["lr"]})
        if val < ck["best_val"]:
            ck["best_val"] = val
            ck["best_state"] = {k: v.clone() for k, v in model.state_dict().items()}
        ck.update(model=model.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(),
                  shape=SHAPE, mean=mean, std=std, dataset=args.dataset, cutoff=CUTOFF)
        print(f"epoch {ck['epoch']}: val MAE {val:.4f} (best {ck['best_val']:.4f}), "
              f"{time.perf_counter() - te:.0f} s", flush=True)
        torch.save(ck, path)
    best = MEGNet(**SHAPE)
    best.load_state_dict(ck["best_state"])
    ck["test_mae"] = _mae(best, g["test"], y["test"], mean, std)
    ck["mean_abs_dev_test"] = float(np.mean(np.abs(y["test"] - mean)))
    torch.save(ck, path)
    print(f"test MAE {ck['test_mae']:.4f} (predicting the train mean: {ck['mean_abs_dev_test']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
