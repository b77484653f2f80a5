import type { XrdPeak } from './pattern';

/**
 * Which peaks of a stick plot to label with their hkl. Labels are drawn
 * upright beside narrow sticks, so two labels closer than a few degrees of
 * 2θ would overprint each other on a panel 300 px wide; the stronger peak
 * wins, and peaks too weak to read on the plot get a tooltip only.
 */
export interface LabelOptions {
  /** At most this many labels (default 8). */
  max?: number;
  /** Scaled intensity (of 100) below which a peak is not labelled (default 5). */
  minIntensity?: number;
  /** Degrees of 2θ between labelled peaks (default 2.5: about 10 px on a 300 px-wide 0–90° axis). */
  minSeparation?: number;
}

/** Indices into `peaks` of the peaks to label, in order of 2θ. */
export function peaksToLabel(peaks: readonly XrdPeak[], options: LabelOptions = {}): number[] {
  const { max = 8, minIntensity = 5, minSeparation = 2.5 } = options;
  const byStrength = peaks
    .map((p, i) => i)
    .filter((i) => peaks[i].intensity >= minIntensity)
    .sort((a, b) => peaks[b].intensity - peaks[a].intensity || a - b);
  const chosen: number[] = [];
  for (const i of byStrength) {
    if (chosen.length >= max) break;
    if (chosen.every((j) => Math.abs(peaks[j].twoTheta - peaks[i].twoTheta) >= minSeparation)) chosen.push(i);
  }
  return chosen.sort((a, b) => a - b);
}
