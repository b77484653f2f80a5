"""Fast checks of properties.baselines (seconds; no graph cache needed):

    cd models && nice /usr/bin/python3 -m unittest properties.test_baselines
"""

from __future__ import annotations

import math
import os
import unittest

import numpy as np
import torch

from . import baselines as B
from .graphs import cache_path


class Featuriser(unittest.TestCase):
    def test_element_fractions(self):
        # NaCl (2 atoms) and Fe2O3 (5 atoms), concatenated with CSR offsets.
        z = np.array([11, 17, 26, 26, 8, 8, 8])
        off = np.array([0, 2, 7])
        X = B.element_fractions(z, off)
        self.assertEqual(X.shape, (2, 94))
        np.testing.assert_allclose(X.sum(1), [1, 1])
        self.assertAlmostEqual(X[0, 10], 0.5)   # Na, Z = 11
        self.assertAlmostEqual(X[0, 16], 0.5)   # Cl
        self.assertAlmostEqual(X[1, 25], 0.4)   # Fe
        self.assertAlmostEqual(X[1, 7], 0.6)    # O
        self.assertEqual(np.count_nonzero(X), 4)


class Metrics(unittest.TestCase):
    def test_masked_mae_and_mean_baseline(self):
        y = np.array([[1.0, np.nan], [3.0, 2.0], [5.0, 4.0], [np.nan, 10.0]])
        train = np.array([True, True, False, False])
        mu = B.train_mean(y, train)
        np.testing.assert_allclose(mu, [2.0, 2.0])
        mae, n = B.masked_mae(np.full(4, mu[0]), y[:, 0])
        self.assertEqual(n, 3)
        self.assertAlmostEqual(mae, (1 + 1 + 3) / 3)
        self.assertEqual(B.masked_mae(np.zeros(2), np.array([np.nan, np.nan]))[1], 0)


class MatglBlocks(unittest.TestCase):
    def test_softplus2(self):
        x = torch.tensor([0.0, 1.0, -30.0, 50.0])
        got = B.softplus2(x)
        want = [0.0, math.log1p(math.e) - math.log(2), -math.log(2), 50 - math.log(2)]
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6)

    def test_gaussian_expansion(self):
        g = B.GaussianExpansion(0.0, 5.0, 100, 0.5)
        out = g(torch.tensor([0.0, 1.0]))
        self.assertEqual(tuple(out.shape), (2, 100))
        self.assertAlmostEqual(float(out[0, 0]), 1.0)
        # width is a coefficient: exp(-0.5 * (d - mu)^2), mu_99 = 5.
        self.assertAlmostEqual(float(out[1, 99]), math.exp(-0.5 * 16), places=6)

    def test_type_index(self):
        t = B.matgl_type_index()
        self.assertEqual(t[1], 0)       # H
        self.assertEqual(t[83], 82)     # Bi
        self.assertTrue(np.all(t[84:89] == -1))  # Po..Ra excluded
        self.assertEqual(t[89], 83)     # Ac
        self.assertEqual(t[94], 88)     # Pu, the 89th type

    def test_set2set_empty_segment_reads_zero(self):
        torch.manual_seed(0)
        s2s = B.Set2Set(4, n_iters=2)
        feat = torch.randn(3, 4)
        seg = torch.tensor([0, 0, 2])  # segment 1 is empty
        out = s2s(feat, seg, 3)
        self.assertEqual(tuple(out.shape), (3, 8))
        np.testing.assert_allclose(out[1, 4:].detach().numpy(), 0)

    @unittest.skipUnless(os.path.exists(os.path.join(B.MATGL_DIR, "state.pt")),
                         "matgl reference weights not in ../shared")
    def test_pretrained_on_known_crystals(self):
        """Strict state_dict load, then rock-salt NaCl, MgO and diamond Si
        (primitive cells, 4 Å graphs) against their Materials Project
        formation energies (about -2.1, -3.05 and 0 eV/atom), plus a crystal
        with no edges (finite output)."""
        from .graphs import neighbor_edges
        torch.set_num_threads(1)
        net = B.load_matgl()
        fcc = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float) / 2
        cases = [([11, 17], 5.69, [0.5] * 3, -2.10), ([12, 8], 4.212, [0.5] * 3, -3.05),
                 ([14, 14], 5.431, [0.25] * 3, 0.0)]
        for z, a, pos, want in cases:
            src, dst, dist = neighbor_edges(fcc * a, np.array([[0.0] * 3, pos]), 4.0)
            data = {"z": np.array(z), "node_offsets": np.array([0, 2]), "src": src, "dst": dst,
                    "dist": dist, "edge_offsets": np.array([0, len(src)])}
            got = B.predict_matgl(net, data, np.array([0]))[0]
            self.assertLess(abs(got - want), 0.1, (z, got, want))
        lone = {"z": np.array([56]), "node_offsets": np.array([0, 1]), "src": np.zeros(0, int),
                "dst": np.zeros(0, int), "dist": np.zeros(0, np.float32), "edge_offsets": np.array([0, 0])}
        self.assertTrue(np.isfinite(B.predict_matgl(net, lone, np.array([0]))[0]))


@unittest.skipUnless(os.path.exists(cache_path(5.0)), "graph cache not built")
class OnCache(unittest.TestCase):
    def test_fractions_of_cache_sum_to_one(self):
        from .graphs import load
        d = load(5.0)
        X = B.element_fractions(d["z"], d["node_offsets"])
        np.testing.assert_allclose(X.sum(1), 1.0, atol=1e-12)


if __name__ == "__main__":
    unittest.main()
