import { elementBySymbol } from '../elements';
import PARAMS from './scattering-params.json';

/**
 * Atomic X-ray scattering factors f(s), s = sin θ / λ = 1 / (2d) in Å⁻¹.
 *
 * f(s) = Z − 41.78214 s² Σᵢ aᵢ exp(−bᵢ s²): the Mott–Bethe formula, which
 * turns a fit of the *electron* scattering factor (the four Gaussians
 * Σ aᵢ exp(−bᵢ s²), in Å) into the X-ray one (in electrons); the constant
 * 41.78214 Å is 8π²a₀, a₀ the Bohr radius (41.78216 Å with CODATA 2018's
 * a₀; pymatgen's digits are kept so that the numbers match). As in
 * M. De Graef & M. E. McHenry, *Structure of Materials* (Cambridge, 2007),
 * ch. 11–12, the formalism pymatgen's XRDCalculator follows.
 *
 * The coefficients in scattering-params.json are pymatgen's
 * `pymatgen/analysis/diffraction/atomic_scattering_params.json` (pymatgen
 * 2022.11.7, MIT licence, © Pymatgen Development Team), copied unchanged
 * ([aᵢ, bᵢ] pairs, bᵢ in Å²). They are the electron-scattering fits of
 * P. A. Doyle & P. S. Turner, Acta Cryst. A24, 390 (1968), rounded to three
 * decimals (Si: 2.129/57.775, 2.533/16.476, 0.835/2.880, 0.322/0.386).
 * Using the very same numbers is what lets our intensities match pymatgen's
 * to a fraction of a percent. They cover H to Cf (and D); heavier elements
 * have no entry and are refused by name.
 */
type Coefficients = readonly (readonly [number, number])[];

const TABLE = PARAMS as unknown as Record<string, Coefficients>;

/** 8π²a₀ (Å), the Mott–Bethe constant of the formula above, as pymatgen writes it. */
const MOTT_BETHE = 41.78214;

export interface FormFactor {
  symbol: string;
  Z: number;
  coefficients: Coefficients;
}

/** The scattering-factor parameters of an element, or undefined where there are none. */
export function formFactorOf(symbol: string): FormFactor | undefined {
  const coefficients = Object.hasOwn(TABLE, symbol) ? TABLE[symbol] : undefined;
  const Z = elementBySymbol(symbol)?.Z;
  return coefficients && Z !== undefined ? { symbol, Z, coefficients } : undefined;
}

/** f at s² = (sin θ / λ)², in electrons. */
export function scatteringFactor(ff: FormFactor, s2: number): number {
  let sum = 0;
  for (const [a, b] of ff.coefficients) sum += a * Math.exp(-b * s2);
  return ff.Z - MOTT_BETHE * s2 * sum;
}
