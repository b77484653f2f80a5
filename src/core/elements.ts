/**
 * Element table for Z = 1..103 (H to Lr). DOM-free; runs in Node and the browser.
 *
 * Sources, one per column:
 *
 * - mass (u): IUPAC/CIAAW standard atomic weights 2021 (T. Prohaska et al.,
 *   "Standard atomic weights of the elements 2021", Pure Appl. Chem. 94, 573
 *   (2022)), uncertainties dropped. Where the standard weight is an interval
 *   (H, Li, B, C, N, O, Mg, Si, S, Cl, Ar, Br, Tl, Pb) the conventional value
 *   is used (H 1.008, C 12.011, O 15.999, Si 28.085, Ar 39.95, Pb 207.2 ...).
 *   Elements without a standard atomic weight carry the mass number of their
 *   longest-lived isotope, as in the bracketed values of the IUPAC table
 *   (Tc 98, Pm 145, Po 209, At 210, Rn 222, Fr 223, Ra 226, Ac 227, Np 237,
 *   Pu 244, Am 243, Cm 247, Bk 247, Cf 251, Es 252, Fm 257, Md 258, No 259,
 *   Lr 266). (CIAAW revised Gd to 157.249, Lu to 174.96669 and Zr to 91.222
 *   in 2024; the 2021 values are kept here, the difference is < 0.002 u.)
 *
 * - covalentRadius (Å): single-bond covalent radii of B. Cordero et al.,
 *   "Covalent radii revisited", Dalton Trans. 2008, 2832-2838, for Z 1-96.
 *   C is the sp3 value (0.76; sp2 0.73, sp 0.69). Mn, Fe and Co take the
 *   paper's low-spin values (Mn 1.39, Fe 1.32, Co 1.26; high spin would be
 *   1.61, 1.52, 1.50), the same choice ASE makes. Z 97-103 (Bk-Lr), which
 *   Cordero does not cover, take the single-bond radii of P. Pyykkö and
 *   M. Atsumi, Chem. Eur. J. 15, 186 (2009).
 *
 * - electronegativity: Pauling scale as tabulated by the CRC Handbook /
 *   WebElements, i.e. the "X" values of pymatgen's periodic_table.json
 *   (e.g. F 3.98, S 2.58, Mo 2.16, Na 0.93, Pb 2.33, Kr 3.00, Xe 2.60,
 *   Rn 2.2). null where none is tabulated: He, Ne, Ar.
 *
 * - color: the Jmol CPK colour table (jmol.sourceforge.net/jscolors), which
 *   is the one 3Dmol.js and ASE use.
 *
 * Names follow IUPAC spelling (Aluminium, Caesium, Sulfur).
 */

export interface Element {
  Z: number;
  symbol: string;
  name: string;
  /** Standard (or conventional) atomic weight, u; mass number of the longest-lived isotope where there is none. */
  mass: number;
  /** Single-bond covalent radius, Å. */
  covalentRadius: number;
  /** Pauling electronegativity; null where none is tabulated (He, Ne, Ar). */
  electronegativity: number | null;
  /** '#rrggbb', Jmol colour scheme. */
  color: string;
}

type Row = readonly [symbol: string, name: string, mass: number, covalentRadius: number, electronegativity: number | null, color: string];

// One row per element, in order of Z (row i is Z = i + 1).
const ROWS: readonly Row[] = [
  ['H', 'Hydrogen', 1.008, 0.31, 2.2, '#ffffff'],
  ['He', 'Helium', 4.002602, 0.28, null, '#d9ffff'],
  ['Li', 'Lithium', 6.94, 1.28, 0.98, '#cc80ff'],
  ['Be', 'Beryllium', 9.0121831, 0.96, 1.57, '#c2ff00'],
  ['B', 'Boron', 10.81, 0.84, 2.04, '#ffb5b5'],
  ['C', 'Carbon', 12.011, 0.76, 2.55, '#909090'],
  ['N', 'Nitrogen', 14.007, 0.71, 3.04, '#3050f8'],
  ['O', 'Oxygen', 15.999, 0.66, 3.44, '#ff0d0d'],
  ['F', 'Fluorine', 18.998403162, 0.57, 3.98, '#90e050'],
  ['Ne', 'Neon', 20.1797, 0.58, null, '#b3e3f5'],
  ['Na', 'Sodium', 22.98976928, 1.66, 0.93, '#ab5cf2'],
  ['Mg', 'Magnesium', 24.305, 1.41, 1.31, '#8aff00'],
  ['Al', 'Aluminium', 26.9815384, 1.21, 1.61, '#bfa6a6'],
  ['Si', 'Silicon', 28.085, 1.11, 1.9, '#f0c8a0'],
  ['P', 'Phosphorus', 30.973761998, 1.07, 2.19, '#ff8000'],
  ['S', 'Sulfur', 32.06, 1.05, 2.58, '#ffff30'],
  ['Cl', 'Chlorine', 35.45, 1.02, 3.16, '#1ff01f'],
  ['Ar', 'Argon', 39.95, 1.06, null, '#80d1e3'],
  ['K', 'Potassium', 39.0983, 2.03, 0.82, '#8f40d4'],
  ['Ca', 'Calcium', 40.078, 1.76, 1.0, '#3dff00'],
  ['Sc', 'Scandium', 44.955907, 1.7, 1.36, '#e6e6e6'],
  ['Ti', 'Titanium', 47.867, 1.6, 1.54, '#bfc2c7'],
  ['V', 'Vanadium', 50.9415, 1.53, 1.63, '#a6a6ab'],
  ['Cr', 'Chromium', 51.9961, 1.39, 1.66, '#8a99c7'],
  ['Mn', 'Manganese', 54.938043, 1.39, 1.55, '#9c7ac7'],
  ['Fe', 'Iron', 55.845, 1.32, 1.83, '#e06633'],
  ['Co', 'Cobalt', 58.933194, 1.26, 1.88, '#f090a0'],
  ['Ni', 'Nickel', 58.6934, 1.24, 1.91, '#50d050'],
  ['Cu', 'Copper', 63.546, 1.32, 1.9, '#c88033'],
  ['Zn', 'Zinc', 65.38, 1.22, 1.65, '#7d80b0'],
  ['Ga', 'Gallium', 69.723, 1.22, 1.81, '#c28f8f'],
  ['Ge', 'Germanium', 72.63, 1.2, 2.01, '#668f8f'],
  ['As', 'Arsenic', 74.921595, 1.19, 2.18, '#bd80e3'],
  ['Se', 'Selenium', 78.971, 1.2, 2.55, '#ffa100'],
  ['Br', 'Bromine', 79.904, 1.2, 2.96, '#a62929'],
  ['Kr', 'Krypton', 83.798, 1.16, 3.0, '#5cb8d1'],
  ['Rb', 'Rubidium', 85.4678, 2.2, 0.82, '#702eb0'],
  ['Sr', 'Strontium', 87.62, 1.95, 0.95, '#00ff00'],
  ['Y', 'Yttrium', 88.905838, 1.9, 1.22, '#94ffff'],
  ['Zr', 'Zirconium', 91.224, 1.75, 1.33, '#94e0e0'],
  ['Nb', 'Niobium', 92.90637, 1.64, 1.6, '#73c2c9'],
  ['Mo', 'Molybdenum', 95.95, 1.54, 2.16, '#54b5b5'],
  ['Tc', 'Technetium', 98, 1.47, 1.9, '#3b9e9e'],
  ['Ru', 'Ruthenium', 101.07, 1.46, 2.2, '#248f8f'],
  ['Rh', 'Rhodium', 102.90549, 1.42, 2.28, '#0a7d8c'],
  ['Pd', 'Palladium', 106.42, 1.39, 2.2, '#006985'],
  ['Ag', 'Silver', 107.8682, 1.45, 1.93, '#c0c0c0'],
  ['Cd', 'Cadmium', 112.414, 1.44, 1.69, '#ffd98f'],
  ['In', 'Indium', 114.818, 1.42, 1.78, '#a67573'],
  ['Sn', 'Tin', 118.71, 1.39, 1.96, '#668080'],
  ['Sb', 'Antimony', 121.76, 1.39, 2.05, '#9e63b5'],
  ['Te', 'Tellurium', 127.6, 1.38, 2.1, '#d47a00'],
  ['I', 'Iodine', 126.90447, 1.39, 2.66, '#940094'],
  ['Xe', 'Xenon', 131.293, 1.4, 2.6, '#429eb0'],
  ['Cs', 'Caesium', 132.90545196, 2.44, 0.79, '#57178f'],
  ['Ba', 'Barium', 137.327, 2.15, 0.89, '#00c900'],
  ['La', 'Lanthanum', 138.90547, 2.07, 1.1, '#70d4ff'],
  ['Ce', 'Cerium', 140.116, 2.04, 1.12, '#ffffc7'],
  ['Pr', 'Praseodymium', 140.90766, 2.03, 1.13, '#d9ffc7'],
  ['Nd', 'Neodymium', 144.242, 2.01, 1.14, '#c7ffc7'],
  ['Pm', 'Promethium', 145, 1.99, 1.13, '#a3ffc7'],
  ['Sm', 'Samarium', 150.36, 1.98, 1.17, '#8fffc7'],
  ['Eu', 'Europium', 151.964, 1.98, 1.2, '#61ffc7'],
  ['Gd', 'Gadolinium', 157.25, 1.96, 1.2, '#45ffc7'],
  ['Tb', 'Terbium', 158.925354, 1.94, 1.1, '#30ffc7'],
  ['Dy', 'Dysprosium', 162.5, 1.92, 1.22, '#1fffc7'],
  ['Ho', 'Holmium', 164.930329, 1.92, 1.23, '#00ff9c'],
  ['Er', 'Erbium', 167.259, 1.89, 1.24, '#00e675'],
  ['Tm', 'Thulium', 168.934219, 1.9, 1.25, '#00d452'],
  ['Yb', 'Ytterbium', 173.045, 1.87, 1.1, '#00bf38'],
  ['Lu', 'Lutetium', 174.9668, 1.87, 1.27, '#00ab24'],
  ['Hf', 'Hafnium', 178.486, 1.75, 1.3, '#4dc2ff'],
  ['Ta', 'Tantalum', 180.94788, 1.7, 1.5, '#4da6ff'],
  ['W', 'Tungsten', 183.84, 1.62, 2.36, '#2194d6'],
  ['Re', 'Rhenium', 186.207, 1.51, 1.9, '#267dab'],
  ['Os', 'Osmium', 190.23, 1.44, 2.2, '#266696'],
  ['Ir', 'Iridium', 192.217, 1.41, 2.2, '#175487'],
  ['Pt', 'Platinum', 195.084, 1.36, 2.28, '#d0d0e0'],
  ['Au', 'Gold', 196.96657, 1.36, 2.54, '#ffd123'],
  ['Hg', 'Mercury', 200.592, 1.32, 2.0, '#b8b8d0'],
  ['Tl', 'Thallium', 204.38, 1.45, 1.62, '#a6544d'],
  ['Pb', 'Lead', 207.2, 1.46, 2.33, '#575961'],
  ['Bi', 'Bismuth', 208.9804, 1.48, 2.02, '#9e4fb5'],
  ['Po', 'Polonium', 209, 1.4, 2.0, '#ab5c00'],
  ['At', 'Astatine', 210, 1.5, 2.2, '#754f45'],
  ['Rn', 'Radon', 222, 1.5, 2.2, '#428296'],
  ['Fr', 'Francium', 223, 2.6, 0.7, '#420066'],
  ['Ra', 'Radium', 226, 2.21, 0.9, '#007d00'],
  ['Ac', 'Actinium', 227, 2.15, 1.1, '#70abfa'],
  ['Th', 'Thorium', 232.0377, 2.06, 1.3, '#00baff'],
  ['Pa', 'Protactinium', 231.03588, 2.0, 1.5, '#00a1ff'],
  ['U', 'Uranium', 238.02891, 1.96, 1.38, '#008fff'],
  ['Np', 'Neptunium', 237, 1.9, 1.36, '#0080ff'],
  ['Pu', 'Plutonium', 244, 1.87, 1.28, '#006bff'],
  ['Am', 'Americium', 243, 1.8, 1.3, '#545cf2'],
  ['Cm', 'Curium', 247, 1.69, 1.3, '#785ce3'],
  // From here on: radii of Pyykkö & Atsumi (2009), not Cordero.
  ['Bk', 'Berkelium', 247, 1.68, 1.3, '#8a4fe3'],
  ['Cf', 'Californium', 251, 1.68, 1.3, '#a136d4'],
  ['Es', 'Einsteinium', 252, 1.65, 1.3, '#b31fd4'],
  ['Fm', 'Fermium', 257, 1.67, 1.3, '#b31fba'],
  ['Md', 'Mendelevium', 258, 1.73, 1.3, '#b30da6'],
  ['No', 'Nobelium', 259, 1.76, 1.3, '#bd0d87'],
  ['Lr', 'Lawrencium', 266, 1.61, 1.3, '#c70066'],
];

/** All elements, index Z - 1. */
export const ELEMENTS: readonly Element[] = Object.freeze(
  ROWS.map(([symbol, name, mass, covalentRadius, electronegativity, color], i) =>
    Object.freeze<Element>({ Z: i + 1, symbol, name, mass, covalentRadius, electronegativity, color }),
  ),
);

const BY_SYMBOL: ReadonlyMap<string, Element> = new Map(ELEMENTS.map((e) => [e.symbol, e]));

/** The element with exactly this symbol ('Mo', not 'MO'), or undefined. */
export function elementBySymbol(symbol: string): Element | undefined {
  return BY_SYMBOL.get(symbol);
}

/** The element with atomic number Z (1..103), or undefined. */
export function elementByZ(Z: number): Element | undefined {
  return Number.isInteger(Z) && Z >= 1 && Z <= ELEMENTS.length ? ELEMENTS[Z - 1] : undefined;
}

/** Whether symbol is exactly an element symbol (case-sensitive: 'Fe' yes, 'FE' no). */
export function isElementSymbol(symbol: string): boolean {
  return BY_SYMBOL.has(symbol);
}

/** 'MO'/'mo' -> 'Mo'; returns undefined if not an element. */
export function normalizeSymbol(symbol: string): string | undefined {
  const s = symbol.trim();
  if (s.length < 1 || s.length > 2) return undefined;
  const norm = s[0].toUpperCase() + s.slice(1).toLowerCase();
  return BY_SYMBOL.has(norm) ? norm : undefined;
}

// Whole labels that name a group of atoms, not one element (pymatgen's CIF
// reader treats 'OH' and 'OH2' the same way), and the water pseudo-atom 'Wat'.
const GROUP_LABELS: ReadonlyMap<string, string | undefined> = new Map([
  ['OH', undefined],
  ['OH2', undefined],
  ['H2O', undefined],
  ['Wat', 'O'],
  ['WAT', 'O'],
]);

/**
 * Extract the element from a label or species-with-charge as found in
 * CIF/POSCAR/XYZ files: 'Fe2+' -> 'Fe', 'O1' -> 'O', 'Mo_pv' -> 'Mo',
 * 'S1a' -> 'S', 'Ca' -> 'Ca', 'C12' -> 'C', 'Cl-' -> 'Cl', 'O2-' -> 'O',
 * 'CL1' -> 'Cl', 'Os1' -> 'Os', 'Ow' -> 'O'. Returns undefined if no element
 * can be read ('', 'X1', 'D', and the group labels 'OH', 'OH2', 'H2O').
 *
 * Rules, in order: the leading run of letters, if it is itself a symbol in
 * any case ('Fe', 'FE', 'fe'); otherwise, if the run starts with a capital,
 * its first two letters if they make a symbol (so 'Sia' -> 'Si', and, as in
 * pymatgen, 'HO1' -> 'Ho'), else its first letter ('Ow' -> 'O', 'OH1' -> 'O').
 * A run that starts lower-case and is not a symbol ('bulk', 'relaxed') is
 * taken for a word, not a label.
 */
export function elementFromLabel(label: string): string | undefined {
  const s = label.trim();
  const group = /^([A-Za-z0-9]+)[+-]?$/.exec(s);
  if (group && GROUP_LABELS.has(group[1])) return GROUP_LABELS.get(group[1]);
  const run = /^[A-Za-z]+/.exec(s)?.[0];
  if (run === undefined) return undefined;
  const whole = normalizeSymbol(run);
  if (whole !== undefined) return whole;
  if (run[0] !== run[0].toUpperCase()) return undefined;
  return normalizeSymbol(run.slice(0, 2)) ?? normalizeSymbol(run[0]);
}
