/** kinesalite ships no types: what the tests use of it. */
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    /** How long CreateStream, DeleteStream and UpdateShardCount take to settle (ms; default 500). */
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    /** Most shards of the account (default 10). */
    shardLimit?: number;
  }

  /** An in-memory Kinesis: an HTTP server that answers Kinesis's JSON API once listening. */
  export default function kinesalite(options?: KinesaliteOptions): Server;
}
