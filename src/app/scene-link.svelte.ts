/**
 * Keeps the URL's fragment in step with the scene (core/share-link.ts): the
 * app hands it the scene on every change and this writes it; a link opened
 * (at start, or pasted into the address bar) is decoded and handed back to
 * the app to apply. A mode, structure or option change is written at once
 * (a reload right after it must not bring back the previous scene); camera
 * moves arrive with every frame of a drag, so they are written once it stops.
 * The address bar is reached through `io`, so this is tested in Node.
 */
import { decodeScene, encodeScene, type SharedScene } from '../core/share-link';

export interface FragmentIo {
  /** Replaces the fragment without a history entry ('' removes it). */
  write(fragment: string): void;
}

export const browserFragment: FragmentIo = {
  write: (fragment) => history.replaceState(history.state, '', fragment ? `#${fragment}` : location.pathname + location.search),
};

/** A camera-only change is written this long after the last one. */
export const CAMERA_SETTLE_MS = 300;

export class SceneLink {
  /** True while a link is being applied: nothing is written meanwhile. */
  restoring = $state(true);
  /** Bumped by the view when the camera moves; read by the app's effect so camera moves re-run it. */
  cameraMoves = $state(0);
  private lastWritten = '';
  private lastScene = '';

  constructor(private readonly io: FragmentIo = browserFragment) {}

  /** Whether `hash` ('#…') is what this tab wrote itself (a hashchange to ignore). */
  isOwn(hash: string): boolean {
    return hash.replace(/^#/, '') === this.lastWritten;
  }

  /** Decodes a link and has the app apply it; what could not be read is reported through `warn`. */
  async restore(fragment: string, apply: (scene: SharedScene) => Promise<void>, warn: (message: string) => void): Promise<void> {
    this.restoring = true;
    try {
      const { scene, problems } = decodeScene(fragment);
      if (problems.length) warn(`Parts of the link were ignored: ${problems.join('; ')}.`);
      await apply(scene);
    } finally {
      this.restoring = false;
    }
  }

  /**
   * Call from an effect with the scene as it is now (without the camera) and
   * a way to read the camera; returns the effect's cleanup.
   */
  sync(scene: SharedScene, camera: () => number[] | null): (() => void) | undefined {
    if (this.restoring) return undefined;
    const write = () => {
      const view = camera();
      const text = encodeScene({ ...scene, view: view ?? undefined });
      if (text === this.lastWritten) return;
      this.lastWritten = text;
      this.io.write(text);
    };
    const settled = encodeScene(scene);
    if (settled !== this.lastScene) {
      this.lastScene = settled;
      write();
      return undefined;
    }
    const t = setTimeout(write, CAMERA_SETTLE_MS);
    return () => clearTimeout(t);
  }
}
