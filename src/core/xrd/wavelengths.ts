/**
 * X-ray wavelengths (Å) for the simulated powder pattern.
 *
 * Cu Kα is the weighted mean of the Kα1 and Kα2 lines, (2 Kα1 + Kα2) / 3,
 * weighting by their roughly 2 : 1 intensity ratio, because a laboratory
 * diffractometer without a monochromator sees the unresolved doublet:
 * (2 x 1.540562 + 1.544390) / 3 = 1.54184 Å with Kα1 and Kα2 of G. Hölzer
 * et al., Phys. Rev. A 56, 4554 (1997), as tabulated in International Tables
 * for Crystallography Vol. C, Table 4.2.2.1. 1.54184 Å is exactly pymatgen's
 * `WAVELENGTHS["CuKa"]` (pymatgen/analysis/diffraction/xrd.py), which the
 * tests compare against.
 */
export const CU_KA = 1.54184;

/** The label shown beside a pattern computed with CU_KA. */
export const CU_KA_LABEL = 'Cu Kα, λ = 1.54184 Å';
