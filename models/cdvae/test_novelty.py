"""Fast tests of the novelty / uniqueness check (cdvae/novelty.py).

    cd models && /usr/bin/python3 -m unittest cdvae.test_novelty
"""

import json
import os
import unittest

import numpy as np

from cdvae import data, novelty as nv

HERE = os.path.dirname(os.path.abspath(__file__))


def perovskite(a=3.905):
    """Cubic SrTiO3, 5 atoms."""
    return (np.eye(3) * a, [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]], [38, 22, 8, 8, 8])


def triclinic(seed=3, n=6):
    rng = np.random.default_rng(seed)
    L = nv.lattice_from_params(rng.uniform(4, 6, 3), rng.uniform(75, 105, 3))
    return L, rng.uniform(0, 1, (n, 3)), rng.choice([8, 14, 26], n)


def shuffled_supercell(cell, S, seed=0):
    L, f, z = nv.supercell(*cell, S)
    rng = np.random.default_rng(seed)
    p = rng.permutation(len(z))
    return L, (f[p] + rng.uniform(0, 1, 3)) % 1.0, z[p]


class Descriptor(unittest.TestCase):
    def test_reduced_formula(self):
        self.assertEqual(nv.reduced_formula([38, 22, 8, 8, 8]), "O3TiSr")
        self.assertEqual(nv.reduced_formula([6] * 12), "C")
        self.assertEqual(nv.reduced_formula([11, 17, 17, 11, 17, 17]), "NaCl2")

    def test_supercell_and_shuffled_copy_match(self):
        for cell in (perovskite(), triclinic()):
            for S in ([[2, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 1, 0], [-1, 1, 0], [0, 0, 2]], [[2, 1, 0], [0, 1, 1], [1, 0, 1]]):
                big = shuffled_supercell(cell, S)
                a, b = nv.descriptor(*cell), nv.descriptor(*big)
                self.assertEqual(a.nprim, b.nprim)
                self.assertLess(np.abs(a.hist - b.hist).max(), 1e-9)
                self.assertTrue(nv.match(cell, big))
        self.assertEqual(nv.unique_flags([perovskite(), shuffled_supercell(perovskite(), np.diag([1, 2, 2]))]), [True, False])

    def test_primitive_size(self):
        self.assertEqual(nv.primitive_size(*perovskite()), 5)
        rock_salt = (np.eye(3) * 5.64, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                                        [.5, 0, 0], [0, .5, 0], [0, 0, .5], [.5, .5, .5]], [11] * 4 + [17] * 4)
        self.assertEqual(nv.primitive_size(*rock_salt), 2)
        self.assertEqual(nv.primitive_size(*shuffled_supercell(triclinic(), np.diag([2, 1, 2]))), 6)

    def test_strained_by_one_percent_matches(self):
        # uniaxial 1 % strains along an axis and along diagonals, at the
        # strictest threshold (carbon_24's)
        n2, n3 = np.array([1, 1, 0]) / 2 ** 0.5, np.ones(3) / 3 ** 0.5
        strains = (np.diag([1.01, 1.0, 1.0]), np.diag([1.0, 1.0, 0.99]),
                   np.eye(3) + 0.01 * np.outer(n2, n2), np.eye(3) - 0.01 * np.outer(n3, n3))
        for cell in (perovskite(), triclinic(), triclinic(seed=4, n=12)):
            L, f, z = cell
            for eps in strains:
                self.assertTrue(nv.match(cell, (L @ eps, f, z), min(nv.THRESHOLDS.values())), eps)
            self.assertTrue(nv.match(cell, (1.07 * L, f, z), 1e-9))     # uniform scaling: same structure

    def test_rock_salt_is_not_cscl(self):
        rock_salt = (np.eye(3) * 5.64, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                                        [.5, 0, 0], [0, .5, 0], [0, 0, .5], [.5, .5, .5]], [11] * 4 + [17] * 4)
        cscl = (np.eye(3) * 3.3, [[0, 0, 0], [.5, .5, .5]], [11, 17])
        a, b = nv.descriptor(*rock_salt), nv.descriptor(*cscl)
        self.assertEqual((a.formula, a.nprim), (b.formula, b.nprim))
        self.assertGreater(nv.distance(a.hist, b.hist), 3 * max(nv.THRESHOLDS.values()))
        self.assertFalse(nv.match(rock_salt, cscl, max(nv.THRESHOLDS.values())))

    def test_swapped_cations_do_not_match(self):
        L, f, z = perovskite()
        self.assertFalse(nv.match((L, f, z), (L, f, [22, 38, 8, 8, 8]), max(nv.THRESHOLDS.values())))

    def test_fixture_is_current(self):
        with open(os.path.join(HERE, "fixtures", "novelty.json")) as fh:
            fx = json.load(fh)
        self.assertEqual(fx["params"], nv.PARAMS)
        for c in fx["crystals"]:
            d = nv.descriptor(c["lattice"], c["frac"], c["numbers"])
            self.assertEqual(d.formula, c["formula"])
            self.assertEqual(d.nprim, c["nprim"])
            np.testing.assert_allclose(d.hist.ravel(), c["descriptor"], rtol=1e-9, atol=1e-9)


def _known(dataset):
    path = os.path.join(HERE, "export", dataset, "known.json")
    return nv.load_known(path) if os.path.exists(path) else None


class Known(unittest.TestCase):
    """Training crystals against the exported known.json (needs the datasets)."""

    def _training(self, dataset):
        try:
            crystals = data.load(dataset, verbose=False)
        except FileNotFoundError as e:
            self.skipTest(str(e))
        known = _known(dataset)
        if known is None:
            self.skipTest(f"no export/{dataset}/known.json")
        return data.splits(crystals)["train"], known

    def test_training_crystals_are_not_new(self):
        for dataset in ("perov_5", "carbon_24", "mp20_biternary_pilot"):
            train, known = self._training(dataset)
            self.assertEqual(known["count"], len(train))
            self.assertEqual({k: v for k, v in known["descriptor"].items() if k != "quantum"}, nv.PARAMS)
            # every 4th crystal keeps the test under ~10 s; the full check passes too
            for c in train[::4]:
                self.assertFalse(nv.is_new(c, known), f"{dataset} {c.id}")

    def test_a_new_composition_is_new(self):
        _, known = self._training("perov_5")
        self.assertTrue(nv.is_new(perovskite(), known) or "O3TiSr" in known["known"])
        self.assertTrue(nv.is_new((np.eye(3) * 3.0, [[0, 0, 0]], [79]), known))


if __name__ == "__main__":
    unittest.main()
