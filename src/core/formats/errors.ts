/**
 * A file that could not be read. Always names the file, and the 1-based line
 * where the problem was found when there is one, so a user can fix it.
 */
export class ParseError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly problem: string;

  constructor(file: string, line: number | undefined, problem: string) {
    problem = clipQuotes(problem);
    super(`${file}${line !== undefined ? `, line ${line}` : ''}: ${problem}`);
    this.name = 'ParseError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** The most of the offending input an error message quotes: a line of 10,000 digits must not become a 10,000-character message. */
export const MAX_QUOTE = 80;

/** Shortens every quoted piece of input ('…') in a message to MAX_QUOTE characters, marking the cut with an ellipsis. */
export function clipQuotes(message: string): string {
  return message.replace(/'([^']*)'/g, (whole, inner: string) => (inner.length > MAX_QUOTE ? `'${inner.slice(0, MAX_QUOTE - 1)}…'` : whole));
}

/** Parses a finite float or throws a ParseError that names the field. */
export function parseNumber(text: string, file: string, line: number, what: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x)) throw new ParseError(file, line, `${what} is not a number: '${text}'`);
  return x;
}

/**
 * A structure that a format cannot hold faithfully (e.g. partial occupancy
 * in a POSCAR). Refused with a one-line reason rather than written wrong.
 */
export class WriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteError';
  }
}
