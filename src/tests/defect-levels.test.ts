/**
 * Defect levels (issue 28): a model file with HOMO and LUMO outputs gives
 * the members' mean and spread of each, de-normalised with their own
 * statistics, and the level diagram places them against the host's band
 * edges of the same supercell.
 */
import { describe, expect, it } from 'vitest';
import { DefectEditor } from '../core/defects/editor';
import { knownSupercells, levelDiagram, supercellKey } from '../core/defects/levels';
import { writeModel } from '../core/defects/model-file';
import { DefectModel } from '../core/defects/predict';
import { NODE_FEATURES, sparseDefectGraph, STATE_FEATURES } from '../core/defects/representation';
import { batchGraphs } from '../core/graph/batch';
import { megnetForward, randomMegnet } from '../core/graph/megnet';

const TARGETS = ['formation_energy_per_site_eV', 'gap_eV', 'homo_vbm_eV', 'lumo_vbm_eV'];
const shape = { nodeIn: NODE_FEATURES, stateIn: STATE_FEATURES, rbf: 20, cutoff: 10, hidden: 16, features: 8, blocks: 2, outputs: 4 };
const meta = {
  name: 'levels-test',
  created: '2026-12-06',
  representation: 'sparse-defect/1',
  shape,
  set2setSteps: 3,
  targets: TARGETS,
  // Distinct statistics per target: a de-normalisation that took them modulo 2 (the old two-target code) would fail.
  normalization: { mean: [2, 1.5, 0.4, 1.6], std: [0.5, 0.3, 0.7, 0.9] },
  training: { structures: 400, hosts: ['MoS2'], elements: [16, 34, 42, 74], maxDefects: 3 },
  hostBandEdges: { MoS2: { '4x4': { vbm: -5.87, gap: 2.08 }, '5x5': { vbm: -5.9, gap: 1.91 }, '3x3': { vbm: -5.88, gap: 1.6 } } },
};

function config(size = 4) {
  const ed = new DefectEditor({ host: 'MoS2', size, edits: [] });
  ed.setSite(1, null);
  ed.setSite(0, 'W');
  return ed.config();
}

describe('defect levels', () => {
  it('predicts HOMO and LUMO as the members’ mean and spread, each with its own normalisation', () => {
    const ws = [1, 2, 3].map((seed) => randomMegnet(shape, seed));
    const { manifest, blob } = writeModel(ws, meta);
    const model = new DefectModel(manifest, blob);
    expect(model.hasLevels).toBe(true);
    const g = batchGraphs([sparseDefectGraph(config())]);
    const { mean, std } = meta.normalization;
    const each = ws.map((w) => Array.from(megnetForward(w, g).data, (v, k) => v * std[k] + mean[k]));
    const avg = (t: number) => each.reduce((a, y) => a + y[t], 0) / each.length;
    const sd = (t: number) => Math.sqrt(each.reduce((a, y) => a + (y[t] - avg(t)) ** 2, 0) / each.length);
    const p = model.predict(config());
    expect(p.formationEnergy).toBeCloseTo(avg(0), 6);
    expect(p.gap).toBeCloseTo(avg(1), 6);
    expect(p.levels!.homo).toBeCloseTo(avg(2), 6);
    expect(p.levels!.lumo).toBeCloseTo(avg(3), 6);
    expect(p.levels!.spread!.homo).toBeCloseTo(sd(2), 6);
    expect(p.levels!.spread!.lumo).toBeCloseTo(sd(3), 6);
    expect(p.levels!.spread!.homo).toBeGreaterThan(1e-4);
  });

  it('has no levels for a two-target file, and refuses targets it does not know', () => {
    const two = { ...meta, shape: { ...shape, outputs: 2 }, targets: TARGETS.slice(0, 2), normalization: { mean: [2, 1.5], std: [0.5, 0.3] } };
    const { manifest, blob } = writeModel([randomMegnet(two.shape, 1)], two);
    const model = new DefectModel(manifest, blob);
    expect(model.hasLevels).toBe(false);
    expect(model.predict(config()).levels).toBeNull();
    const odd = writeModel([randomMegnet(shape, 1)], { ...meta, targets: [...TARGETS.slice(0, 2), 'lumo_vbm_eV', 'homo_vbm_eV'] });
    expect(() => new DefectModel(odd.manifest, odd.blob)).toThrow(/not formation energy and gap \(and optionally the HOMO and LUMO\)/);
  });

  it('places the levels against the band edges of the same supercell', () => {
    const at = (homo: number, lumo: number) => ({ levels: { homo, lumo, spread: { homo: 0.05, lumo: 0.1 } } });
    const d = levelDiagram(at(0.3, 1.2), meta.hostBandEdges, 'MoS2', 5)!;
    expect(d.supercell).toBe('5x5');
    expect(d.cbm).toBe(1.91);
    expect([d.homo.where, d.lumo.where]).toEqual(['in the gap', 'in the gap']);
    expect(d.homo.spread).toBe(0.05);
    expect(d.levelGap).toBeCloseTo(0.9, 12);
    // The same levels in the 3x3 supercell, whose Γ gap is smaller (K folded onto Γ): the LUMO is now resonant.
    const small = levelDiagram(at(0.3, 1.7), meta.hostBandEdges, 'MoS2', 3)!;
    expect([small.cbm, small.lumo.where]).toEqual([1.6, 'above the CBM']);
    expect(levelDiagram(at(-0.2, 1), meta.hostBandEdges, 'MoS2', 4)!.homo.where).toBe('below the VBM');
  });

  it('says where the conduction band is unknown rather than borrowing another size', () => {
    const d = levelDiagram({ levels: { homo: 0.3, lumo: 5, spread: null } }, meta.hostBandEdges, 'MoS2', 7)!;
    expect(d.cbm).toBeNull();
    expect(d.lumo.where).toBe('above the VBM');
    expect(d.homo.spread).toBe(0);
    expect(knownSupercells(meta.hostBandEdges, 'MoS2')).toEqual(['3x3', '4x4', '5x5']);
    expect(knownSupercells(undefined, 'MoS2')).toEqual([]);
    expect(levelDiagram({ levels: null }, meta.hostBandEdges, 'MoS2', 5)).toBeNull();
    expect(supercellKey(4, 3)).toBe('4x3');
  });
});
