import { expect } from 'vitest';
import { isOnsetError, type OnsetError } from '../../src/errors.js';

/**
 * The `OnsetError` that `action` throws (any other error is rethrown; nothing thrown fails the test, naming
 * `what` was tried when given).
 */
export function errorOf(action: () => unknown, what?: string): OnsetError {
  try {
    action();
  } catch (error) {
    if (isOnsetError(error)) return error;
    throw error;
  }
  throw new Error(`expected an OnsetError${what ? ` from ${what}` : ''}, but nothing was thrown`);
}

/** `errorOf` for an action that returns a promise. */
export async function asyncErrorOf(action: () => Promise<unknown>): Promise<OnsetError> {
  try {
    await action();
  } catch (error) {
    if (isOnsetError(error)) return error;
    throw error;
  }
  throw new Error('expected an OnsetError, but nothing was thrown');
}

/** The error `action` throws, which must be an `OnsetError` refusing its input (INVALID_PARAMETER_VALUE). */
export function refusalOf(action: () => unknown, what?: string): OnsetError {
  const error = errorOf(action, what);
  expect(error.code, error.message).toBe('INVALID_PARAMETER_VALUE');
  return error;
}

/**
 * Expects `action` to refuse its input (INVALID_PARAMETER_VALUE) with a message matching (a RegExp) or
 * containing (a string) `pattern`.
 */
export function expectRefusal(action: () => unknown, pattern: RegExp | string, what?: string): void {
  const { message } = refusalOf(action, what);
  if (typeof pattern === 'string') expect(message).toContain(pattern);
  else expect(message).toMatch(pattern);
}
