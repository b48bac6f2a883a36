import { isOnsetError, type OnsetError } from '../../src/errors.js';

/** The `OnsetError` that `action` throws (any other error is rethrown; nothing thrown fails the test). */
export function errorOf(action: () => unknown): OnsetError {
  try {
    action();
  } catch (error) {
    if (isOnsetError(error)) return error;
    throw error;
  }
  throw new Error('expected an OnsetError, but nothing was thrown');
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
