"""Fast checks of the defect-model pipeline (no GPAW, no dataset needed).

    cd models/defects && /usr/bin/python3 -m unittest test_pipeline -v

* featurisation invariants of REPRESENTATION.md (atom order, symmetric edges,
  zero edges, strict cutoff, feature values, vocabulary);
* the PyTorch MEGNet against a plain numpy forward written from the contract
  (loops, float64, weights in the exported [in, out] layout);
* the weight-file round trip, the ONNX export (onnxruntime if importable, else
  the numpy ONNX interpreter), and that the committed fixtures match the
  committed export.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import export  # noqa: E402
from featurize import (config_from_record, config_from_sample,  # noqa: E402
                       config_from_sites, full_graph_from_atoms,
                       periodic_edges, pristine_supercell, sparse_graph)
from megnet import MEGNet, SingleGraph, predict_raw  # noqa: E402
from sample import sample_config  # noqa: E402

torch.set_num_threads(1)
SMALL = dict(nodeIn=33, stateIn=7, rbf=6, cutoff=10.0, hidden=8, features=4,
             blocks=2, outputs=2)


def edge_set(g, decimals=6):
    return sorted(zip(g["src"].tolist(), g["dst"].tolist(),
                      np.round(g["dist64"], decimals).tolist()))


def example_graphs():
    cfgs = [
        config_from_sites("MoS2", 4, [(0, "Mo", None), (2, "S", None), (13, "S", "Se")]),
        config_from_sites("MoS2", 8, [(0, "Mo", None)]),  # zero edges
        config_from_sites("WSe2", 3, [(1, "Se", "S")]),  # own images only
        config_from_sites("WSe2", 5, [(3, "W", "Mo"), (40, "Se", None)]),
    ]
    return [sparse_graph(c) for c in cfgs]


# ---------------------------------------------------------------------------
# numpy reference, written from REPRESENTATION.md / megnet.ts
# ---------------------------------------------------------------------------

def np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_mlp(W, prefix, x, last_linear=False):
    k = 0
    while f"{prefix}.{k}.w" in W:
        x = x @ W[f"{prefix}.{k}.w"] + W[f"{prefix}.{k}.b"]
        if not (last_linear and f"{prefix}.{k + 1}.w" not in W):
            x = np_softplus(x)
        k += 1
    return x


def np_set2set(W, prefix, x, steps):
    F = W[f"{prefix}.wHh"].shape[0]
    h, c, q = np.zeros(F), np.zeros(F), np.zeros(2 * F)
    for _ in range(steps):
        z = q @ W[f"{prefix}.wIh"] + h @ W[f"{prefix}.wHh"] + W[f"{prefix}.b"]
        i, f, g, o = z[:F], z[F:2 * F], z[2 * F:3 * F], z[3 * F:]
        c = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
        h = np_sigmoid(o) * np.tanh(c)
        r = np.zeros(F)
        if len(x):
            e = x @ h
            a = np.exp(e - e.max())
            r = (a / a.sum()) @ x
        q = np.concatenate([h, r])
    return q


def np_forward(W, shape, steps, g):
    """One graph, float64, loops where the contract says 'per edge/node'."""
    W = {k: v.astype(np.float64) for k, v in W.items()}
    K, rc = shape["rbf"], shape["cutoff"]
    mu, sigma = np.linspace(0, rc, K), rc / (K - 1)
    d = g["dist"].astype(np.float64)
    v = np_mlp(W, "nodeEncoder", g["nodes"].astype(np.float64))
    e = np_mlp(W, "edgeEncoder", np.exp(-((d[:, None] - mu[None]) / sigma) ** 2))
    u = np_mlp(W, "stateEncoder", g["state"].astype(np.float64)[None])[0]
    src, dst = g["src"], g["dst"]
    N, E, F = len(v), len(src), shape["features"]
    for b in range(shape["blocks"]):
        e1 = np.stack([np_mlp(W, f"blocks.{b}.edge", np.concatenate(
            [v[src[k]], v[dst[k]], e[k], u])) for k in range(E)]) if E else np.zeros((0, F))
        v1 = []
        for n in range(N):
            into = [k for k in range(E) if dst[k] == n]
            m = e1[into].mean(axis=0) if into else np.zeros(F)
            v1.append(np_mlp(W, f"blocks.{b}.node", np.concatenate([v[n], m, u])))
        v1 = np.stack(v1)
        me = e1.mean(axis=0) if E else np.zeros(F)
        u1 = np_mlp(W, f"blocks.{b}.state", np.concatenate([u, v1.mean(axis=0), me]))
        e, v, u = e1 + e, v1 + v, u1 + u
    x = np.concatenate([np_set2set(W, "set2setNodes", v, steps),
                        np_set2set(W, "set2setEdges", e, steps), u])
    return np_mlp(W, "readout", x, last_linear=True)


class TestFeaturize(unittest.TestCase):
    def test_layer_and_state_features(self):
        g = sparse_graph(config_from_sites(
            "MoS2", 4, [(0, "Mo", None), (1, "S", "Se"), (2, "S", None)]))
        self.assertEqual(g["nodes"].shape, (3, 33))
        np.testing.assert_allclose(g["nodes"][:, 32], [0, 3.13 / 6, -3.13 / 6], atol=1e-6)
        self.assertEqual(g["nodes"][1, 8], 1)  # zNew = Se (index 8)
        self.assertEqual(g["nodes"][1, 16 + 6], 1)  # zOld = S (index 6)
        self.assertEqual(g["nodes"][0, 0], 1)  # vacancy
        np.testing.assert_allclose(g["state"], [1, 0, 0, 0, 0, 0, 100 * 3 / 48], rtol=1e-6)

    def test_vocabulary_refuses_unknown_elements(self):
        cfg = config_from_sites("MoS2", 4, [(0, "Mo", None)])
        cfg["defects"][0]["zNew"] = 1
        with self.assertRaises(ValueError):
            sparse_graph(cfg)

    def test_order_independence(self):
        cfg = config_from_sites("WSe2", 4, [(0, "W", None), (4, "Se", "S"), (8, "Se", None)])
        perm = [2, 0, 1]
        cfg2 = dict(cfg, defects=[cfg["defects"][p] for p in perm])
        g, g2 = sparse_graph(cfg), sparse_graph(cfg2)
        np.testing.assert_array_equal(g2["nodes"], g["nodes"][perm])
        mapped = dict(src=np.array(perm)[g2["src"]], dst=np.array(perm)[g2["dst"]],
                      dist64=g2["dist64"])
        self.assertEqual(edge_set(mapped), edge_set(g))
        torch.manual_seed(0)
        model = MEGNet(**SMALL).eval()
        with torch.no_grad():
            y = predict_raw(model, [g, g2])
        np.testing.assert_allclose(y[0], y[1], atol=1e-5)

    def test_full_graph_order_independence(self):
        atoms = pristine_supercell("MoS2", 4)
        del atoms[[5, 0]]
        atoms[3].symbol = "W"
        g = full_graph_from_atoms("MoS2", atoms, 9.565)
        perm = np.random.default_rng(0).permutation(len(atoms))
        g2 = full_graph_from_atoms("MoS2", atoms[perm], 9.565)
        # atom k of the shuffled structure is atom perm[k] of the original
        mapped = dict(src=perm[g2["src"]], dst=perm[g2["dst"]], dist64=g2["dist64"])
        self.assertEqual(edge_set(mapped), edge_set(g))
        self.assertEqual(len(g2["src"]), len(g["src"]))
        self.assertTrue(np.all(g["dist64"] < 5.0))

    def test_edges_symmetric(self):
        for g in example_graphs():
            fwd = edge_set(g)
            rev = sorted((d, s, r) for s, d, r in fwd)
            self.assertEqual(fwd, rev)

    def test_zero_edges_and_own_images(self):
        g8 = sparse_graph(config_from_sites("MoS2", 8, [(0, "Mo", None)]))
        self.assertEqual(len(g8["src"]), 0)
        g3 = sparse_graph(config_from_sites("MoS2", 3, [(1, "S", None)]))
        self.assertEqual(len(g3["src"]), 6)  # six nearest images at 3a = 9.57 Å
        np.testing.assert_allclose(g3["dist64"], 9.57, atol=1e-9)

    def test_cutoff_strictly_less(self):
        def cfg(a):
            return {"host": "MoS2", "lattice": [[a, 0, 0], [0, a, 0], [0, 0, 30]],
                    "pristineSites": 10, "zMid": 0.0,
                    "defects": [{"zOld": 16, "zNew": 0, "position": [0.0, 0.0, 0.0]}]}
        self.assertEqual(len(sparse_graph(cfg(10.0))["src"]), 0)
        self.assertEqual(len(sparse_graph(cfg(9.999))["src"]), 4)
        src, dst, d = periodic_edges(np.array([[0, 0, 0], [10, 0, 0.0]]),
                                     np.diag([40.0, 40.0, 40.0]), 10.0)
        self.assertEqual(len(src), 0)

    def test_images_never_along_c(self):
        src, _, _ = periodic_edges(np.zeros((1, 3)), np.diag([50.0, 50.0, 2.0]), 10.0)
        self.assertEqual(len(src), 0)

    def test_record_matches_sample(self):
        c = sample_config("MoS2", 3)
        atoms = c.atoms()
        rec = {"id": c.id, "host": c.host, "supercell": [c.n, c.n, 1],
               "defects": [d.as_dict() for d in c.defects],
               "species": atoms.get_chemical_symbols(),
               "positions": atoms.get_positions().tolist(),
               "cell": atoms.cell.array.tolist()}
        self.assertEqual(config_from_record(rec), config_from_sample(c))
        rec["positions"][0][0] += 0.1
        with self.assertRaises(ValueError):
            config_from_record(rec)


class TestModel(unittest.TestCase):
    def test_torch_matches_numpy_reference(self):
        torch.manual_seed(1)
        model = MEGNet(**SMALL).eval()
        for p in model.parameters():  # larger weights: exercise softplus tails
            p.data.mul_(2.0)
        graphs = example_graphs()
        with torch.no_grad():
            y = predict_raw(model, graphs).numpy()
            single = SingleGraph(model, [0, 0], [1, 1])
            ys = np.concatenate([single(*export.graph_inputs(g)).numpy() for g in graphs])
        W = dict(export.named_tensors(model))
        ref = np.stack([np_forward(W, SMALL, 3, g) for g in graphs])
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ys, ref, rtol=1e-5, atol=1e-5)

    def test_training_step_with_zero_edge_graphs(self):
        torch.manual_seed(0)
        model = MEGNet(**SMALL)
        graphs = [sparse_graph(config_from_sites("MoS2", 8, [(0, "Mo", None)]))] * 2
        loss = predict_raw(model, graphs).pow(2).sum()
        loss.backward()
        self.assertTrue(all(torch.isfinite(p.grad).all() for p in model.parameters()
                            if p.grad is not None))


class TestExport(unittest.TestCase):
    def test_weight_round_trip(self):
        torch.manual_seed(2)
        model = MEGNet().eval()
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "m")
            man = export.write_weights(model, [1.0, 2.0], [0.5, 0.25], {"structures": 0},
                                       prefix=prefix)
            back, man2 = export.read_weights(prefix)
            size = os.path.getsize(prefix + ".bin") // 4
        self.assertEqual(man, man2)
        shapes = {t["name"]: t["shape"] for t in man["tensors"]}
        self.assertEqual(shapes["nodeEncoder.0.w"], [33, 64])
        self.assertEqual(shapes["edgeEncoder.0.w"], [50, 64])
        self.assertEqual(shapes["blocks.2.edge.0.w"], [128, 64])
        self.assertEqual(shapes["blocks.0.state.1.b"], [32])
        self.assertEqual(shapes["set2setNodes.wIh"], [64, 128])
        self.assertEqual(shapes["set2setEdges.wHh"], [32, 128])
        self.assertEqual(shapes["set2setEdges.b"], [128])
        self.assertEqual(shapes["readout.2.w"], [32, 2])
        end = 0
        for t in man["tensors"]:
            self.assertEqual(t["offset"], end)
            end += int(np.prod(t["shape"]))
        self.assertEqual(end, size)
        self.assertEqual(man["shape"]["cutoff"], 10)
        graphs = example_graphs()
        with torch.no_grad():
            np.testing.assert_allclose(predict_raw(back, graphs), predict_raw(model, graphs),
                                       atol=1e-6)

    def test_onnx_dynamic_shapes_and_zero_edges(self):
        torch.manual_seed(3)
        model = MEGNet().eval()
        mean, std = [2.0, 1.0], [1.5, 0.5]
        single = SingleGraph(model, mean, std).eval()
        with tempfile.TemporaryDirectory() as tmp:
            path = export.export_onnx(model, mean, std, os.path.join(tmp, "m.onnx"))
            for g in example_graphs():  # traced on 3 nodes; these differ
                with torch.no_grad():
                    want = single(*export.graph_inputs(g)).numpy()
                got, runtime = export.onnx_outputs(path, g)
                self.assertEqual(got.shape, (1, 2))
                np.testing.assert_allclose(got, want, atol=1e-4, err_msg=runtime)


class TestCommittedExport(unittest.TestCase):
    """The fixtures in fixtures/ must be what the model in export/ gives."""

    def setUp(self):
        prefix = os.path.join(export.EXPORT_DIR, export.NAME)
        if not (os.path.exists(prefix + ".json") and os.path.exists(export.FIXTURE_PATH)):
            self.skipTest("no exported model yet")
        self.model, self.manifest = export.read_weights(prefix)
        with open(export.FIXTURE_PATH) as fh:
            self.fixtures = json.load(fh)

    def test_fixtures_match_model(self):
        norm = self.manifest["normalization"]
        single = SingleGraph(self.model, norm["mean"], norm["std"]).eval()
        self.assertGreaterEqual(len(self.fixtures), 8)
        self.assertTrue(any(len(f["graph"]["src"]) == 0 for f in self.fixtures))
        for f in self.fixtures:
            g = sparse_graph(f["config"])
            self.assertEqual(edge_set(g), edge_set(dict(
                src=np.array(f["graph"]["src"]), dst=np.array(f["graph"]["dst"]),
                dist64=np.array(f["graph"]["dist"]))))
            np.testing.assert_allclose(g["nodes"], f["graph"]["nodes"], atol=1e-7)
            with torch.no_grad():
                y = single(*export.graph_inputs(g))[0].numpy()
            np.testing.assert_allclose(y, f["output"], atol=1e-5, err_msg=f["name"])


if __name__ == "__main__":
    unittest.main()
