/** Best-of-n wall time of an async (or sync) computation, and its last value. */
export async function bestOf<T>(repeat: number, fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  let ms = Infinity;
  let value!: T;
  for (let r = 0; r < Math.max(1, repeat); r++) {
    const t0 = performance.now();
    value = await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { value, ms };
}
