import { describe, expect, it } from 'vitest';
import { CAMERA_SETTLE_MS, SceneLink } from '../app/scene-link.svelte';
import type { SharedScene } from '../core/share-link';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the scene in the URL (state, without a browser)', () => {
  it('writes nothing while a link is applied, then a scene change at once and a camera move once it settles', async () => {
    const written: string[] = [];
    const link = new SceneLink({ write: (f) => written.push(f) });
    const si: SharedScene = { mode: 'library', builtin: 'si' };
    let view: number[] | null = [0, 0, 0, -50, 0, 0, 0, 1];
    expect(link.sync(si, () => view)).toBeUndefined();
    expect(written).toEqual([]); // still restoring

    const applied: SharedScene[] = [];
    const warnings: string[] = [];
    await link.restore(
      '#s=si&r=2x2x2&style=wireframe',
      async (s) => void applied.push(s),
      (w) => warnings.push(w),
    );
    expect(applied).toEqual([{ mode: 'library', builtin: 'si', repeat: [2, 2, 2] }]);
    expect(warnings).toEqual(["Parts of the link were ignored: unknown style 'wireframe'."]);
    expect(link.restoring).toBe(false);

    link.sync(si, () => view);
    expect(written).toEqual(['s=si&v=0,0,0,-50,0,0,0,1']);
    expect(link.isOwn('#s=si&v=0,0,0,-50,0,0,0,1')).toBe(true);

    // The same scene, the camera moved: written once the moves stop, not on every frame.
    view = [1, 0, 0, -50, 0, 0, 0, 1];
    const cancel = link.sync(si, () => view);
    expect(written).toHaveLength(1);
    cancel?.(); // the next frame's move supersedes this one
    view = [2, 0, 0, -50, 0, 0, 0, 1];
    link.sync(si, () => view);
    await wait(CAMERA_SETTLE_MS + 50);
    expect(written).toEqual(['s=si&v=0,0,0,-50,0,0,0,1', 's=si&v=2,0,0,-50,0,0,0,1']);

    // A mode change is written at once.
    link.sync({ mode: 'defects', defects: 'MoS2:5x5:V@1' }, () => view);
    expect(written[2]).toBe('m=defects&d=MoS2:5x5:V@1&v=2,0,0,-50,0,0,0,1');
    expect(link.isOwn('#s=si')).toBe(false);
  });
});
