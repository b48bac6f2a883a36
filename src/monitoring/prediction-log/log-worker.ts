/**
 * The prediction log's writing thread: opens the log's database on its own connection and writes the
 * batches the server's writer sends, keying their patient ids on the way. The inserts (and the keys'
 * HMACs) run here, not on the thread that answers requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../store/database-uri.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import {
  type LogWorkerData,
  type LogWorkerReply,
  type LogWorkerRequest,
  unpackBatch,
} from './log-worker-protocol.js';
import { PatientKeys } from './patient-keys.js';
import { keyedColumns } from './prediction-batch.js';
import { openPredictionLogStore } from './sql/sql-prediction-log-store.js';

const port = parentPort!;
const post = (reply: LogWorkerReply) => port.postMessage(reply);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const { databaseUri, secret } = workerData as LogWorkerData;
const keys = new PatientKeys(secret);
let database: SqlDatabase | undefined;
try {
  database = openDatabase(databaseUri);
  const opened = database;
  // Migrated by the server already: this finds nothing to do.
  const store = await openPredictionLogStore(database);
  port.on('message', (request: LogWorkerRequest) => {
    if (request.type === 'close') {
      void opened.close().then(() => post({ type: 'closed' }));
      return;
    }
    store.appendPredictions(keyedColumns(unpackBatch(request.batch), keys)).then(
      () => post({ type: 'written', seq: request.seq }),
      (error: unknown) => post({ type: 'refused', seq: request.seq, message: messageOf(error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  await database?.close();
  post({ type: 'failed', message: messageOf(error) });
}
