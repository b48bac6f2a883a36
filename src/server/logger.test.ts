import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, serverLoggerOptions } from './logger.js';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

describe('the server log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless ONSET_LOG_FORMAT says which', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });

  it('writes one JSON object a line in json', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const app = Fastify({ logger: serverLoggerOptions('json', out) });
    app.log.info({ name: 'm', version: '2' }, 'model loaded');
    await app.close();
    const lines = text().trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'model loaded', name: 'm', version: '2' }),
    );
  });

  it('writes one readable line an event in pretty: time, level, message, then the fields', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const app = Fastify({ logger: serverLoggerOptions('pretty', out) });
    app.log.info({ model: 'm', version: '2' }, 'model loaded');
    app.log.warn('a new model version could not be loaded');
    await app.close();
    // Colours only on a terminal: this stream is none.
    const lines = text().trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: model loaded \{"model":"m","version":"2"\}$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] WARN: a new model version could not be loaded$/),
    );
    expect(text()).not.toMatch(/"level"|"pid"|"hostname"/);
  });
});
