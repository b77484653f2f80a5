/**
 * Whole atom counts from the composition head's probabilities: floor(p·n),
 * then the atoms still missing go to the largest remainders (ties to the
 * lower vocabulary index). The same rule as `composition_counts` in
 * models/cdvae/sample.py.
 */
export function compositionCounts(probs: ArrayLike<number>, n: number): number[] {
  const raw = Array.from(probs, (p) => p * n);
  const counts = raw.map(Math.floor);
  const order = raw.map((r, i) => ({ i, rem: r - counts[i] })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  let missing = n - counts.reduce((s, c) => s + c, 0);
  for (const { i } of order) {
    if (missing <= 0) break;
    counts[i]++;
    missing--;
  }
  return counts;
}

/** Vocabulary indices, one per atom, grouped by element. */
export function typesFromCounts(counts: readonly number[]): number[] {
  const out: number[] = [];
  counts.forEach((c, idx) => {
    for (let k = 0; k < c; k++) out.push(idx);
  });
  return out;
}
