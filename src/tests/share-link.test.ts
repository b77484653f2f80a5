import { describe, expect, it } from 'vitest';
import { decodeScene, encodeScene, type SharedScene } from '../core/share-link';
import { quaternionOf, viewRotation } from '../core/camera';
import { rng } from './random';

describe('scene links', () => {
  it('writes nothing for a fresh start', () => {
    expect(encodeScene({ mode: 'library' })).toBe('');
    expect(decodeScene('')).toEqual({ scene: { mode: 'library' }, problems: [] });
  });

  it('round-trips random scenes', () => {
    const r = rng(11);
    for (let t = 0; t < 100; t++) {
      const q = quaternionOf(viewRotation([r() - 0.5, r() - 0.5, r() - 0.5], [0, 1, 0]));
      const view = [r() * 10 - 5, r() * 10 - 5, r() * 10 - 5, -50 - r() * 100, ...q].map((x) => Number(x.toFixed(4)));
      const mode = (['library', 'defects', 'generate'] as const)[t % 3];
      const scene: SharedScene = {
        mode,
        ...(mode === 'library' ? { builtin: ['si', 'nacl', 'mos2-monolayer'][t % 3] } : {}),
        ...(mode === 'defects' ? { defects: ['MoS2:5x5:V@1,W@0', 'WSe2:8x8:', 'hBN:3x3:C@2'][t % 3] } : {}),
        repeat: [1 + (t % 3), 1 + ((t >> 1) % 2), 1],
        style: (['ball-and-stick', 'spacefill', 'sticks'] as const)[t % 3],
        cell: t % 2 === 0,
        labels: t % 5 === 0,
        view,
      };
      const text = encodeScene(scene);
      const back = decodeScene(`#${text}`);
      expect(back.problems).toEqual([]);
      const want = { ...scene } as Partial<SharedScene>;
      if (want.style === 'ball-and-stick') delete want.style;
      if (want.repeat!.every((n) => n === 1)) delete want.repeat;
      expect(back.scene).toEqual(want);
    }
  });

  it('keeps links readable: no escaped colons, at-signs or commas', () => {
    const text = encodeScene({ mode: 'defects', defects: 'MoS2:5x5:V@1,W@0', ghosts: false });
    expect(text).toBe('m=defects&d=MoS2:5x5:V@1,W@0&show=-ghosts');
  });

  it('drops broken parts with a reason and keeps the rest', () => {
    const { scene, problems } = decodeScene('#m=defects&d=MoS2:5x5:V@9999&r=2x2x99&s=unobtainium&style=wireframe&show=cell,-bogus&v=1,2,3');
    expect(scene).toEqual({ mode: 'defects', cell: true });
    expect(problems).toHaveLength(6);
    expect(problems.join('; ')).toMatch(/site 9999/);
    expect(problems.join('; ')).toMatch(/supercell '2x2x99'/);
    expect(problems.join('; ')).toMatch(/no built-in structure 'unobtainium'/);
    expect(problems.join('; ')).toMatch(/unknown style 'wireframe'/);
    expect(problems.join('; ')).toMatch(/unknown display option 'bogus'/);
    expect(problems.join('; ')).toMatch(/camera view/);
    expect(decodeScene('#m=presentation').problems).toEqual(["unknown mode 'presentation'"]);
    expect(decodeScene('#v=0,0,0,-50,0,0,0,2').problems).toEqual(['the camera view is not 8 numbers with a unit rotation']);
  });
});
