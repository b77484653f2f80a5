import { expect } from 'vitest';
import { ParseError } from '../core/formats/errors';

/** Asserts that read() throws a ParseError naming this file and line, with a message matching `message`. */
export function expectParseError(read: () => unknown, file: string, message: RegExp, line: number | undefined): void {
  let caught: unknown;
  try {
    read();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ParseError);
  const err = caught as ParseError;
  expect(err.message).toMatch(message);
  expect(err.file).toBe(file);
  expect(err.line).toBe(line);
}
