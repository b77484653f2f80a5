/**
 * Our writers read back by the references (issue 26): pymatgen reads our CIF
 * and POSCAR, ASE our CIF, POSCAR and extended XYZ, and both find the same
 * cell lengths, species and positions (every atom within 1e-5 Å of one of
 * ours, compared in fractional coordinates so a reader that re-orients the
 * cell, as CIF readers do, is compared fairly); a partially occupied site
 * keeps its occupancy through pymatgen. Skipped, saying so,
 * where Debian's python3-pymatgen / python3-ase are not installed (CI
 * installs them for the model tests).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeStructures } from '../core/formats/index';
import { Structure } from '../core/structure';
import { PY, pythonHas } from './python';

const available = pythonHas('pymatgen.core, ase.io');

const triclinic = new Structure({
  lattice: [
    [5.1, 0, 0],
    [1.3, 4.7, 0],
    [-0.8, 1.1, 6.2],
  ],
  species: ['Ba', 'Ti', 'O', 'O', 'O'],
  frac: [
    [0.01, 0.02, 0.03],
    [0.51, 0.49, 0.52],
    [0.5, 0.5, 0.01],
    [0.5, 0.02, 0.5],
    [0.03, 0.5, 0.5],
  ],
  title: 'triclinic BaTiO3-like',
});

const READER = `
import json, sys, warnings
warnings.filterwarnings("ignore")
from pymatgen.core import Structure
import ase.io
path, tool, fmt = sys.argv[1:4]
if tool == "pymatgen":
    s = Structure.from_file(path)
    print(json.dumps({"cell": s.lattice.matrix.tolist(), "species": [x.species.elements[0].symbol for x in s],
                      "frac": s.frac_coords.tolist(), "occupancy": [x.species.num_atoms for x in s]}))
else:
    a = ase.io.read(path, format=fmt)
    print(json.dumps({"cell": a.cell.array.tolist(), "species": a.get_chemical_symbols(), "frac": a.get_scaled_positions(wrap=False).tolist()}))
`;

interface Read {
  cell: number[][];
  species: string[];
  frac: number[][];
  occupancy?: number[];
}

function readWith(tool: 'pymatgen' | 'ase', text: string, name: string, fmt: string): Read {
  const dir = mkdtempSync(join(tmpdir(), 'll-roundtrip-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return JSON.parse(execFileSync(PY, ['-c', READER, path, tool, fmt], { encoding: 'utf8' })) as Read;
}

/** Same cell lengths, and every atom of ours matched by one of the same element within 1e-5 Å (periodic, fractional). */
function sameCrystal(got: Read, s: Structure) {
  const len = (v: number[]) => Math.hypot(v[0], v[1], v[2]);
  expect(got.cell.map(len).map((x, k) => Math.abs(x - s.lattice.abc[k]))).toEqual([0, 0, 0].map(() => expect.closeTo(0, 5)));
  expect([...got.species].sort()).toEqual([...s.species].sort());
  const used = new Set<number>();
  s.frac.forEach((f, i) => {
    const j = got.frac.findIndex((g, k) => {
      if (used.has(k) || got.species[k] !== s.species[i]) return false;
      const d = [0, 1, 2].map((c) => {
        const x = g[c] - f[c];
        return x - Math.round(x);
      });
      return Math.hypot(...s.lattice.fracToCart(d as [number, number, number])) < 1e-5;
    });
    expect(j, `${s.species[i]} at ${f.join(', ')}`).toBeGreaterThanOrEqual(0);
    used.add(j);
  });
}

describe.skipIf(!available)('round trips read by pymatgen and ASE', () => {
  it('pymatgen reads our CIF and our POSCAR with the same atoms', () => {
    sameCrystal(readWith('pymatgen', writeStructures([triclinic], 'cif'), 'x.cif', 'cif'), triclinic);
    sameCrystal(readWith('pymatgen', writeStructures([triclinic], 'poscar'), 'POSCAR', 'vasp'), triclinic);
  });

  it('ASE reads our CIF, POSCAR and extended XYZ with the same atoms', () => {
    sameCrystal(readWith('ase', writeStructures([triclinic], 'cif'), 'x.cif', 'cif'), triclinic);
    sameCrystal(readWith('ase', writeStructures([triclinic], 'poscar'), 'POSCAR', 'vasp'), triclinic);
    sameCrystal(readWith('ase', writeStructures([triclinic], 'xyz'), 'x.xyz', 'extxyz'), triclinic);
  });

  it('pymatgen reads a partially occupied site of our CIF with its occupancy', () => {
    const mixed = triclinic.with({ occupancy: [0.75, 1, 1, 1, 0.5] });
    const got = readWith('pymatgen', writeStructures([mixed], 'cif'), 'x.cif', 'cif');
    sameCrystal(got, mixed);
    const occ = (el: string, f: number[]) =>
      got.occupancy![got.frac.findIndex((g, k) => got.species[k] === el && g.every((x, c) => Math.abs(x - f[c]) < 1e-4))];
    expect(occ('Ba', [0.01, 0.02, 0.03])).toBeCloseTo(0.75, 6);
    expect(occ('O', [0.03, 0.5, 0.5])).toBeCloseTo(0.5, 6);
    expect(occ('Ti', [0.51, 0.49, 0.52])).toBeCloseTo(1, 6);
  });
});

it.runIf(!available)('round trips with pymatgen and ASE are skipped: python3-pymatgen / python3-ase are not installed', () => {
  expect(available).toBe(false);
});
