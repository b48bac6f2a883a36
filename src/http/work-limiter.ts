import type { FastifyReply, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import { OnsetError } from '../errors.js';

export interface WorkLimiterOptions {
  /** Requests worked on at once (at least 1). */
  readonly concurrency: number;
  /** Requests let in beyond those (still sending their body, or waiting for a turn); more are refused. */
  readonly queue: number;
  /** What is limited, for the refusal's message (e.g. "batch and explanation requests"). */
  readonly what: string;
}

/**
 * Load shedding for costly routes. Their work runs on the one event loop every other route shares, so
 * bounding how many run at once bounds how long `/health` or a single `/predict` waits behind them.
 *
 * Two steps, as route hooks: `onRequest` lets at most `concurrency + queue` requests in and refuses the
 * rest before their body is read (503 TEMPORARILY_UNAVAILABLE with a `retry-after` in seconds, estimated
 * from how long a turn takes lately, and the connection closed), so a refusal costs almost nothing and
 * memory holds at most that many bodies. `preHandler` then gives a request one of the `concurrency` turns,
 * first come first served: a turn is taken only once the body is in, so a slow sender does not hold one.
 * A request keeps its place until its answer is sent or its connection closes.
 */
export class WorkLimiter {
  /** Requests let in: sending their body, waiting for a turn or working. */
  private admitted = 0;
  private working = 0;
  private readonly waiting: (() => void)[] = [];
  /** A moving average of how long a turn takes (ms). */
  private turnMs = 100;

  constructor(private readonly options: WorkLimiterOptions) {}

  readonly onRequest: onRequestHookHandler = (_request, reply, done) => {
    done(this.enter(reply));
  };

  readonly preHandler: preHandlerHookHandler = (_request, reply, done) => {
    void this.turn(reply).then(() => done());
  };

  /** Both steps at once, for a handler that learns only from its parsed request that its work is costly. */
  async admit(reply: FastifyReply): Promise<void> {
    const refused = this.enter(reply);
    if (refused) throw refused;
    await this.turn(reply);
  }

  /** Lets a request in, or says why not (the error to answer with). */
  private enter(reply: FastifyReply): OnsetError | undefined {
    const { concurrency, queue, what } = this.options;
    if (this.admitted >= concurrency + queue) {
      const seconds = Math.max(1, Math.ceil((this.admitted * this.turnMs) / concurrency / 1000));
      // Closing the connection after the answer spares reading the unread body only to discard it: with a
      // storm of 1 MB batches, that reading would cost the event loop more than the refusals themselves.
      reply.header('retry-after', String(seconds)).header('connection', 'close');
      return new OnsetError(
        'TEMPORARILY_UNAVAILABLE',
        `Too many ${what} at once (${this.working} running, ${this.admitted - this.working} waiting): retry after ${seconds} s`,
      );
    }
    this.admitted++;
    whenClosed(reply, () => {
      this.admitted--;
    });
    return undefined;
  }

  private turn(reply: FastifyReply): Promise<void> {
    if (this.working < this.options.concurrency && this.waiting.length === 0) {
      this.start(reply);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const go = () => {
        this.start(reply);
        resolve();
      };
      this.waiting.push(go);
      // A client that gives up while waiting leaves the queue.
      whenClosed(reply, () => {
        const at = this.waiting.indexOf(go);
        if (at >= 0) this.waiting.splice(at, 1);
      });
    });
  }

  private start(reply: FastifyReply): void {
    this.working++;
    const started = performance.now();
    whenClosed(reply, () => {
      this.turnMs += (performance.now() - started - this.turnMs) / 8;
      this.working--;
      // The next turn starts on a later turn of the event loop: started from here, the queued handlers
      // would run back to back with nothing else in between, /health included.
      setImmediate(() => this.next());
    });
  }

  private next(): void {
    while (this.working < this.options.concurrency && this.waiting.length > 0) this.waiting.shift()!();
  }
}

/**
 * Runs `then` once the answer is sent or the connection closes, at once if that has happened already (a
 * client can leave while its body is parsed; a place held until a 'close' that never comes would be lost).
 */
function whenClosed(reply: FastifyReply, then: () => void): void {
  if (reply.raw.closed) then();
  else reply.raw.once('close', then);
}
