/** Small CIF texts for tests: a cell, then a site loop. */

/** data_ block with the six cell parameters (a cube of edge a unless more are given). */
export function cifCell(a: number, more: { b?: number; c?: number; alpha?: number; beta?: number; gamma?: number; block?: string } = {}): string {
  const { b = a, c = a, alpha = 90, beta = 90, gamma = 90, block = 't' } = more;
  return `data_${block}\n_cell_length_a ${a}\n_cell_length_b ${b}\n_cell_length_c ${c}\n_cell_angle_alpha ${alpha}\n_cell_angle_beta ${beta}\n_cell_angle_gamma ${gamma}\n`;
}

/** An _atom_site loop: label, type symbol (unless `typed` is false), x, y, z, then any extra columns. */
export function siteLoop(rows: string, opts: { typed?: boolean; extra?: string[] } = {}): string {
  const cols = [
    '_atom_site_label',
    ...(opts.typed === false ? [] : ['_atom_site_type_symbol']),
    '_atom_site_fract_x',
    '_atom_site_fract_y',
    '_atom_site_fract_z',
    ...(opts.extra ?? []),
  ];
  return `loop_\n${cols.join('\n')}\n${rows}\n`;
}
