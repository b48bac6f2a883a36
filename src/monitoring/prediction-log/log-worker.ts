/**
 * The prediction log's writing thread: opens the log's database on its own connection and writes the
 * batches the server's writer sends, keying their patient ids on the way. The inserts (and the keys'
 * HMACs) run here, not on the thread that answers requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../store/database-uri.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { listenForBatches } from './log-socket.js';
import {
  type LogWorkerData,
  type LogWorkerReply,
  type LogWorkerRequest,
  type PackedBatch,
  unpackBatch,
} from './log-worker-protocol.js';
import { PatientKeys } from './patient-keys.js';
import { keyedColumns } from './prediction-batch.js';
import { openPredictionLogStore } from './sql/sql-prediction-log-store.js';

const port = parentPort!;
const post = (reply: LogWorkerReply) => port.postMessage(reply);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const { databaseUri, secret, socketPath } = workerData as LogWorkerData;
const keys = new PatientKeys(secret);
let database: SqlDatabase | undefined;
let socket: { close(): Promise<void> } | undefined;
try {
  database = openDatabase(databaseUri);
  const opened = database;
  // Migrated by the server already: this finds nothing to do.
  const store = await openPredictionLogStore(database);
  const write = (batch: PackedBatch) => store.appendPredictions(keyedColumns(unpackBatch(batch), keys));
  port.on('message', (request: LogWorkerRequest) => {
    if (request.type === 'close') {
      void (async () => {
        await socket?.close();
        await opened.close();
        post({ type: 'closed' });
      })();
      return;
    }
    write(request.batch).then(
      () => post({ type: 'written', seq: request.seq }),
      (error: unknown) => post({ type: 'refused', seq: request.seq, message: messageOf(error) }),
    );
  });
  if (socketPath !== undefined) socket = await listenForBatches(socketPath, write);
  post({ type: 'ready' });
} catch (error) {
  await socket?.close();
  await database?.close();
  post({ type: 'failed', message: messageOf(error) });
}
