import type { Command } from 'commander';
import { resolveConfig } from '../config.js';
import { readDatasetFile } from '../data/csv-reader.js';
import type { Dataset } from '../data/dataset.js';
import { generateDataset } from '../data/generator/generator.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { OnsetError } from '../errors.js';
import {
  describeServedModel,
  factsFromModelAnswer,
  modelTag,
  type ServedModelFacts,
} from './model-summary.js';
import { integerArgument, positiveIntegerArgument } from './options.js';
import { formatDecimals, marks, printJson, renderTable } from './output.js';

interface SendOptions {
  url?: string;
  n: number;
  data?: string;
  seed: number;
  apiKey?: string;
  json?: boolean;
}

/** What `GET /model` says the server serves; undefined when it will not say (an older server, a refusal). */
async function servedModel(
  url: string,
  apiKey: string | undefined,
): Promise<{ answer: unknown; facts: ServedModelFacts } | undefined> {
  try {
    const response = await fetch(`${url}/model`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
    if (response.status !== 200) return undefined;
    const answer: unknown = await response.json();
    const facts = factsFromModelAnswer(answer);
    return facts ? { answer, facts } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `onset send`: sends sample records to a running server's `POST /predict`, one request each, and prints
 * every answer (the original project's `test_local.py`). Exit code 1 when any request failed.
 */
export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('send sample records to a running server (POST /predict) and print each answer')
    .option('-u, --url <url>', 'the server (default http://127.0.0.1:$ONSET_PORT, 9696)')
    .option('-n, --n <count>', 'how many records', positiveIntegerArgument, 10)
    .option(
      '-d, --data <file>',
      'send the first records of this CSV (Kaggle layout) instead of generated ones',
    )
    .option('--seed <seed>', 'seed of the generated records', integerArgument, 7)
    .option('--api-key <key>', 'the X-API-Key header (env ONSET_API_KEY)')
    .option('--json', 'print the answers as JSON')
    .action(async (options: SendOptions) => {
      const config = resolveConfig();
      const url = (options.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      const dataset: Dataset = options.data
        ? (await readDatasetFile(options.data)).dataset
        : generateDataset({ rows: options.n, seed: options.seed, firstPatientId: 800001 });
      const count = Math.min(options.n, dataset.rowCount);
      const apiKey = options.apiKey ?? config.apiKey;
      const answers: { patient_id: string; status: number; body: Record<string, unknown> }[] = [];
      for (let i = 0; i < count; i++) {
        const patientId = dataset.patientIds?.[i] ?? `row-${i + 1}`;
        const record = {
          patient_id: patientId,
          data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, dataset.columns[name][i]!])),
        };
        let response: Response;
        try {
          response = await fetch(`${url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
            body: JSON.stringify(record),
          });
        } catch (error) {
          throw new OnsetError(
            'TEMPORARILY_UNAVAILABLE',
            `Cannot reach ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}. Is the server running (npm start)?`,
          );
        }
        answers.push({
          patient_id: patientId,
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        });
      }
      const failed = answers.filter((answer) => answer.status !== 200).length;
      // An answer names a registered version; a model file or a run's model has no name: what it is
      // (family, fingerprint, when trained) comes from GET /model, asked once.
      const unregistered = answers.some(
        (a) => a.status === 200 && (a.body.model as { name?: string | null } | undefined)?.name == null,
      );
      const served = unregistered ? await servedModel(url, apiKey) : undefined;
      if (options.json) printJson({ url, answers, ...(served ? { model: served.answer } : {}) });
      else {
        const mark = marks();
        process.stdout.write(
          `${renderTable(answers, [
            { header: 'patient', value: (a) => a.patient_id },
            { header: 'status', value: (a) => String(a.status), align: 'right' },
            {
              header: 'probability',
              value: (a) => (a.status === 200 ? formatDecimals(a.body.probability as number, 4) : '–'),
              align: 'right',
            },
            {
              header: 'diagnosis',
              value: (a) => (a.status === 200 ? String(a.body.diagnosis) : '–'),
              align: 'right',
            },
            {
              header: 'model / error',
              value: (a) => {
                const model = a.body.model as { name?: string | null; version?: string | null } | undefined;
                if (a.status !== 200) return String(a.body.message ?? '');
                if (model?.name != null) return `${model.name} v${model.version ?? '-'}`;
                return served ? modelTag(served.facts) : 'unregistered model';
              },
            },
          ])}\n${failed === 0 ? mark.ok : mark.fail} ${count - failed} of ${count} answered by ${url}\n${
            served ? `model: ${describeServedModel(served.facts)}\n` : ''
          }`,
        );
      }
      if (failed > 0) process.exitCode = 1;
    });
}
