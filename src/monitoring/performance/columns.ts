import { invalidParameter } from '../../errors.js';

/**
 * Checks that `columns` all have the length of the first and that each holds what it must: probabilities
 * finite in [0, 1], classes exactly 0 or 1, times finite. The error names the column and the first bad
 * index (0-based).
 */
export function validateColumns(
  where: string,
  columns: Readonly<Record<string, { readonly values: Float64Array; readonly kind: ColumnKind }>>,
): number {
  let length: number | undefined;
  let first = '';
  for (const [name, { values, kind }] of Object.entries(columns)) {
    if (length === undefined) {
      length = values.length;
      first = name;
    } else if (values.length !== length) {
      throw invalidParameter(
        `${where}: ${name} has ${values.length} values but ${first} has ${length}; they must have the same length`,
      );
    }
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (!accepts(kind, value)) {
        throw invalidParameter(`${where}: ${name}[${i}] is ${value}; ${ALLOWED[kind]}`, {
          column: name,
          index: i,
          value,
        });
      }
    }
  }
  return length ?? 0;
}

export type ColumnKind = 'probability' | 'class' | 'time';

const ALLOWED: Record<ColumnKind, string> = {
  probability: 'probabilities must be finite numbers in [0, 1]',
  class: 'classes must be 0 or 1',
  time: 'times must be finite numbers (milliseconds since the Unix epoch)',
};

function accepts(kind: ColumnKind, value: number): boolean {
  switch (kind) {
    case 'probability':
      return value >= 0 && value <= 1;
    case 'class':
      return value === 0 || value === 1;
    case 'time':
      return Number.isFinite(value);
  }
}

/** The values of `column` at `indices`, in that order. */
export function gather(column: Float64Array, indices: readonly number[]): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = column[indices[i]!]!;
  return out;
}
