/**
 * Questions and answers between a cluster's primary and one of its workers, over the IPC channel Node's
 * cluster module opens between them (`worker.send` in the primary, `process.send` in the worker).
 */

/** What either end of the channel is: a `cluster.Worker` in the primary, `process` in a worker. */
export interface ChannelEnd {
  /**
   * Sends a message. A channel that has closed reports it to `callback`; without one it would emit an
   * 'error' event, which nothing listens to, and the process would crash.
   */
  send(message: unknown, callback: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

interface Question {
  readonly onset: 'ask';
  readonly id: number;
  readonly topic: string;
  readonly body: unknown;
}

interface Answer {
  readonly onset: 'answer';
  readonly id: number;
  readonly ok: boolean;
  readonly body: unknown;
}

type Reply = (body: unknown) => unknown;

/**
 * Asks questions by topic and answers the other end's, each answer matched to its question by id. A
 * question not answered in time, or whose end goes away (`close`), fails rather than waits forever.
 */
export class ClusterChannel {
  #next = 0;
  readonly #waiting = new Map<
    number,
    { resolve(body: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >();
  readonly #handlers = new Map<string, Reply>();

  constructor(private readonly end: ChannelEnd) {
    end.on('message', (message) => this.#receive(message));
  }

  /** Answers the other end's questions about `topic` with what `reply` returns (or its error's message). */
  answer<Body, Result>(topic: string, reply: (body: Body) => Result | Promise<Result>): void {
    this.#handlers.set(topic, reply as Reply);
  }

  /** Asks the other end about `topic`; rejects if it answers with an error, goes away or takes `timeoutMs`. */
  ask<Result>(topic: string, body: unknown, timeoutMs: number): Promise<Result> {
    const id = this.#next++;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no answer about ${topic} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, { resolve: resolve as (body: unknown) => void, reject, timer });
      const failed = (error: unknown) =>
        this.#settle(id, false, error instanceof Error ? error.message : String(error));
      try {
        this.end.send({ onset: 'ask', id, topic, body } satisfies Question, (error) => {
          if (error) failed(error);
        });
      } catch (error) {
        failed(error);
      }
    });
  }

  /** Fails every question still waiting (the other end has gone). */
  close(reason: string): void {
    for (const id of [...this.#waiting.keys()]) this.#settle(id, false, reason);
  }

  #receive(message: unknown): void {
    const m = message as {
      onset?: unknown;
      id?: unknown;
      topic?: unknown;
      ok?: unknown;
      body?: unknown;
    } | null;
    if (m?.onset === 'answer' && typeof m.id === 'number') {
      this.#settle(m.id, m.ok === true, m.body);
    } else if (m?.onset === 'ask' && typeof m.id === 'number' && typeof m.topic === 'string') {
      const { id, topic } = m;
      const handler = this.#handlers.get(topic);
      const send = (ok: boolean, body: unknown) => {
        // The other end may have gone (then nobody waits for this answer): a failure is let be.
        try {
          this.end.send({ onset: 'answer', id, ok, body } satisfies Answer, () => undefined);
        } catch {}
      };
      if (!handler) {
        send(false, `nothing answers ${topic}`);
        return;
      }
      Promise.resolve()
        .then(() => handler(m.body))
        .then(
          (result) => send(true, result),
          (error: unknown) => send(false, error instanceof Error ? error.message : String(error)),
        );
    }
  }

  #settle(id: number, ok: boolean, body: unknown): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    if (ok) waiting.resolve(body);
    else waiting.reject(new Error(String(body)));
  }
}
