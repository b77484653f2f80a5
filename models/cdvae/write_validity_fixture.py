"""Writes ``fixtures/smact_validity.json``: a fixed list of compositions with
metrics.py's ``compositional_valid`` for each, so that the browser's check
(src/core/generate/validity.ts, tested in src/tests/smact-validity.test.ts)
can be held to the same answers. Deterministic (seeded); covers single
elements, all-metal compositions, 2- to 5-element compositions with counts
that need gcd reduction, compositions that are charge neutral but fail only
the Pauling test, and elements without a Pauling electronegativity or without
oxidation states.

    cd models && /usr/bin/python3 -m cdvae.write_validity_fixture
"""
import itertools
import json
import os
import random

from cdvae.metrics import compositional_valid, pauling_ok, smact_tables

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "smact_validity.json")
Z_MAX = 103


def neutral_exists(numbers) -> bool:
    """Charge neutral for the reduced counts, Pauling test ignored."""
    from collections import Counter
    from math import gcd
    symbol, ox, _, _ = smact_tables()
    c = Counter(numbers)
    zs = sorted(c)
    g = gcd(*c.values())
    return any(sum(q * c[z] // g for q, z in zip(states, zs)) == 0
               for states in itertools.product(*(ox[symbol[z]] for z in zs)))


def expand(counts: dict) -> list:
    return [z for z in sorted(counts) for _ in range(counts[z])]


def main() -> None:
    symbol, ox, eneg, metals = smact_tables()
    z_of = {s: z for z, s in symbol.items()}
    rng = random.Random(20261206)
    metal_z = sorted(z_of[s] for s in metals if z_of[s] <= Z_MAX)
    missing_x = sorted(z for z in range(1, Z_MAX + 1) if eneg[symbol[z]] is None)
    anions = [z_of[s] for s in ("O", "S", "Se", "Te", "F", "Cl", "Br", "I", "N", "P", "C", "H", "B", "Si", "As")]
    common = [z for z in range(1, 84) if z not in missing_x]

    cases = []
    seen = set()

    def add(numbers, tag):
        key = tuple(sorted(numbers))
        if key not in seen:
            seen.add(key)
            cases.append((tag, list(key)))

    named = {"NaCl": {11: 1, 17: 1}, "NaCl2": {11: 1, 17: 2}, "FeNi2": {26: 1, 28: 2},
             "CaTiO3": {20: 1, 22: 1, 8: 3}, "Na2Cl": {11: 2, 17: 1}, "Na4Cl4": {11: 4, 17: 4},
             "SrTiO3": {38: 1, 22: 1, 8: 3}, "Na3O": {11: 3, 8: 1}, "OF2": {8: 1, 9: 2},
             "PmCl3": {61: 1, 17: 3}, "HeO": {2: 1, 8: 1}, "Fe3": {26: 3}}
    for name, counts in named.items():
        add(expand(counts), name)
    for z in rng.sample(range(1, Z_MAX + 1), 12):                  # single elements
        add([z] * rng.randint(1, 6), "element")
    for k in (2, 2, 3, 3, 4) * 8:                                  # all metals
        add(expand({z: rng.randint(1, 4) for z in rng.sample(metal_z, k)}), "metals")
    for _ in range(30):                                            # missing electronegativity
        zs = [rng.choice(missing_x)] + rng.sample(common, rng.randint(1, 3))
        add(expand({z: rng.randint(1, 4) for z in zs}), "missing-x")
    for k, m in ((2, 90), (3, 110), (4, 70), (5, 30)):             # cation(s) + anion(s), random counts
        for _ in range(m):
            zs = set(rng.sample(common, k - 1)) | {rng.choice(anions)}
            while len(zs) < k:
                zs.add(rng.choice(common))
            mult = rng.choice((1, 1, 1, 2, 3))
            add(expand({z: rng.randint(1, 5) * mult for z in zs}), f"{k}-element")
    # neutral for some states but failing only the Pauling test
    tries = 0
    pauling_only = 0
    while pauling_only < 40 and tries < 20000:
        tries += 1
        zs = rng.sample(range(1, Z_MAX + 1), rng.choice((2, 2, 3, 3, 4)))
        numbers = expand({z: rng.randint(1, 4) for z in zs})
        if not all(symbol[z] in metals for z in zs) and neutral_exists(numbers) and not compositional_valid(numbers):
            if tuple(sorted(numbers)) not in seen:
                pauling_only += 1
                add(numbers, "pauling-only")
    assert not pauling_ok((-1, 2), (0.93, 3.16))

    # one case a line, as Prettier writes it: atomic numbers z ascending and their counts
    valid = [compositional_valid(nums) for _, nums in cases]
    rows = []
    for (tag, nums), ok in zip(cases, valid):
        zs = sorted(set(nums))
        rows.append(f'{{ "tag": {json.dumps(tag)}, "z": {json.dumps(zs)}, "count": {json.dumps([nums.count(z) for z in zs])}, '
                    f'"valid": {json.dumps(ok)} }}')
    text = ('{\n  "source": "models/cdvae/write_validity_fixture.py: metrics.compositional_valid",\n'
            '  "cases": [\n    ' + ",\n    ".join(rows) + "\n  ]\n}\n")
    with open(OUT, "w") as fh:
        fh.write(text)
    n_valid = sum(valid)
    print(f"wrote {os.path.normpath(OUT)}: {len(rows)} compositions, {n_valid} valid")


if __name__ == "__main__":
    main()
