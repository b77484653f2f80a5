/** Simulated powder X-ray diffraction (issue 30): see pattern.ts for the method. */
export { xrdPattern, MAX_SITE_REFLECTIONS, type XrdOptions, type XrdPattern, type XrdPeak, type XrdResult } from './pattern';
export { hklLabel, hklText, uniqueFamilies, usesMillerBravais, type HklFamily } from './families';
export { formFactorOf, scatteringFactor } from './form-factor';
export { peaksToLabel, type LabelOptions } from './labels';
export { MAX_REFLECTIONS } from './reflections';
export { CU_KA, CU_KA_LABEL } from './wavelengths';
