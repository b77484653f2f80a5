/**
 * Structure files read in the defect editor's terms (src/core/defects/match.ts,
 * issue 26): round trips of random configurations of every host through the
 * POSCAR, CIF and extended XYZ writers; translated, re-based, rotated and
 * jittered copies; the documented refusals; and, as an independent
 * reference, the training data's own supercells (built by ASE in
 * models/defects/hosts.py, with another registry, lattice constant and
 * vacuum) written as CIF by pymatgen, which must map onto the sites the
 * Python pipeline featurised. The pymatgen part is skipped, saying so, where
 * Debian's python3-pymatgen / python3-ase are not installed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, loadModel } from '../cli/predict';
import { DefectEditor, MAX_SIZE } from '../core/defects/editor';
import { matchDefectStructure, type MatchResult, SITE_TOLERANCE } from '../core/defects/match';
import { toTrainingGeometry } from '../core/defects/predict';
import { type DefectConfig, HOSTS, type HostName, sparseDefectGraph, VOCABULARY } from '../core/defects/representation';
import { elementByZ } from '../core/elements';
import { type FormatId, readStructures, writeStructures } from '../core/formats/index';
import { Lattice } from '../core/lattice';
import type { Mat3, Vec3 } from '../core/math3';
import { Structure } from '../core/structure';
import { rng } from './random';
import { PY, pythonHas } from './python';

const SUBSTITUENTS = VOCABULARY.filter((z) => z > 0).map((z) => elementByZ(z)!.symbol);

/** A random configuration: 1–3 vacancies or substitutions (a 2x2 cell has only 8–16 sites). */
function randomEditor(host: HostName, size: number, r: () => number): DefectEditor {
  const e = new DefectEditor({ host, size, edits: [] });
  const sites = e.pristine().numSites;
  const count = 1 + Math.floor(r() * 3);
  while (e.state.edits.length < count) {
    const site = Math.floor(r() * sites);
    e.setSite(site, r() < 0.4 ? null : SUBSTITUENTS[Math.floor(r() * SUBSTITUENTS.length)]);
  }
  return e;
}

const FILE_NAMES: Record<Exclude<FormatId, 'json'>, string> = { poscar: 'POSCAR', cif: 'x.cif', xyz: 'x.xyz' };

function throughFile(s: Structure, format: Exclude<FormatId, 'json'>): Structure {
  const back = readStructures(FILE_NAMES[format], writeStructures([s], format));
  expect(back).toHaveLength(1);
  return back[0];
}

function expectMatch(r: MatchResult, e: DefectEditor): void {
  if (!r.ok) throw new Error(`expected a match of ${e.state.host} ${e.state.size}x${e.state.size}, got: ${r.reason}`);
  expect({ host: r.match.host, size: r.match.size, edits: r.match.edits }).toEqual({ host: e.state.host, size: e.state.size, edits: e.state.edits });
}

function expectRefusal(r: MatchResult, why: RegExp): void {
  if (r.ok) throw new Error(`expected a refusal (${why}), got a match: ${JSON.stringify(r.match)}`);
  expect(r.reason).toMatch(why);
  expect(r.reason).not.toMatch(/\n/);
}

const moved = (s: Structure, f: (r: Vec3, k: number) => Vec3, lattice: Lattice | Mat3 = s.lattice) =>
  Structure.fromCartesian({ lattice, species: s.species, cart: s.cart.map(f), pbc: s.pbc });

/**
 * A translation-free description of a configuration: its sparse graph's
 * node features and edge lengths, sorted. Equal for a configuration and any
 * lattice translate of it, different otherwise.
 */
function shape(config: DefectConfig): { nodes: string[]; edges: string[] } {
  const g = sparseDefectGraph(config);
  const width = g.nodes.cols;
  const nodes = Array.from({ length: g.nodes.rows }, (_, i) => Array.from(g.nodes.data.slice(i * width, (i + 1) * width), (x) => x.toFixed(4)).join(','));
  return { nodes: nodes.sort(), edges: Array.from(g.edges.data, (d) => d.toFixed(4)).sort() };
}

describe('round trips through the writers, every host', () => {
  const r = rng(26);
  for (const host of HOSTS) {
    it(`${host}: random vacancies and substitutions in 2x2, 3x3, 6x6 and ${MAX_SIZE}x${MAX_SIZE}, via POSCAR, CIF and extended XYZ`, () => {
      for (const size of [2, 3, 6, MAX_SIZE]) {
        const e = randomEditor(host, size, r);
        for (const format of ['poscar', 'cif', 'xyz'] as const) {
          const m = matchDefectStructure(throughFile(e.structure(), format));
          expectMatch(m, e);
          if (m.ok) expect(m.match.maxDeviation).toBeLessThan(1e-6);
        }
      }
    }, 30_000); // 12 matches, the largest of 400 atoms: 0.1–0.2 s each with the other core busy
  }

  it('keeps a Lattice Lab JSON file and the editor output itself', () => {
    const e = randomEditor('WSe2', 4, r);
    expectMatch(matchDefectStructure(readStructures('x.json', writeStructures([e.structure()], 'json'))[0]), e);
    expectMatch(matchDefectStructure(e.structure()), e);
  });
});

describe('the same configuration written another way', () => {
  const r = rng(7);

  it('a small translation (under half a primitive cell) keeps the site numbers, every host', () => {
    for (const host of HOSTS) {
      const e = randomEditor(host, 4, r);
      const shift: Vec3 = [0.9 * (r() - 0.5), 0.9 * (r() - 0.5), 5 * (r() - 0.5)];
      expectMatch(matchDefectStructure(moved(e.structure(), (x) => [x[0] + shift[0], x[1] + shift[1], x[2] + shift[2]])), e);
    }
  });

  it('a large translation, wrapped into the cell (the layer split across c), gives a lattice translate of it', () => {
    for (const host of HOSTS) {
      const e = randomEditor(host, 5, r);
      const s = e.structure();
      const shift: Vec3 = [7.3, -11.1, -0.5 * s.lattice.abc[2] - 0.3];
      const file = throughFile(
        moved(s, (x) => [x[0] + shift[0], x[1] + shift[1], x[2] + shift[2]])
          .with({ pbc: [true, true, true] })
          .wrapped(),
        'poscar',
      );
      const m = matchDefectStructure(file);
      if (!m.ok) throw new Error(m.reason);
      expect([m.match.host, m.match.size, m.match.edits.length]).toEqual([host, 5, e.state.edits.length]);
      const got = new DefectEditor(m.match);
      expect(shape(got.config())).toEqual(shape(e.config()));
    }
  });

  it('another vacuum, a tilted c, a γ = 60° cell and a rotated frame keep the site numbers', () => {
    const e = randomEditor('MoS2', 5, r);
    const s = e.structure();
    const [a, b, c] = s.lattice.matrix;
    // Vacuum: c from 21.2 to 30 Å; the atoms keep their Cartesian places.
    expectMatch(matchDefectStructure(moved(s, (x) => x, [a, b, [0, 0, 30]])), e);
    expectMatch(matchDefectStructure(moved(s, (x) => x, [a, b, [2, 1, c[2]]])), e);
    // The same lattice through a and a + b (γ = 60°).
    expectMatch(
      matchDefectStructure(
        throughFile(
          moved(s, (x) => x, [a, [a[0] + b[0], a[1] + b[1], 0], c]),
          'cif',
        ),
      ),
      e,
    );
    const t = (37 * Math.PI) / 180;
    const rot = (x: readonly number[]): Vec3 => [Math.cos(t) * x[0] - Math.sin(t) * x[1], Math.sin(t) * x[0] + Math.cos(t) * x[1], x[2]];
    expectMatch(matchDefectStructure(moved(s, rot, [rot(a), rot(b), rot(c)])), e);
  });

  it('the layer turned upside down in its cell (180° about a, which maps the lattice onto itself) is the same configuration', () => {
    for (const host of HOSTS) {
      const e = randomEditor(host, 4, r);
      const s = e.structure();
      const m = matchDefectStructure(moved(s, (x) => [x[0], -x[1], -x[2]]));
      if (!m.ok) throw new Error(`${host}: ${m.reason}`);
      expect([m.match.host, m.match.size, m.match.edits.length]).toEqual([host, 4, e.state.edits.length]);
    }
  });

  it(`random displacements of every atom below ${SITE_TOLERANCE} Å match, every host; one atom moved beyond it is refused by name`, () => {
    for (const host of HOSTS) {
      const e = randomEditor(host, 5, r);
      const s = e.structure();
      const kick = (size: number): Vec3 => {
        const v: Vec3 = [r() - 0.5, r() - 0.5, r() - 0.5];
        const l = Math.hypot(...v);
        return [(size * v[0]) / l, (size * v[1]) / l, (size * v[2]) / l];
      };
      const jittered = moved(s, (x) => {
        const d = kick(0.2);
        return [x[0] + d[0], x[1] + d[1], x[2] + d[2]];
      });
      const m = matchDefectStructure(jittered);
      expectMatch(m, e);
      if (m.ok) expect(m.match.maxDeviation).toBeGreaterThan(0.1);
      const k = 5;
      const d = kick(0.5);
      expectRefusal(
        matchDefectStructure(moved(s, (x, i) => (i === k ? [x[0] + d[0], x[1] + d[1], x[2] + d[2]] : x))),
        new RegExp(
          `^atom ${k + 1} \\(${s.species[k]} at .* Å\\) is 0\\.[45]\\d Å from the nearest ${host} 5x5 site .*interstitials, adatoms and displacements beyond 0\\.3 Å are not supported$`,
        ),
      );
    }
  });

  it('the training lattice (MoS2 a = 3.19 Å, 1 % above the app’s 3.16 Å) maps onto the app’s sites; 4 % below is no host’s cell', () => {
    const e = randomEditor('MoS2', 6, r);
    const s = e.structure();
    const k = 3.19 / 3.16;
    const [a, b, c] = s.lattice.matrix;
    const scaled = new Structure({ lattice: [[a[0] * k, a[1] * k, 0], [b[0] * k, b[1] * k, 0], c], species: s.species, frac: s.frac, pbc: s.pbc });
    expectMatch(matchDefectStructure(scaled), e);
    // 6 x 3.16 x 0.96 = 18.20 Å: 3 % from GaSe 5x5 (18.78 Å), further from every other n x n cell.
    const tooFar = new Structure({ lattice: [[a[0] * 0.96, a[1] * 0.96, 0], [b[0] * 0.96, b[1] * 0.96, 0], c], species: s.species, frac: s.frac, pbc: s.pbc });
    expectRefusal(matchDefectStructure(tooFar), /is not an n x n supercell/);
  });
});

describe('hosts whose cells coincide: the atoms decide', () => {
  // GaSe 2x2 (7.510 Å) and hBN 3x3 (7.512 Å); InSe 5x5 (20.000 Å) and hBN 8x8 (20.032 Å).
  it.each([
    ['GaSe', 2],
    ['hBN', 3],
    ['InSe', 5],
    ['hBN', 8],
  ] as const)('%s %ix%i', (host, size) => {
    const e = new DefectEditor({ host, size, edits: [] });
    e.setSite(0, null);
    expectMatch(matchDefectStructure(throughFile(e.structure(), 'cif')), e);
  });
});

describe('what it refuses, in one line', () => {
  const e = new DefectEditor({ host: 'MoS2', size: 5, edits: [] });
  e.setSite(3, null);
  e.setSite(10, 'W');
  const s = e.structure();

  it('an interstitial, naming the atom, its place and its distance from the nearest site', () => {
    const withAdatom = Structure.fromCartesian({ lattice: s.lattice, species: [...s.species, 'S'], cart: [...s.cart, [1, 1, 12]], pbc: s.pbc });
    expectRefusal(
      matchDefectStructure(withAdatom),
      /^atom 75 \(S at 1\.00, 1\.00, 12\.00 Å\) is 0\.\d\d Å from the nearest MoS2 5x5 site \(site \d+, S\); interstitials/,
    );
  });

  it('two atoms on one site', () => {
    const r0 = s.cart[7];
    const crowded = Structure.fromCartesian({ lattice: s.lattice, species: [...s.species, 'S'], cart: [...s.cart, [r0[0] + 0.1, r0[1], r0[2]]], pbc: s.pbc });
    expectRefusal(matchDefectStructure(crowded), /^atoms 8 and 75 \(Mo, S\) both sit on MoS2 5x5 site 8 \(Mo\); a site holds one atom$/);
  });

  it('a cell that is no host’s n x n supercell, a non-square one, one out of range', () => {
    const c = s.lattice.matrix[2];
    expectRefusal(
      matchDefectStructure(s.with({ lattice: new Lattice([[17, 0, 0], [-8.5, 17 * Math.sin(Math.PI / 3), 0], c]) })),
      /^the cell \(a = 17\.000 Å, b = 17\.000 Å, γ = 120\.0°\) is not an n x n supercell \(n = 2\.\.10\) of MoS2 .* within 2 % and 1°/,
    );
    const bp = new DefectEditor({ host: 'BP', size: 4, edits: [] }).pristine();
    const [a, b] = bp.lattice.matrix;
    const bp4x3 = new Structure({ lattice: [a, [b[0] * 0.75, b[1] * 0.75, 0], bp.lattice.matrix[2]], species: ['P'], frac: [[0, 0, 0.5]], pbc: bp.pbc });
    expectRefusal(matchDefectStructure(bp4x3), /^the cell is a 4x3 supercell of BP; the editor and the model take square n x n supercells only$/);
    const unit = readStructures('POSCAR', writeStructures([new DefectEditor({ host: 'InSe', size: 2, edits: [] }).pristine()], 'poscar'))[0];
    const one = unit.with({
      lattice: new Lattice([unit.lattice.matrix[0].map((x) => x / 2) as Vec3, unit.lattice.matrix[1].map((x) => x / 2) as Vec3, unit.lattice.matrix[2]]),
      species: ['In'],
      frac: [[0, 0, 0.5]],
    });
    expectRefusal(matchDefectStructure(one), /^the cell is the 1x1 cell of InSe; the editor takes 2x2 to 10x10 supercells$/);
  });

  it('an element outside the model’s vocabulary, and something that is not an element', () => {
    expectRefusal(
      matchDefectStructure(s.with({ species: s.species.map((x, i) => (i === 5 ? 'Cu' : x)) })),
      /^atom 6 \(Cu at .* Å\) replaces Mo on MoS2 5x5 site 6, but Cu is not in the model's vocabulary \(B, C, N, O, P, S, Ga, Se, Mo, In, W, Te, Cr, Nb, V\)$/,
    );
    expectRefusal(matchDefectStructure(s.with({ species: s.species.map((x, i) => (i === 2 ? 'X' : x)) })), /^atom 3: 'X' is not an element$/);
  });

  it('a whole sublattice replaced (WS2 is not MoS2 with 25 defects), and more than half the sites changed', () => {
    const ws2 = new DefectEditor({ host: 'MoS2', size: 5, edits: [] });
    ws2.pristine().species.forEach((x, i) => x === 'Mo' && ws2.setSite(i, 'W'));
    expectRefusal(
      matchDefectStructure(ws2.structure()),
      /^all 25 Mo sites of one sublattice of MoS2 5x5 are empty or replaced: another material, not point defects in MoS2$/,
    );
    const alloy = new DefectEditor({ host: 'BP', size: 3, edits: [] });
    // Half of every sublattice but one site more of each: no sublattice is whole, 20 of 36 sites changed.
    for (let site = 0; site < 36; site++) if (site % 9 < 5) alloy.setSite(site, 'N');
    expectRefusal(matchDefectStructure(alloy.structure()), /^20 of the 36 sites of BP 3x3 differ from the pristine layer \(more than 50 %\)/);
  });

  it('partial occupancy, a molecule, an empty file', () => {
    expectRefusal(
      matchDefectStructure(s.with({ occupancy: s.species.map((_, i) => (i === 4 ? 0.5 : 1)) })),
      new RegExp(`^atom 5 \\(${s.species[4]}\\) has occupancy 0\\.5; a defect configuration has whole atoms or none$`),
    );
    expectRefusal(matchDefectStructure(s.with({ pbc: [false, false, false] })), /not periodic along a and b/);
    expectRefusal(matchDefectStructure(s.with({ species: [], frac: [] })), /no atoms/);
  });

  it('a pristine supercell maps with no edits (the CLI then says there is nothing to predict)', () => {
    const m = matchDefectStructure(e.pristine());
    expect(m.ok && m.match.edits).toEqual([]);
  });
});

// --- An independent reference: the Python pipeline's own geometry, written by pymatgen ---

const available = pythonHas('pymatgen.io.cif, pymatgen.io.ase, ase.build');

interface Fixture {
  name: string;
  config: DefectConfig;
  graph: { nodes: number[][]; dist: number[] };
  output: number[];
}

const FIXTURES = fileURLToPath(new URL('../../models/defects/fixtures/sparse-graphs.json', import.meta.url));
const MODELS = fileURLToPath(new URL('../../models', import.meta.url));

/**
 * For each fixture configuration of the pipeline (models/defects/export.py),
 * the defective supercell as the pipeline builds it (hosts.py: ase.build.mx2
 * for the TMDs, the training lattice constant, 8 Å of vacuum a side), with
 * the atom nearest each defect position removed or replaced, written as CIF by
 * pymatgen's CifWriter.
 */
const WRITER = `
import json, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, sys.argv[1])
import numpy as np
from defects.hosts import HOSTS
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifWriter
out = []
for f in json.load(open(sys.argv[2])):
    c = f["config"]
    host = HOSTS[c["host"]]
    n = int(round(np.linalg.norm(c["lattice"][0]) / host.a))
    atoms = host.supercell(n)
    assert len(atoms) == c["pristineSites"]
    inv = np.linalg.inv(atoms.cell.array)
    remove = []
    for d in c["defects"]:
        diff = (atoms.positions - np.array(d["position"])) @ inv
        diff[:, :2] -= np.round(diff[:, :2])
        k = int(np.argmin(np.linalg.norm(diff @ atoms.cell.array, axis=1)))
        if d["zNew"] == 0:
            remove.append(k)
        else:
            atoms.numbers[k] = d["zNew"]
    del atoms[sorted(remove)]
    out.append(str(CifWriter(AseAtomsAdaptor.get_structure(atoms))))
print(json.dumps(out))
`;

describe.skipIf(!available)('the pipeline’s supercells (ASE, models/defects/hosts.py) written by pymatgen', () => {
  const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8')) as Fixture[];
  const cifs = available ? (JSON.parse(execFileSync(PY, ['-c', WRITER, MODELS, FIXTURES], { encoding: 'utf8' })) as string[]) : [];

  it('map onto the sites the pipeline featurised: the same sparse graph, and the prediction the pipeline exported', () => {
    expect(cifs).toHaveLength(fixtures.length);
    const model = loadModel(DEFAULT_MODEL);
    fixtures.forEach((f, i) => {
      const m = matchDefectStructure(readStructures(`${f.name}.cif`, cifs[i])[0]);
      if (!m.ok) throw new Error(`${f.name}: ${m.reason}`);
      expect(m.match.host).toBe(f.config.host);
      // ASE's mx2 has a chalcogen–chalcogen height of 3.13 Å (MoS2) against the app's 3.17 Å; nothing else differs.
      expect(m.match.maxDeviation).toBeLessThan(0.03);
      const config = new DefectEditor(m.match).config();
      expect(config.pristineSites).toBe(f.config.pristineSites);
      const g = sparseDefectGraph(toTrainingGeometry(config, model.manifest.hostLattice?.[config.host]));
      const width = g.nodes.cols;
      // One-hot species columns exactly; the height column, (z - zMid) / 3, within the 0.02 Å height difference.
      const byKey = (rows: number[][]) =>
        rows.map((x) => ({ key: x.slice(0, width - 1).join(','), height: x[width - 1] })).sort((x, y) => x.key.localeCompare(y.key) || x.height - y.height);
      const got = byKey(Array.from({ length: g.nodes.rows }, (_, k) => Array.from(g.nodes.data.slice(k * width, (k + 1) * width))));
      const want = byKey(f.graph.nodes);
      expect(got.map((x) => x.key)).toEqual(want.map((x) => x.key));
      got.forEach((x, k) => expect(Math.abs(x.height - want[k].height)).toBeLessThan(0.01));
      // Edge lengths: same count, each within 0.05 Å (the 0.04 Å height difference enters top–bottom pairs).
      const mine = Array.from(g.edges.data).sort((x, y) => x - y);
      const theirs = [...f.graph.dist].sort((x, y) => x - y);
      expect(mine.length).toBe(theirs.length);
      mine.forEach((d, k) => expect(Math.abs(d - theirs[k])).toBeLessThan(0.05));
      // The exported PyTorch prediction on the pipeline's configuration, within what the height
      // difference makes of it (0.011 eV at most on these fixtures, 2026-12-06; predictions span 0–8 eV).
      const p = model.predict(config);
      expect(Math.abs(p.formationEnergy - f.output[0])).toBeLessThan(0.03);
      expect(Math.abs(p.gap - f.output[1])).toBeLessThan(0.03);
    });
  }, 60_000); // one Python start (ASE + pymatgen imports: 3–6 s on the loaded machine) and 8 matches
});

it.runIf(!available)('the comparison with the pipeline’s supercells is skipped: python3-pymatgen / python3-ase are not installed', () => {
  expect(available).toBe(false);
});

describe('the training data’s supercells (models/defects/data/dft.jsonl, built by ASE)', () => {
  it('every n x n one maps onto its host and size with the same vacancies and substitutions; the BP 4x3 and 5x4 ones are refused as non-square', () => {
    const path = fileURLToPath(new URL('../../models/defects/data/dft.jsonl', import.meta.url));
    const records = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            host: HostName;
            supercell: number[];
            species: string[];
            positions: Vec3[];
            cell: Mat3;
            pbc: [boolean, boolean, boolean];
            defects: { added: string | null }[];
          },
      );
    // Every 7th record: all hosts and sizes, in a few seconds on the loaded machine.
    const sample = records.filter((_, i) => i % 7 === 0);
    let square = 0;
    for (const rec of sample) {
      const m = matchDefectStructure(Structure.fromCartesian({ lattice: rec.cell, species: rec.species, cart: rec.positions, pbc: rec.pbc }));
      const [na, nb] = rec.supercell;
      if (na !== nb) {
        expectRefusal(m, new RegExp(`^the cell is a ${na}x${nb} supercell of BP; .*square n x n supercells only$`));
        continue;
      }
      square++;
      if (!m.ok) throw new Error(`${rec.host} ${na}x${nb}: ${m.reason}`);
      expect([m.match.host, m.match.size]).toEqual([rec.host, na]);
      const kinds = (list: (string | null)[]) => list.map((x) => x ?? 'vacancy').sort();
      expect(kinds(m.match.edits.map(([, z]) => (z === 0 ? null : elementByZ(z)!.symbol)))).toEqual(kinds(rec.defects.map((d) => d.added)));
    }
    expect(square).toBeGreaterThan(90);
  }, 60_000);
});
