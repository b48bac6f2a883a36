/**
 * The prediction log's socket: how a cluster's worker processes hand their batches to the one writing
 * thread of the primary (`log-worker.ts`) directly. Over the cluster's IPC channel every batch went
 * through the primary's main thread (deserialized there, then posted to the thread), which grew that
 * thread's young generation by tens of MB under load for data it only passed on.
 *
 * A frame is 4 bytes of length (big-endian) and then `v8.serialize`'s bytes (the structured clone the
 * IPC channel used, typed arrays included).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { type PackedBatch, packBatch } from './log-worker-protocol.js';
import type { PredictionBatch, PredictionBatchSink } from './prediction-batch.js';

/** Larger than any batch (a batch of 10,000 predictions is about 4 MB): more is not ours, so the connection ends. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** From a worker process to the writing thread. */
interface BatchFrame {
  readonly seq: number;
  readonly batch: PackedBatch;
}

/** From the writing thread back: the batch `seq` written, or refused and why. */
interface ReplyFrame {
  readonly seq: number;
  readonly refused?: string;
}

function writeFrame(socket: net.Socket, value: unknown): void {
  const body = serialize(value);
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(body.length, 0);
  socket.cork();
  socket.write(length);
  socket.write(body);
  socket.uncork();
}

/**
 * Cuts a stream of bytes into frames (a frame can arrive in many chunks, or many in one). The chunks of
 * an unfinished frame are kept as they came and joined once, when the last arrives: joining them as each
 * came copied a 200 KB batch about four times over, in buffers the writing thread's heap frees late.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** The values of the frames `chunk` completes; throws on a frame longer than any batch. */
  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const values: unknown[] = [];
    while (this.#buffered >= 4) {
      let data = this.#chunks[0]!;
      if (data.length < 4) data = this.#join();
      const length = data.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new Error(`a frame of ${length} bytes is not a batch`);
      if (this.#buffered < 4 + length) break;
      if (data.length < 4 + length) data = this.#join();
      values.push(deserialize(data.subarray(4, 4 + length)));
      const rest = data.subarray(4 + length);
      this.#chunks[0] = rest;
      this.#buffered -= 4 + length;
      if (rest.length === 0) this.#chunks.shift();
    }
    return values;
  }

  /** The chunks kept, as one buffer (the only one kept from then on). */
  #join(): Buffer {
    const joined = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [joined];
    return joined;
  }
}

/**
 * A new path for a socket, in a folder only this user can enter (`mkdtemp` makes it 0700, so no other
 * user of the machine can write to the log through it); `remove` deletes the folder. On Windows, a named
 * pipe.
 */
export async function privateSocketPath(): Promise<{ path: string; remove(): Promise<void> }> {
  if (process.platform === 'win32') {
    return { path: `\\\\.\\pipe\\onset-log-${randomUUID()}`, remove: async () => undefined };
  }
  const folder = await mkdtemp(join(tmpdir(), 'onset-log-'));
  return {
    path: join(folder, 'log.sock'),
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}

/**
 * Listens for batches at `path` (from `privateSocketPath`; a socket left there by a thread that died is
 * replaced) and writes each with `write`, answering once it is written or refused. A connection that
 * sends what is not a frame is ended. Resolves with what stops listening and ends every connection.
 */
export async function listenForBatches(
  path: string,
  write: (batch: PackedBatch) => Promise<void>,
): Promise<{ close(): Promise<void> }> {
  if (process.platform !== 'win32') await rm(path, { force: true });
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    const reader = new FrameReader();
    socket.on('data', (chunk) => {
      let frames: unknown[];
      try {
        frames = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        const { seq, batch } = frame as BatchFrame;
        write(batch).then(
          () => !socket.destroyed && writeFrame(socket, { seq } satisfies ReplyFrame),
          (error: unknown) =>
            !socket.destroyed &&
            writeFrame(socket, {
              seq,
              refused: error instanceof Error ? error.message : String(error),
            } satisfies ReplyFrame),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await closed;
    },
  };
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A sink that hands each batch to a writing thread's socket (`listenForBatches`) and resolves once it
 * answers that the batch is written. A connection that breaks fails the writes in flight, and the next
 * write connects again.
 */
export class SocketSink implements PredictionBatchSink {
  #socket: Promise<net.Socket> | undefined;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;

  /** `timeoutMs`: how long a batch may take to be written before its write fails. */
  constructor(
    readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  #connect(): Promise<net.Socket> {
    this.#socket ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(this.path);
      const reader = new FrameReader();
      const lost = (why: string) => {
        this.#socket = undefined;
        const error = new Error(`the prediction log's writing thread ${why}`);
        reject(error);
        for (const [seq, pending] of this.#pending) this.#settle(seq, pending, error);
      };
      socket.once('connect', () => resolve(socket));
      socket.on('error', (error) => lost(`cannot be reached: ${error.message}`));
      socket.on('close', () => lost('closed the connection'));
      socket.on('data', (chunk) => {
        let replies: unknown[];
        try {
          replies = reader.push(chunk);
        } catch (error) {
          socket.destroy(error as Error);
          return;
        }
        for (const reply of replies as ReplyFrame[]) {
          const pending = this.#pending.get(reply.seq);
          if (pending) {
            this.#settle(
              reply.seq,
              pending,
              reply.refused === undefined ? undefined : new Error(reply.refused),
            );
          }
        }
      });
    });
    // A connection that could not be made is not kept: the next write tries again.
    this.#socket.catch(() => undefined);
    return this.#socket;
  }

  #settle(seq: number, pending: Pending, error: Error | undefined): void {
    this.#pending.delete(seq);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve();
  }

  async write(batch: PredictionBatch): Promise<void> {
    const socket = await this.#connect();
    // Broken since it was made (the next write connects again).
    if (socket.destroyed) throw new Error("the prediction log's writing thread closed the connection");
    const seq = ++this.#seq;
    const written = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = this.#pending.get(seq);
        if (pending) {
          this.#settle(seq, pending, new Error(`a batch was not written within ${this.timeoutMs} ms`));
        }
      }, this.timeoutMs);
      this.#pending.set(seq, { resolve, reject, timer });
    });
    writeFrame(socket, { seq, batch: packBatch(batch).packed } satisfies BatchFrame);
    return written;
  }

  /** Ends the connection (the writer calls it once every batch it wrote has been answered). */
  async close(): Promise<void> {
    const connecting = this.#socket;
    if (connecting === undefined) return;
    const socket = await connecting.catch(() => undefined);
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }
}
