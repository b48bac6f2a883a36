import { describe, expect, it } from 'vitest';
import { pythonJsonDumps } from './python-json.js';

describe('pythonJsonDumps', () => {
  it("writes what Python's json.dumps writes", () => {
    // python3 -c 'import json; print(json.dumps([{"a": 1, "b": [True, None, "é\n"]}, 0.5, "x"]))'
    expect(pythonJsonDumps([{ a: 1, b: [true, null, 'é\n'] }, 0.5, 'x'])).toBe(
      '[{"a": 1, "b": [true, null, "\\u00e9\\n"]}, 0.5, "x"]',
    );
    expect(pythonJsonDumps({})).toBe('{}');
    expect(pythonJsonDumps([])).toBe('[]');
    expect(pythonJsonDumps('\u007f')).toBe('"\\u007f"');
  });
});
