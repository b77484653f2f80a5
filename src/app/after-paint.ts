/**
 * Runs work after the next frame has been painted: for secondary views (the
 * growth-condition and level plots) that must not delay the pixels an edit
 * is waiting for (the 3D view and the predicted numbers; issue 30's
 * click-to-pixels budget). requestAnimationFrame fires before that frame's
 * paint, so the work goes into a task queued from it, which runs after.
 * Returns a cancel function, for an effect's teardown when a newer change
 * supersedes the work.
 */
export function afterPaint(work: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const frame = requestAnimationFrame(() => {
    timer = setTimeout(work, 0);
  });
  return () => {
    cancelAnimationFrame(frame);
    if (timer !== undefined) clearTimeout(timer);
  };
}
