import type { Mat3, Vec3 } from '../math3';
import { det } from '../math3';

/**
 * A crystallographic symmetry operation in fractional coordinates:
 * x' = R · x + t, with R an integer matrix (|det R| = 1) and t a
 * translation. This is the "Jones faithful" form CIF files write as
 * strings such as '-y+1/2, x-y, z+0.25'.
 */
export interface SymOp {
  /** rotation[i][j]: coefficient of input coordinate j in output coordinate i. */
  readonly rotation: Mat3;
  readonly translation: Vec3;
  /** The string as written in the file, for messages. */
  readonly source: string;
  /** Magnetic operations only: the time-reversal sign, which flips magnetic moments. */
  readonly timeReversal?: 1 | -1;
}

const AXES = ['x', 'y', 'z'] as const;

/**
 * Parses one operation string. Accepts what real CIFs contain: optional
 * surrounding quotes, any case, whitespace anywhere, translations before or
 * after the variables, as fractions ('1/2') or decimals ('0.5'), and an
 * integer factors on variables ('2*x', '2x'; these are never valid in an
 * operation, but the determinant check rejects them with a clearer message
 * than the grammar could). Throws an Error that quotes the string on
 * anything else, because a silently wrong operation would generate a wrong
 * crystal.
 */
export function parseSymop(text: string): SymOp {
  const source = text.trim();
  const body = stripQuotes(source).replace(/\s+/g, '').toLowerCase();
  const parts = body.split(',');
  if (parts.length !== 3) {
    throw new Error(`symmetry operation '${source}' must have three comma-separated components, found ${parts.length}`);
  }
  const rows = parts.map((p, i) => parseComponent(p, source, AXES[i]));
  const rotation = rows.map((r) => r.coefficients) as Mat3;
  const translation = rows.map((r) => r.shift) as Vec3;
  // A symmetry operation must preserve volume; anything else ('x,x,z',
  // 'x+y,y,z+1'...) is a typo that would collapse or stretch the crystal.
  const d = det(rotation);
  if (d !== 1 && d !== -1) {
    throw new Error(`symmetry operation '${source}' is not a valid isometry (determinant ${d}, expected +1 or -1)`);
  }
  return { rotation, translation, source };
}

/** Applies the operation to fractional coordinates; the result is not wrapped. */
export function applySymop(op: SymOp, f: Vec3): Vec3 {
  const r = op.rotation;
  const t = op.translation;
  return [
    r[0][0] * f[0] + r[0][1] * f[1] + r[0][2] * f[2] + t[0],
    r[1][0] * f[0] + r[1][1] * f[1] + r[1][2] * f[2] + t[1],
    r[2][0] * f[0] + r[2][1] * f[1] + r[2][2] * f[2] + t[2],
  ];
}

/** True only for exactly x,y,z (a pure lattice translation such as 'x+1,y,z' is not identity). */
export function isIdentity(op: SymOp): boolean {
  return op.rotation.every((row, i) => row.every((v, j) => v === (i === j ? 1 : 0))) && op.translation.every((t) => t === 0);
}

function stripQuotes(s: string): string {
  if (s.length >= 2 && (s[0] === "'" || s[0] === '"') && s[s.length - 1] === s[0]) return s.slice(1, -1).trim();
  return s;
}

/**
 * One term of a component: optional sign, then a variable, a number (or
 * fraction), or an integer factor times a variable.
 */
const TERM = /^([+-]?)(?:(\d+(?:\.\d*)?|\.\d+)(?:\/(\d+(?:\.\d*)?))?(\*?)([xyz])?|([xyz]))/;

function parseComponent(part: string, source: string, axis: string): { coefficients: Vec3; shift: number } {
  if (part === '') throw new Error(`symmetry operation '${source}' has an empty ${axis} component`);
  const coefficients: Vec3 = [0, 0, 0];
  let shift = 0;
  let rest = part;
  let first = true;
  while (rest !== '') {
    const m = TERM.exec(rest);
    // Every term after the first needs an explicit sign, otherwise 'xy'
    // would be accepted as two glued terms.
    if (!m || m[0] === '' || (!first && m[1] === '')) {
      throw new Error(`symmetry operation '${source}': cannot read '${rest}' in the ${axis} component`);
    }
    const sign = m[1] === '-' ? -1 : 1;
    const variable = m[5] ?? m[6];
    if (m[2] !== undefined && variable === undefined) {
      if (m[4] === '*') throw new Error(`symmetry operation '${source}': '*' must be followed by x, y or z`);
      const den = m[3] === undefined ? 1 : Number(m[3]);
      if (den === 0) throw new Error(`symmetry operation '${source}': division by zero in the ${axis} component`);
      shift += (sign * Number(m[2])) / den;
    } else if (variable !== undefined) {
      let factor = 1;
      if (m[2] !== undefined) {
        // '2x' or '2*x': only whole factors make sense in a rotation matrix.
        if (m[3] !== undefined || !Number.isInteger(Number(m[2]))) {
          throw new Error(`symmetry operation '${source}': non-integer factor on ${variable} in the ${axis} component`);
        }
        factor = Number(m[2]);
      }
      coefficients[AXES.indexOf(variable as (typeof AXES)[number])] += sign * factor;
    }
    rest = rest.slice(m[0].length);
    first = false;
  }
  return { coefficients, shift };
}

/**
 * A magnetic symmetry operation as magCIF writes it, 'x,y,z,+1' or
 * '-x,-y,-z,-1': the spatial part, with the time-reversal sign (±1) that
 * acts on magnetic moments only and so is dropped for positions.
 */
export function parseMagneticSymop(text: string): { op: SymOp; timeReversal: 1 | -1 } {
  const body = stripQuotes(text.trim()).replace(/\s+/g, '');
  const parts = body.split(',');
  if (parts.length !== 4 || !/^[+-]?1$/.test(parts[3])) {
    throw new Error(`magnetic symmetry operation '${text.trim()}' must have three components and a time-reversal sign (+1 or -1)`);
  }
  const timeReversal = parts[3].startsWith('-') ? -1 : 1;
  return { op: { ...parseSymop(parts.slice(0, 3).join(',')), timeReversal }, timeReversal };
}

/** a ∘ b: apply b, then a (r ↦ R_a (R_b r + t_b) + t_a). */
export function composeSymops(a: SymOp, b: SymOp): SymOp {
  const R = a.rotation.map((row) => [0, 1, 2].map((j) => row[0] * b.rotation[0][j] + row[1] * b.rotation[1][j] + row[2] * b.rotation[2][j])) as Mat3;
  const t = a.rotation.map((row, i) => row[0] * b.translation[0] + row[1] * b.translation[1] + row[2] * b.translation[2] + a.translation[i]) as Vec3;
  const magnetic = a.timeReversal !== undefined || b.timeReversal !== undefined;
  return {
    rotation: R,
    translation: t,
    source: `${a.source} ∘ ${b.source}`,
    ...(magnetic ? { timeReversal: ((a.timeReversal ?? 1) * (b.timeReversal ?? 1)) as 1 | -1 } : {}),
  };
}

/**
 * A magnetic moment (an axial vector, components in Bohr magnetons along the
 * unit vectors of a, b, c, as magCIF's crystalaxis_x/y/z) carried by the
 * operation: m' = θ · det(R) · D R D⁻¹ m, with R acting on fractional
 * coordinates, D = diag(|a|, |b|, |c|) and θ the time-reversal sign. (An
 * axial vector does not change sign under inversion, hence det(R).)
 */
export function transformMoment(op: SymOp, m: Vec3, lengths: Vec3): Vec3 {
  const R = op.rotation;
  const det =
    R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  const sign = (op.timeReversal ?? 1) * Math.sign(det);
  // (+ 0 turns a -0 into 0, so a moment reads the same whichever operation made it.)
  return [0, 1, 2].map((i) => sign * lengths[i] * (R[i][0] * (m[0] / lengths[0]) + R[i][1] * (m[1] / lengths[1]) + R[i][2] * (m[2] / lengths[2])) + 0) as Vec3;
}
