/**
 * Presentation mode's state, for a projector: on or off, the tour (the
 * attract loop, app/attract-loop.ts) running or handed over to a visitor,
 * and the caption under the view. Full screen is asked for where the
 * browser allows it. The app supplies the tour's actions; this class holds
 * no markup, so it is tested in Node (src/tests/presentation.svelte.test.ts).
 */
import { type AttractActions, runAttractLoop } from './attract-loop';

export const HANDED_OVER = 'Your turn: explore. P restarts the tour, Esc leaves, ? lists the keys.';

export class Presentation {
  presenting = $state(false);
  caption = $state('');
  /** True while the tour runs (nobody has touched the screen since it started). */
  touring = $state(false);
  private tour: AbortController | null = null;
  /** Full screen was reached since entering; a later exit by the browser (its own Esc) leaves presentation mode. */
  private wasFullscreen = false;
  /** An exit we asked for ourselves is on its way: its event must not leave a presentation entered meanwhile. */
  private ownExit = false;

  constructor(
    private readonly actions: AttractActions,
    private readonly hooks: { onStopped?: () => void; onError?: (message: string) => void; fullscreen?: boolean; scale?: number } = {},
  ) {}

  enter(): void {
    this.presenting = true;
    // It needs a user gesture; a refusal (or a browser without it) is harmless.
    if (this.hooks.fullscreen !== false) document.documentElement.requestFullscreen?.().catch(() => undefined);
    this.startTour();
  }

  leave(): void {
    this.stopTour();
    this.presenting = false;
    this.caption = '';
    if (this.hooks.fullscreen !== false && document.fullscreenElement) {
      this.ownExit = true;
      void document.exitFullscreen().catch(() => undefined);
    }
  }

  /**
   * The document entered or left full screen. Leaving it with the browser's
   * own Esc leaves presentation mode too; the exit that leave() asked for
   * does not, even when its event arrives after P has entered again (the
   * race that made the e2e test flaky).
   */
  fullscreenChanged(isFullscreen: boolean): void {
    if (isFullscreen) {
      this.wasFullscreen = true;
      return;
    }
    const browserExit = !this.ownExit && this.wasFullscreen;
    this.ownExit = false;
    this.wasFullscreen = false;
    if (browserExit && this.presenting) this.leave();
  }

  startTour(): void {
    this.tour?.abort();
    const controller = new AbortController();
    this.tour = controller;
    this.touring = true;
    void runAttractLoop(this.actions, controller.signal, { scale: this.hooks.scale, onStep: (c) => (this.caption = c) }).catch((e: unknown) => {
      this.touring = false;
      this.hooks.onError?.(`The presentation tour stopped: ${(e as Error).message}`);
    });
  }

  /** Hands the screen to the visitor: the tour stops where it is. */
  stopTour(): void {
    if (!this.tour) return;
    this.tour.abort();
    this.tour = null;
    this.touring = false;
    this.hooks.onStopped?.();
    this.caption = HANDED_OVER;
  }

  /** P: enter; while touring, leave; after a hand-over, tour again. */
  toggle(): void {
    if (!this.presenting) this.enter();
    else if (this.touring) this.leave();
    else this.startTour();
  }

  /** Any touch, click or key, except the keys that drive presentation mode itself, stops the tour. */
  touched(key?: string): void {
    if (!this.touring) return;
    if (key !== undefined && ['p', 'P', 'Escape', '?'].includes(key)) return;
    this.stopTour();
  }
}
