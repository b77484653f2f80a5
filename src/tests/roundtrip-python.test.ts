/**
 * Our writers read back by the references (issue 26): pymatgen reads our CIF
 * and POSCAR, ASE our POSCAR and extended XYZ, and both find the same
 * lattice, species and positions (within 1e-5 Å). Skipped, saying so,
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
    print(json.dumps({"cell": s.lattice.matrix.tolist(), "species": [x.specie.symbol for x in s], "cart": s.cart_coords.tolist()}))
else:
    a = ase.io.read(path, format=fmt)
    print(json.dumps({"cell": a.cell.array.tolist(), "species": a.get_chemical_symbols(), "cart": a.positions.tolist()}))
`;

function readWith(tool: 'pymatgen' | 'ase', text: string, name: string, fmt: string) {
  const dir = mkdtempSync(join(tmpdir(), 'll-roundtrip-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return JSON.parse(execFileSync(PY, ['-c', READER, path, tool, fmt], { encoding: 'utf8' })) as { cell: number[][]; species: string[]; cart: number[][] };
}

/** Same atoms (as element + Cartesian position, in any order) in cells of the same shape. */
function sameCrystal(got: { cell: number[][]; species: string[]; cart: number[][] }, s: Structure, sameFrame: boolean) {
  const len = (v: number[]) => Math.hypot(v[0], v[1], v[2]);
  expect(got.cell.map(len).map((x, k) => Math.abs(x - s.lattice.abc[k]))).toEqual([0, 0, 0].map(() => expect.closeTo(0, 5)));
  expect([...got.species].sort()).toEqual([...s.species].sort());
  if (!sameFrame) return;
  const key = (el: string, r: number[]) => `${el}:${r.map((x) => x.toFixed(4)).join(',')}`;
  expect(got.species.map((el, i) => key(el, got.cart[i])).sort()).toEqual(s.species.map((el, i) => key(el, s.cart[i])).sort());
}

describe.skipIf(!available)('round trips read by pymatgen and ASE', () => {
  it('pymatgen reads our CIF (cell shape, species) and our POSCAR (positions too)', () => {
    sameCrystal(readWith('pymatgen', writeStructures([triclinic], 'cif'), 'x.cif', 'cif'), triclinic, false);
    sameCrystal(readWith('pymatgen', writeStructures([triclinic], 'poscar'), 'POSCAR', 'vasp'), triclinic, true);
  });

  it('ASE reads our POSCAR and our extended XYZ with the same positions', () => {
    sameCrystal(readWith('ase', writeStructures([triclinic], 'poscar'), 'POSCAR', 'vasp'), triclinic, true);
    sameCrystal(readWith('ase', writeStructures([triclinic], 'xyz'), 'x.xyz', 'extxyz'), triclinic, true);
  });
});

it.runIf(!available)('round trips with pymatgen and ASE are skipped: python3-pymatgen / python3-ase are not installed', () => {
  expect(available).toBe(false);
});
