import { describe, expect, it } from 'vitest';
import { DefectEditor } from '../core/defects/editor';
import { describeMembers, writeModel, readModel, ModelFileError } from '../core/defects/model-file';
import { DefectModel } from '../core/defects/predict';
import { EDGE_CUTOFF, NODE_FEATURES, RepresentationError, sparseDefectGraph, STATE_FEATURES } from '../core/defects/representation';
import { megnetForward, randomMegnet } from '../core/graph/megnet';
import { batchGraphs } from '../core/graph/batch';

const shape = { nodeIn: NODE_FEATURES, stateIn: STATE_FEATURES, rbf: 20, cutoff: EDGE_CUTOFF, hidden: 16, features: 8, blocks: 2, outputs: 2 };

function mos2(size: number, edits: [number, string | null][]): DefectEditor {
  const ed = new DefectEditor({ host: 'MoS2', size, edits: [] });
  for (const [site, el] of edits) ed.setSite(site, el);
  return ed;
}

describe('defect editor', () => {
  it('makes vacancies and substitutions, with undo and redo', () => {
    const ed = new DefectEditor({ host: 'MoS2', size: 4, edits: [] });
    expect(ed.pristine().numSites).toBe(48);
    ed.setSite(1, null); // S vacancy
    ed.setSite(0, 'W'); // W on Mo
    expect(ed.structure().numSites).toBe(47);
    expect(ed.structure().species.filter((s) => s === 'W')).toHaveLength(1);
    expect(ed.state.edits).toEqual([
      [0, 74],
      [1, 0],
    ]);
    ed.undo();
    expect(ed.state.edits).toEqual([[1, 0]]);
    ed.redo();
    expect(ed.state.edits).toHaveLength(2);
    ed.setSite(0, 'Mo'); // back to pristine removes the edit
    expect(ed.state.edits).toEqual([[1, 0]]);
    ed.clear();
    expect(ed.state.edits).toEqual([]);
    ed.undo();
    expect(ed.state.edits).toEqual([[1, 0]]);
    expect(() => ed.setSite(48, null)).toThrow(/not in the 48-site/);
    expect(() => ed.setSite(0, 'Xx')).toThrow(/unknown element/);
  });

  it('maps atoms of the defective structure back to pristine sites', () => {
    const ed = mos2(3, [
      [1, null],
      [4, null],
    ]);
    expect(ed.pristineIndex(0)).toBe(0);
    expect(ed.pristineIndex(1)).toBe(2);
    expect(ed.pristineIndex(3)).toBe(5);
  });

  it('offers every host up to 8x8 and beyond', () => {
    for (const host of ['MoS2', 'WSe2', 'hBN', 'GaSe', 'InSe', 'BP'] as const) {
      const ed = new DefectEditor({ host, size: 8, edits: [] });
      ed.setSite(0, null);
      expect(ed.config().defects).toHaveLength(1);
      expect(ed.structure().numSites).toBe(ed.pristine().numSites - 1);
    }
  });
});

describe('sparse defect representation', () => {
  it('one S vacancy in 4x4 MoS2 sees its own images within 10 Å', () => {
    const sSite = new DefectEditor({ host: 'MoS2', size: 4, edits: [] }).pristine().species.indexOf('S');
    const g = sparseDefectGraph(mos2(4, [[sSite, null]]).config());
    expect([g.nodes.rows, g.nodes.cols]).toEqual([1, NODE_FEATURES]);
    // Images at 4a = 12.6 Å: none; so no edges in 4x4 (a = 3.16 Å).
    expect(g.edges.rows).toBe(0);
    const small = sparseDefectGraph(mos2(3, [[sSite, null]]).config());
    // 3a = 9.48 Å < 10: the six in-plane neighbours images.
    expect(small.edges.rows).toBe(6);
    for (const d of small.edges.data) expect(d).toBeCloseTo(9.48, 2);
    expect(g.state![6]).toBeCloseTo(100 / 48, 6);
    // Node: vacancy (index 0) on a pristine S (index 6); S sits 1.5 Å off the middle plane.
    expect(g.nodes.data[0]).toBe(1);
    expect(g.nodes.data[16 + 6]).toBe(1);
    expect(Math.abs(g.nodes.data[32])).toBeGreaterThan(0.4);
  });

  it('does not depend on the order of the defects (same edge multiset)', () => {
    const a = sparseDefectGraph(
      mos2(5, [
        [1, null],
        [0, 'W'],
        [7, 'Se'],
      ]).config(),
    );
    const cfg = mos2(5, [
      [1, null],
      [0, 'W'],
      [7, 'Se'],
    ]).config();
    const b = sparseDefectGraph({ ...cfg, defects: [...cfg.defects].reverse() });
    expect(b.edges.rows).toBe(a.edges.rows);
    expect([...b.edges.data].sort()).toEqual([...a.edges.data].sort());
    for (const d of a.edges.data) expect(d).toBeLessThan(EDGE_CUTOFF);
  });

  it('refuses elements outside the vocabulary', () => {
    expect(() => sparseDefectGraph(mos2(4, [[1, 'Au']]).config())).toThrow(RepresentationError);
  });
});

describe('model files', () => {
  it('says how the ensemble members differ', () => {
    const base = { structures: 1, hosts: ['MoS2'], elements: [42, 16], maxDefects: 3 };
    expect(describeMembers(base)).toBe('trained from different random starts');
    expect(describeMembers({ ...base, memberVariants: ['plain', 'plain'] })).toBe('trained from different random starts');
    expect(describeMembers({ ...base, memberVariants: ['plain', 'plain', 'xtb pretrained', 'xtb pretrained', 'xtb pretrained'] })).toBe(
      'trained from different random starts, 3 of them pretrained on cheaper labels first',
    );
    expect(describeMembers({ ...base, memberVariants: ['a', 'b', 'b'] })).toBe('trained from different random starts in 2 ways');
    // Explicit flags win over the variant names (names that don't say "pretrain").
    expect(describeMembers({ ...base, memberVariants: ['a', 'b', 'b'], memberPretrained: [false, true, true] })).toBe(
      'trained from different random starts, 2 of them pretrained on cheaper labels first',
    );
    // Flags of the wrong length are ignored, not half-read.
    expect(describeMembers({ ...base, memberVariants: ['plain', 'xtb pretrained'], memberPretrained: [true] })).toBe(
      'trained from different random starts, 1 of them pretrained on cheaper labels first',
    );
  });

  const meta = {
    name: 'test',
    created: '2026-11-23',
    representation: 'sparse-defect/1',
    shape,
    set2setSteps: 3,
    targets: ['formation_energy_per_site_eV', 'gap_eV'],
    normalization: { mean: [2, 1.5], std: [0.5, 0.3] },
    training: { structures: 40, hosts: ['MoS2'], elements: [16, 34, 42, 74], maxDefects: 3 },
  };

  it('round-trips weights through manifest + blob and predicts', () => {
    const w = randomMegnet(shape, 3);
    const { manifest, blob } = writeModel([w], meta);
    const [back] = readModel(manifest, blob);
    const g = batchGraphs([
      sparseDefectGraph(
        mos2(3, [
          [1, null],
          [0, 'W'],
        ]).config(),
      ),
    ]);
    expect(megnetForward(back, g).data).toEqual(megnetForward(w, g).data);
    const model = new DefectModel(manifest, blob);
    const p = model.predict(mos2(3, [[1, null]]).config());
    expect(Number.isFinite(p.formationEnergy) && Number.isFinite(p.gap)).toBe(true);
    expect([p.members, p.spread]).toEqual([1, null]);
    expect(p.outOfDomain).toEqual(['it was trained on only 40 structures, so every prediction is rough']);
    const far = model.domainWarnings(new DefectEditor({ host: 'WSe2', size: 4, edits: [] }).config());
    expect(far[0]).toMatch(/not trained on WSe2/);
    const ranged = new DefectModel({ ...manifest, training: { ...manifest.training, concentration: [1.3, 6.3] } }, blob);
    expect(ranged.domainWarnings(mos2(8, [[1, null]]).config()).join()).toMatch(/0\.5 defects per 100 sites; it was trained on 1\.3–6\.3/);
    expect(ranged.domainWarnings(mos2(5, [[1, null]]).config()).join()).not.toMatch(/per 100 sites/);
    const counted = (n: number) => new DefectModel({ ...manifest, training: { ...manifest.training, hostCounts: { MoS2: n } } }, blob);
    expect(counted(3).domainWarnings(mos2(4, [[1, null]]).config())).toContain('it has seen only 3 MoS2 structures');
    expect(counted(1).domainWarnings(mos2(4, [[1, null]]).config())).toContain('it has seen only 1 MoS2 structure');
    expect(
      counted(20)
        .domainWarnings(mos2(4, [[1, null]]).config())
        .join(),
    ).not.toMatch(/seen only/);
  });

  it('reads an ensemble and predicts the mean of its members, with their spread', () => {
    const ws = [3, 4, 5].map((seed) => randomMegnet(shape, seed));
    const { manifest, blob } = writeModel(ws, meta);
    expect(manifest.members).toBe(3);
    const back = readModel(manifest, blob);
    const config = mos2(4, [
      [1, null],
      [0, 'W'],
    ]).config();
    const g = batchGraphs([sparseDefectGraph(config)]);
    back.forEach((b, m) => expect(megnetForward(b, g).data).toEqual(megnetForward(ws[m], g).data));
    const { mean, std } = meta.normalization;
    const each = ws.map((w) => Array.from(megnetForward(w, g).data, (v, k) => v * std[k] + mean[k]));
    const p = new DefectModel(manifest, blob).predict(config);
    const avg = (t: number) => each.reduce((a, y) => a + y[t], 0) / 3;
    const sd = (t: number) => Math.sqrt(each.reduce((a, y) => a + (y[t] - avg(t)) ** 2, 0) / 3);
    expect(p.members).toBe(3);
    expect(p.formationEnergy).toBeCloseTo(avg(0), 6);
    expect(p.gap).toBeCloseTo(avg(1), 6);
    expect(p.spread!.formationEnergy).toBeCloseTo(sd(0), 6);
    expect(p.spread!.gap).toBeCloseTo(sd(1), 6);
    // Different random members must disagree, or the spread tests nothing.
    expect(p.spread!.formationEnergy).toBeGreaterThan(1e-4);
  });

  it('reads a format /1 file (one model, no member tags)', () => {
    const { manifest, blob } = writeModel([randomMegnet(shape, 3)], meta);
    const v1 = { ...manifest, format: 'latticelab-megnet/1', members: undefined, tensors: manifest.tensors.map(({ member: _, ...t }) => t) };
    expect(readModel(v1, blob)).toHaveLength(1);
  });

  it('reports damaged files clearly', () => {
    const { manifest, blob } = writeModel([randomMegnet(shape, 3)], meta);
    expect(() => readModel({ ...manifest, format: 'x' }, blob)).toThrow(/unknown model format/);
    expect(() => readModel(manifest, blob.slice(0, 1000))).toThrow(/past the end/);
    expect(() => readModel({ ...manifest, tensors: manifest.tensors.filter((t) => t.name !== 'readout.0.b') }, blob)).toThrow(ModelFileError);
    expect(() => readModel({ ...manifest, members: 0 }, blob)).toThrow(/claims 0 members/);
    expect(() => readModel({ ...manifest, members: 1e6 }, blob)).toThrow(/members/);
    // A second member announced but missing its tensors names the member.
    expect(() => readModel({ ...manifest, members: 2 }, blob)).toThrow(/member 1: the model has no (layers|tensor)/);
    expect(() => readModel({ ...manifest, tensors: manifest.tensors.map((t) => ({ ...t, member: 5 })) }, blob)).toThrow(/belongs to member 5/);
  });
});

describe('toTrainingGeometry', () => {
  it('scales the in-plane geometry of the built-in host to the trained lattice parameter', async () => {
    const { toTrainingGeometry } = await import('../core/defects/predict');
    const cfg = mos2(5, [
      [1, null],
      [4, null],
    ]).config();
    const a = Math.hypot(...cfg.lattice[0]) / 5; // 3.16 Å, the built-in value
    const scaled = toTrainingGeometry(cfg, 3.19);
    expect(Math.hypot(...scaled.lattice[0])).toBeCloseTo(5 * 3.19, 9);
    expect(scaled.lattice[2]).toEqual(cfg.lattice[2]);
    const d = (c: typeof cfg) => Math.hypot(...[0, 1, 2].map((k) => c.defects[1].position[k] - c.defects[0].position[k]));
    const dz = cfg.defects[1].position[2] - cfg.defects[0].position[2];
    expect(scaled.defects[1].position[2] - scaled.defects[0].position[2]).toBeCloseTo(dz, 12);
    expect(d(scaled)).toBeGreaterThan(d(cfg) * (dz === 0 ? 3.19 / a - 1e-9 : 1));
    expect(toTrainingGeometry(cfg, undefined)).toBe(cfg);
  });
});
