/**
 * Chart.js draws its text and grid lines in its own default colours (#666
 * and black at 10 %), which the dark presentation theme cannot show on a
 * projector. This sets them from the design tokens (theme.css `--muted`,
 * `--divider`) of the element that carries the theme, and redraws the
 * charts already on screen; App.svelte calls it whenever the theme changes.
 */
import { Chart } from 'chart.js';

export function applyChartTheme(themed: HTMLElement): void {
  const style = getComputedStyle(themed);
  const text = style.getPropertyValue('--muted').trim() || '#666';
  const grid = style.getPropertyValue('--divider').trim() || 'rgba(0, 0, 0, 0.1)';
  Chart.defaults.color = text;
  Chart.defaults.borderColor = grid;
  for (const chart of Object.values(Chart.instances)) chart.update('none');
  // For automation (e2e/presentation.spec.ts): the colour the charts now use.
  themed.dataset.chartText = text;
}
