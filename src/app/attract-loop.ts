/**
 * The attract loop of presentation mode: what a conference screen shows
 * while nobody touches it. It cycles library → defect editor (defects placed
 * one by one, predictions appearing) → generation, and starts again, until
 * its signal is aborted (any touch, click or key). The steps are callbacks
 * into the app, so the loop itself holds no UI and is tested with fakes.
 */
export interface AttractActions {
  /** Opens a built-in structure in the library. */
  showBuiltin(id: string): Promise<void> | void;
  /** Switches to the defect editor, on a fresh supercell of `host`. */
  startDefects(host: 'MoS2' | 'WSe2' | 'hBN'): Promise<void> | void;
  /** Places a vacancy (null) or a substitution on a pristine site. */
  placeDefect(site: number, element: string | null): Promise<void> | void;
  /** Switches to generation and runs a short one; resolves when it is done (or fails). */
  generate(seed: number): Promise<void>;
}

/** Seconds per step: long enough to read a prediction from the back of a hall. */
export const DWELL_S = { crystal: 6, defect: 3.5, afterGeneration: 6 };

/** Crystals a visitor recognises, each with something to see. */
export const SHOWCASE = ['mos2-monolayer', 'srtio3', 'graphene', 'si', 'rutile'] as const;

/** The defects placed per round, near the middle of the 5x5 MoS2 supercell: an S vacancy, W on the Mo beside it, a second S vacancy. */
export const DEFECT_STEPS: readonly { site: number; element: string | null }[] = [
  { site: 37, element: null },
  { site: 12, element: 'W' },
  { site: 38, element: null },
];

/** Resolves after `ms`, or rejects with an AbortError as soon as the signal aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DOMException('stopped', 'AbortError'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(t);
      reject(new DOMException('stopped', 'AbortError'));
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Runs rounds until aborted; resolves (never rejects) when stopped. `scale`
 * shortens every dwell (tests). `onStep` names what is on screen, for the
 * caption a presenter may show.
 */
export async function runAttractLoop(
  actions: AttractActions,
  signal: AbortSignal,
  opts: { scale?: number; onStep?: (caption: string) => void } = {},
): Promise<void> {
  const scale = opts.scale ?? 1;
  const wait = (s: number) => pause(s * 1000 * scale, signal);
  const step = (caption: string) => opts.onStep?.(caption);
  try {
    for (let round = 0; !signal.aborted; round++) {
      const id = SHOWCASE[round % SHOWCASE.length];
      step('A crystal from the built-in library');
      await actions.showBuiltin(id);
      await wait(DWELL_S.crystal);
      step('Point defects in MoS₂: predicted formation energy and gap');
      await actions.startDefects('MoS2');
      for (const d of DEFECT_STEPS) {
        await wait(DWELL_S.defect);
        await actions.placeDefect(d.site, d.element);
      }
      await wait(DWELL_S.defect);
      step('New crystals from a diffusion model (CDVAE)');
      if (signal.aborted) break;
      await actions.generate(round + 1);
      await wait(DWELL_S.afterGeneration);
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
}
