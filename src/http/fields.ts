import { type Static, type TSchema, Type } from 'typebox';

/** Field types more than one API uses. */

/** A required string: an empty one counts as missing (the 400 answer says so), as in MLflow. */
export const Required = Type.String({ minLength: 1 });

const SAFE_INTEGER = { minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

/** A safe integer (protobuf's int64, within what a JavaScript number holds exactly). */
export const SafeInteger = Type.Integer(SAFE_INTEGER);

/**
 * An int64 as protobuf's JSON mapping (and a query string) writes it: a number or a string of digits; an
 * empty string means absent.
 */
export const Int64 = Type.Union([SafeInteger, Type.String({ format: 'int64' }), Type.Literal('')], {
  description: 'an integer (a number, or a string of digits; empty means absent)',
});

/** An int64 field's value, if given. */
export function int64(value: Static<typeof Int64> | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

/** A value or null. */
export function Nullable<S extends TSchema>(schema: S) {
  return Type.Union([schema, Type.Null()]);
}

/** A timestamp in milliseconds since the Unix epoch. */
export const Millis = Type.Integer({ description: 'ms since the Unix epoch' });
