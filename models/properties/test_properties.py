"""Tests of the crystal-property pipeline that run in seconds and need
neither ``../shared`` nor the graph cache:

    cd models && /usr/bin/python3 -m unittest properties.test_properties
"""

from __future__ import annotations

import json
import os
import tempfile
import unittest

import numpy as np
import torch

from mlcore.megnet import EnsembleGraph, MEGNet
from mlcore.weights import read_weights, write_weights

from .data import split_of
from .export import EXPORT, FIXTURES, NAME, TARGET_NAMES
from .graphs import MAX_Z, STATE_IN, neighbor_edges, node_features, restrict
from .train import SHAPE, Batches, forward, masked_l1


def toy_data() -> dict:
    """Two graphs (3 and 2 nodes) in the cache layout."""
    return {
        "cutoff": np.float64(5.0),
        "id": np.array(["a", "b"]), "subset": np.array(["s", "s"]), "split": np.array(["train", "train"]),
        "y": np.array([[-1.0, 0.5, 0.0], [-2.0, np.nan, 0.1]]),
        "z": np.array([8, 14, 8, 29, 29], dtype=np.int32),
        "src": np.array([0, 1, 2, 1, 0, 1], dtype=np.int32),
        "dst": np.array([1, 0, 1, 2, 1, 0], dtype=np.int32),
        "dist": np.array([1.5, 1.5, 4.5, 4.5, 2.5, 2.5], dtype=np.float32),
        "node_offsets": np.array([0, 3, 5]),
        "edge_offsets": np.array([0, 4, 6]),
    }


class TestData(unittest.TestCase):
    def test_split_is_a_stable_hash(self):
        # Fixed forever: changing the salt or rule would move crystals between splits.
        self.assertEqual([split_of(i) for i in ("mp-1", "mp-38", "mp-46", "mp-9", "mp-15")],
                         ["train", "val", "val", "test", "test"])
        counts = {s: 0 for s in ("train", "val", "test")}
        for k in range(5000):
            counts[split_of(f"mp-{k}")] += 1
        self.assertAlmostEqual(counts["train"] / 5000, 0.8, delta=0.03)
        self.assertAlmostEqual(counts["test"] / 5000, 0.1, delta=0.02)


class TestGraphs(unittest.TestCase):
    def test_one_hot_and_out_of_table(self):
        f = node_features(np.array([1, 94, 95]))
        self.assertEqual(f.shape, (3, MAX_Z))
        self.assertEqual(f[0, 0], 1)
        self.assertEqual(f[1, 93], 1)
        self.assertEqual(f[2].sum(), 0)  # beyond the table: zeros, and the app warns

    def test_simple_cubic_neighbours(self):
        # a = 3 Å, cutoff 4 Å: six first neighbours (3 Å) and twelve second (4.24 Å) excluded.
        src, dst, dist = neighbor_edges(np.eye(3) * 3.0, np.zeros((1, 3)), 4.0)
        self.assertEqual(len(src), 6)
        np.testing.assert_allclose(dist, 3.0, atol=1e-6)
        src, _, _ = neighbor_edges(np.eye(3) * 3.0, np.zeros((1, 3)), 4.5)
        self.assertEqual(len(src), 18)

    def test_restrict_keeps_per_graph_offsets(self):
        d = restrict(toy_data(), 3.0)
        self.assertEqual(list(d["edge_offsets"]), [0, 2, 4])
        self.assertTrue((d["dist"] < 3.0).all())
        with self.assertRaises(ValueError):
            restrict(toy_data(), 6.0)


class TestTraining(unittest.TestCase):
    def test_batch_matches_graphs(self):
        d = toy_data()
        b = Batches(d, np.array([0, 1])).batch(np.array([1, 0]))
        # Graph 1 first: its nodes 0-1, then graph 0's shifted by 2.
        self.assertEqual(b["nodes"].shape, (5, MAX_Z))
        self.assertEqual(b["nodes"][0, 28].item(), 1)  # Cu
        self.assertEqual(b["src"].tolist(), [0, 1, 2, 3, 4, 3])
        self.assertEqual(b["node_graph"].tolist(), [0, 0, 1, 1, 1])
        self.assertEqual(b["edge_graph"].tolist(), [0, 0, 1, 1, 1, 1])

    def test_masked_l1_ignores_missing_targets(self):
        pred = torch.tensor([[1.0, 2.0, 3.0], [1.0, 100.0, 3.0]])
        y = torch.tensor([[0.0, 2.0, 3.0], [1.0, float("nan"), 3.0]])
        self.assertAlmostEqual(masked_l1(pred, y).item(), (0.5 + 0 + 0) / 3, places=6)

    def test_a_step_reduces_the_loss(self):
        torch.manual_seed(0)
        d = toy_data()
        m = MEGNet(**dict(SHAPE, hidden=16, features=8))
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        b = Batches(d, np.array([0, 1])).batch(np.array([0, 1]))
        losses = []
        for _ in range(20):
            loss = masked_l1(forward(m, b), b["y"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        self.assertLess(losses[-1], losses[0] * 0.5)


class TestExport(unittest.TestCase):
    def test_weight_file_round_trip(self):
        torch.manual_seed(1)
        models = [MEGNet(**dict(SHAPE, hidden=16, features=8)).eval() for _ in range(2)]
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "m")
            man = write_weights(models, prefix, {"name": "t", "representation": "crystal-full/1",
                                                 "targets": TARGET_NAMES, "normalization": {"mean": [0, 0, 0], "std": [1, 1, 1]}})
            self.assertEqual(man["members"], 2)
            back, man2 = read_weights(prefix)
        b = Batches(toy_data(), np.array([0, 1])).batch(np.array([0, 1]))
        for a, c in zip(models, back):
            torch.testing.assert_close(forward(a, b), forward(c, b))

    @unittest.skipUnless(os.path.exists(FIXTURES) and os.path.exists(os.path.join(EXPORT, NAME + ".json")), "no exported model")
    def test_exported_model_reproduces_its_fixtures(self):
        """The committed weights and fixtures belong together: PyTorch on the
        fixture graphs gives the stored outputs (the TypeScript and WGSL
        tests compare against the same numbers)."""
        models, man = read_weights(os.path.join(EXPORT, NAME))
        self.assertEqual(man["representation"], "crystal-full/1")
        self.assertEqual(man["targets"], TARGET_NAMES)
        ens = EnsembleGraph(models, man["normalization"]["mean"], man["normalization"]["std"]).eval()
        with open(FIXTURES, encoding="utf-8") as fh:
            fx = json.load(fh)
        self.assertEqual(fx["cutoff"], man["shape"]["cutoff"])
        from .graphs import atomic_number
        for c in fx["crystals"]:
            z = np.array([atomic_number(s) for s in c["species"]])
            with torch.no_grad():
                y, each = ens(torch.from_numpy(node_features(z)), torch.tensor(c["src"]).long(),
                              torch.tensor(c["dst"]).long(), torch.tensor(c["dist"], dtype=torch.float32),
                              torch.zeros(1, STATE_IN))
            np.testing.assert_allclose(y[0].numpy(), c["y"], atol=1e-5, err_msg=c["label"])
            np.testing.assert_allclose(each.numpy(), c["members"], atol=1e-5, err_msg=c["label"])
            # And the graph is what the neighbour list gives today.
            src, dst, dist = neighbor_edges(np.array(c["lattice"]), np.array(c["frac"]), fx["cutoff"])
            self.assertEqual(sorted(zip(src.tolist(), dst.tolist())), sorted(zip(c["src"], c["dst"])))


class TestTrunkOnnx(unittest.TestCase):
    """The ONNX trunk of the app's fast CPU path (mlcore/megnet_onnx.py),
    run by the numpy interpreter, against PyTorch's ``MEGNet.trunk``."""

    def test_matches_pytorch_on_a_batch_with_an_edgeless_graph(self):
        from mlcore import onnx_numpy
        from mlcore.megnet_onnx import trunk_feeds, trunk_graph
        torch.manual_seed(3)
        models = [MEGNet(**dict(SHAPE, hidden=16, features=8)).eval() for _ in range(2)]
        d = toy_data()
        # Graphs 0 and 1 of the toy data, then a one-node graph with no
        # edges; edges deliberately not sorted by destination.
        z = np.concatenate([d["z"], [26]])
        src, dst = d["src"][::-1], d["dst"][::-1]
        feeds = trunk_feeds(node_features(z), src, dst, d["dist"][::-1], np.zeros((3, STATE_IN)),
                            [0, 0, 0, 1, 1, 2], [1, 1, 0, 0, 0, 0])
        outs = onnx_numpy.run(trunk_graph(models), feeds)
        self.assertEqual(len(outs), 6)
        t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in feeds.items()}
        for k, m in enumerate(models):
            with torch.no_grad():
                ref = m.trunk(t["nodes"], t["src"], t["dst"], t["dist"], t["state"], t["node_graph"], t["edge_graph"])
            for r, got in zip(ref, outs[3 * k:3 * k + 3]):
                np.testing.assert_allclose(got, r.numpy(), atol=2e-5, rtol=1e-5)
        # The edgeless graph's state saw zero-edge means, not NaN.
        self.assertTrue(np.isfinite(outs[2][2]).all())

    @unittest.skipUnless(os.path.exists(os.path.join(EXPORT, NAME + "-trunk.onnx")), "no exported trunk")
    def test_shipped_trunk_belongs_to_the_shipped_weights(self):
        import hashlib

        import onnx
        trunk = onnx.load(os.path.join(EXPORT, NAME + "-trunk.onnx"))
        props = {p.key: p.value for p in trunk.metadata_props}
        with open(os.path.join(EXPORT, NAME + ".bin"), "rb") as fh:
            self.assertEqual(props["weights_sha256"], hashlib.sha256(fh.read()).hexdigest(),
                             "run: cd models && python3 -m properties.export_trunk")


if __name__ == "__main__":
    unittest.main()
