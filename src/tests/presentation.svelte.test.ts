import { describe, expect, it } from 'vitest';
import type { AttractActions } from '../app/attract-loop';
import { HANDED_OVER, Presentation } from '../app/presentation.svelte';

function fakeActions(log: string[]): AttractActions {
  return {
    showBuiltin: (id) => void log.push(`crystal ${id}`),
    startDefects: (host) => void log.push(`defects ${host}`),
    placeDefect: (site, el) => void log.push(`defect ${el ?? 'V'}@${site}`),
    generate: async (seed) => void log.push(`generate ${seed}`),
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The class has no effects of its own: its logic is what is tested here (with Svelte's client
// runtime, the 'state' test project); its bindings are covered by e2e/presentation.spec.ts.
describe('presentation mode (state, without a browser)', () => {
  it('enters touring, hands over on a touch but not on its own keys, and leaves', async () => {
    const log: string[] = [];
    let stopped = 0;
    const p = new Presentation(fakeActions(log), { fullscreen: false, scale: 0.001, onStopped: () => stopped++ });
    p.enter();
    expect(p.presenting).toBe(true);
    expect(p.touring).toBe(true);
    await tick(60);
    expect(log[0]).toMatch(/^crystal /);
    expect(p.caption).not.toBe('');
    p.touched('P'); // the key that drives presentation mode is not a touch
    expect(p.touring).toBe(true);
    p.touched();
    expect(p.touring).toBe(false);
    expect(p.caption).toBe(HANDED_OVER);
    expect(stopped).toBe(1);
    const before = log.length;
    await tick(40);
    expect(log.length).toBe(before); // the tour really stopped
    p.toggle(); // after a hand-over, P tours again
    expect(p.touring).toBe(true);
    p.toggle(); // while touring, P leaves
    expect(p.presenting).toBe(false);
    expect(p.caption).toBe('');
  });

  it('leaves when the browser leaves full screen (its own Esc), not when it is not presenting', () => {
    const p = new Presentation(fakeActions([]), { fullscreen: false, scale: 1 });
    p.fullscreenChanged(false); // nothing to leave
    expect(p.presenting).toBe(false);
    p.enter();
    p.fullscreenChanged(true);
    expect(p.presenting).toBe(true);
    p.fullscreenChanged(false);
    expect(p.presenting).toBe(false);
    // Never reached full screen (refused): no exit event can leave it.
    p.enter();
    p.fullscreenChanged(false);
    expect(p.presenting).toBe(true);
    p.leave();
  });

  it('reports a failing tour step instead of throwing into the page', async () => {
    const errors: string[] = [];
    const p = new Presentation(
      { ...fakeActions([]), showBuiltin: () => Promise.reject(new Error('no such crystal')) },
      { fullscreen: false, scale: 0.001, onError: (m) => errors.push(m) },
    );
    p.enter();
    await tick(10);
    expect(errors).toEqual(['The presentation tour stopped: no such crystal']);
    expect(p.touring).toBe(false);
  });
});
