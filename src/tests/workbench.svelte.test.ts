import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { DefectSession } from '../app/defects.svelte';
import { GenerateSession } from '../app/generate/session.svelte';
import { SceneLink } from '../app/scene-link.svelte';
import { AppState } from '../app/store.svelte';
import { type ViewerHandle, Workbench } from '../app/workbench.svelte';
import { builtinById } from '../core/library/builtins';

/*
 * The workbench with Svelte's client runtime (this file runs in the 'state'
 * Vitest project, vite.config.ts): its effects run inside $effect.root and
 * flushSync, with a fake 3D view and a fake URL fragment.
 */

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup() {
  const written: string[] = [];
  const app = new AppState();
  const defects = new DefectSession();
  const wb = new Workbench(app, defects, new GenerateSession(), new SceneLink({ write: (f) => written.push(f) }));
  cleanups.push($effect.root(() => wb.connect()));
  flushSync();
  return { app, defects, wb, written };
}

const si = () => builtinById('si')!.build();
const nacl = () => builtinById('nacl')!.build();

describe('the workbench (state with effects, without a browser)', () => {
  it('drops the pick and the supercell when another structure opens, in the same update', () => {
    const { app, wb } = setup();
    app.showCell(nacl());
    flushSync();
    wb.options.repeat = [2, 2, 2];
    wb.onPick({ site: 7, cell: [0, 0, 0] }, 0);
    flushSync();
    expect(wb.picked?.site).toBe(7);

    app.showCell(si()); // 2 sites: site 7 would not exist
    expect(wb.picked).toBeNull(); // derived: never stale, even before the effects run
    flushSync();
    expect(wb.options.repeat).toEqual([1, 1, 1]);
  });

  it('collects up to three measurement clicks in one structure; a fourth starts again', () => {
    const { app, wb } = setup();
    app.showCell(nacl());
    wb.measuring = true;
    for (const site of [0, 1, 2]) wb.onPick({ site, cell: [0, 0, 0] }, 0);
    expect(wb.measured.map((p) => p.site)).toEqual([0, 1, 2]);
    wb.onPick({ site: 3, cell: [0, 0, 0] }, 0);
    expect(wb.measured.map((p) => p.site)).toEqual([3]);
    app.showCell(si());
    expect(wb.measured).toEqual([]);
  });

  it('in the defect editor a click edits the supercell and the view reports when the edit is on screen', async () => {
    const { defects, wb } = setup();
    let paint: () => void = () => undefined;
    const viewer: ViewerHandle = {
      whenPainted: () => new Promise((r) => (paint = r)),
      png: () => null,
      cameraView: () => null,
      setCameraView: () => undefined,
      resetCamera: () => undefined,
      viewAlong: () => undefined,
    };
    wb.viewer = viewer;
    wb.setMode('defects');
    flushSync();
    const before = defects.structure.numSites;
    wb.onPick({ site: 0, cell: [0, 0, 0] }, performance.now());
    flushSync();
    expect(defects.structure.numSites).toBe(before - 1);
    expect(wb.picked).toBeNull();
    expect(defects.shownMs).toBeNull(); // not drawn yet
    paint();
    await Promise.resolve();
    expect(defects.shownMs).not.toBeNull();
  });

  it('writes the scene into the URL fragment once a link has been restored', async () => {
    const { app, wb, written } = setup();
    await wb.restoreFromLink('#');
    app.showCell(si());
    flushSync();
    expect(written.at(-1)).toBe('s=si');
    wb.options.repeat = [2, 1, 1];
    flushSync();
    expect(written.at(-1)).toBe('s=si&r=2x1x1');
    wb.setMode('defects');
    flushSync();
    expect(written.at(-1)).toMatch(/^m=defects/);
  });
});
