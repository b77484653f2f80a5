/**
 * A one-line text form of a defect configuration, for the command line and
 * for saved records: `HOST:NxN:EDIT,EDIT,...` with EDIT = `V@site` (vacancy)
 * or `El@site` (substitution), sites indexing the pristine n x n supercell
 * of the built-in host. Example: `MoS2:5x5:V@1,W@0`. `V` is the vacancy
 * (Kröger–Vink), so vanadium cannot be written in this form; the editor can
 * still place it.
 */
import { elementByZ, isElementSymbol } from '../elements';
import { DefectEditor, MAX_SIZE, MIN_SIZE } from './editor';
import { HOSTS, type HostName } from './representation';

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/** `allowEmpty`: a pristine supercell (`MoS2:5x5:`) is accepted, for links to the editor; the CLI needs a defect. */
export function parseDefectSpec(text: string, opts: { allowEmpty?: boolean } = {}): DefectEditor {
  const m = /^\s*([A-Za-z0-9]+):(\d+)x(\d+):(.*?)\s*$/.exec(text);
  if (!m) throw new SpecError(`'${text}' is not HOST:NxN:EDITS (e.g. MoS2:5x5:V@1,W@0)`);
  const [, hostText, nText, n2Text, editsText] = m;
  const host = HOSTS.find((h) => h.toLowerCase() === hostText.toLowerCase());
  if (!host) throw new SpecError(`unknown host '${hostText}': one of ${HOSTS.join(', ')}`);
  const n = Number(nText);
  if (Number(n2Text) !== n) throw new SpecError('the supercell must be square (NxN)');
  if (n < MIN_SIZE || n > MAX_SIZE) throw new SpecError(`supercell size must be ${MIN_SIZE}..${MAX_SIZE}`);
  const editor = new DefectEditor({ host: host as HostName, size: n, edits: [] });
  const sites = editor.pristine().numSites;
  for (const part of editsText.split(',').filter((p) => p.trim())) {
    const e = /^\s*([A-Za-z]+)@(\d+)\s*$/.exec(part);
    if (!e) throw new SpecError(`'${part}' is not EL@SITE or V@SITE`);
    const site = Number(e[2]);
    if (site >= sites) throw new SpecError(`site ${site} is not in the ${sites}-site ${host} ${n}x${n} supercell`);
    const symbol = e[1] === 'V' ? null : e[1];
    if (symbol !== null && !isElementSymbol(symbol)) throw new SpecError(`'${symbol}' is not an element symbol`);
    editor.setSite(site, symbol);
  }
  if (editor.state.edits.length === 0 && !opts.allowEmpty) throw new SpecError('no defects: give at least one edit that changes a site');
  return editor;
}

export function formatDefectSpec(editor: DefectEditor): string {
  const { host, size, edits } = editor.state;
  return `${host}:${size}x${size}:${edits.map(([s, z]) => `${z === 0 ? 'V' : symbolOf(z)}@${s}`).join(',')}`;
}

const symbolOf = (z: number) => elementByZ(z)!.symbol;
