import { userInfo } from 'node:os';
import { type Command, Option } from 'commander';
import { streamVariables } from '../config.js';
import { DEFAULT_EXPORT_PREFIX, exportModel } from '../serving/exported-model.js';
import { openArtifactStore } from '../tracking/artifacts/artifact-store-uri.js';
import { MODEL_STAGES, type ModelVersion } from '../tracking/entities.js';
import {
  findModelVersion,
  modelVersionFiles,
  parseRegistryUri,
  registerModelVersion,
} from '../tracking/model-registry.js';
import { CHAMPION_ALIAS } from '../tracking/registry-store.js';
import { modelVersionJson, registeredModelJson, stageTransitionJson } from '../tracking/rest/mlflow-json.js';
import { MODEL_DIRECTORY_ARTIFACT } from '../tracking/training-logger.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { UsageError } from './options.js';
import { formatDecimals, formatTimestamp, marks, printJson, renderTable } from './output.js';
import { openCommandStores } from './stores.js';

/** The registered model Onset's pipelines and serving use by default. */
export const DEFAULT_MODEL_NAME = 'parkinson-disease-prediction';

interface StoreFlags {
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  json?: boolean;
}

function versionRows(versions: readonly ModelVersion[]): string {
  return renderTable(versions, [
    { header: 'version', value: (v) => v.version, align: 'right' },
    { header: 'stage', value: (v) => v.currentStage },
    { header: 'aliases', value: (v) => v.aliases.join(', ') },
    { header: 'run', value: (v) => v.runId ?? '' },
    { header: 'cv ROC AUC', value: (v) => formatDecimals(v.metrics.cv_roc_auc, 4), align: 'right' },
    { header: 'sha256', value: (v) => v.checksum?.slice(0, 12) ?? 'pending' },
  ]);
}

export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('the model registry: versions, stages and aliases');

  addStoreOptions(
    models.command('list').description('registered models').option('--json', 'print as JSON'),
  ).action(async (options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const page = await stores.registry.searchRegisteredModels({ maxResults: 1000 });
      if (options.json) {
        printJson(page.items.map(registeredModelJson));
        return;
      }
      process.stdout.write(
        `${renderTable(page.items, [
          { header: 'name', value: (m) => m.name },
          {
            header: 'versions by stage',
            value: (m) => m.latestVersions.map((v) => `${v.currentStage}: ${v.version}`).join(' · '),
          },
          { header: 'aliases', value: (m) => m.aliases.map((a) => `@${a.alias} -> ${a.version}`).join(', ') },
        ])}\n`,
      );
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    models
      .command('show')
      .description('versions of a model and its stage history')
      .argument('<name>')
      .option('--json', 'print as JSON'),
  ).action(async (name: string, options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const model = await stores.registry.getRegisteredModel(name);
      const versions = await stores.registry.searchModelVersions({
        filter: `name = '${name.replaceAll("'", "\\'")}'`,
        maxResults: 1000,
      });
      const history = await stores.registry.getStageHistory(name);
      if (options.json) {
        printJson({
          model: registeredModelJson(model),
          versions: versions.items.map(modelVersionJson),
          history: history.map(stageTransitionJson),
        });
        return;
      }
      process.stdout.write(
        [
          `${model.name}${model.description ? `: ${model.description}` : ''}`,
          '',
          versionRows(versions.items),
          '',
          history.length === 0
            ? 'No stage transitions yet.'
            : renderTable(history, [
                { header: 'when', value: (t) => formatTimestamp(t.timestamp) },
                { header: 'version', value: (t) => t.version, align: 'right' },
                { header: 'from', value: (t) => t.fromStage },
                { header: 'to', value: (t) => t.toStage },
                { header: 'by', value: (t) => t.user },
                { header: 'why', value: (t) => t.reason },
              ]),
          '',
        ].join('\n'),
      );
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    models
      .command('export-to-s3')
      .description(
        'copy a registered version to a bucket by its run id, for the stream function (MODEL_BUCKET and RUN_ID); every file checked against the version',
      )
      .option(
        '-m, --model <uri>',
        'the version: models:/NAME/VERSION, models:/NAME/STAGE or models:/NAME@ALIAS (env ONSET_MODEL_URI, default models:/parkinson-disease-prediction/Production)',
      )
      .requiredOption('--bucket <bucket>', 'the bucket (MODEL_BUCKET)')
      .option('--prefix <prefix>', 'the key prefix of exported models (MODEL_PREFIX)', DEFAULT_EXPORT_PREFIX)
      .option('--json', 'print the manifest as JSON'),
  ).action(async (options: StoreFlags & { model?: string; bucket: string; prefix: string }) => {
    const config = configFrom(options);
    const uri = options.model ?? config.modelUri;
    const reference = parseRegistryUri(uri);
    if (!reference) {
      throw new UsageError(
        `--model names a registered version to export (models:/NAME/VERSION, a stage or an alias), got ${uri}`,
      );
    }
    const bucketName = options.bucket.trim();
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName)) {
      throw new UsageError(
        `--bucket takes an S3 bucket name (3 to 63 lower-case letters, digits, dots, hyphens), got "${options.bucket}"`,
      );
    }
    const stores = await openCommandStores(options, 'read');
    try {
      const version = await findModelVersion(stores.registry, reference.name, reference.reference);
      if (version.runId === null) {
        throw new UsageError(
          `${version.name} version ${version.version} has no run: exports are kept by run id`,
        );
      }
      const { files, read } = await modelVersionFiles(stores, version);
      const aws = streamVariables();
      const target = await openArtifactStore(
        `s3://${bucketName}/${options.prefix.replace(/^\/+|\/+$/g, '')}`,
        {
          s3: {
            endpoint: config.s3Endpoint ?? aws.AWS_ENDPOINT_URL_S3 ?? aws.AWS_ENDPOINT_URL,
          },
        },
      );
      const manifest = await exportModel(target, {
        runId: version.runId,
        name: version.name,
        version: version.version,
        source: `models:/${version.name}/${version.version}`,
        files,
        read,
      });
      if (options.json) {
        printJson(manifest);
        return;
      }
      process.stdout.write(
        `${marks().ok} exported ${version.name} version ${version.version} to ${target.rootUri}/${version.runId} (${files.length} file(s), sha256 ${manifest.checksum.slice(0, 12)})\n` +
          `  the stream function loads it with MODEL_BUCKET=${bucketName} RUN_ID=${version.runId}${options.prefix === DEFAULT_EXPORT_PREFIX ? '' : ` MODEL_PREFIX=${options.prefix}`}\n`,
      );
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    models
      .command('register')
      .description("register a run's model as a new version (creating the registered model if needed)")
      .argument('<run>', 'run id')
      .option('--name <name>', 'registered model name', DEFAULT_MODEL_NAME)
      .option('--path <path>', "the model's path in the run's artifacts", MODEL_DIRECTORY_ARTIFACT)
      .option('--json', 'print as JSON'),
  ).action(async (runId: string, options: StoreFlags & { name: string; path: string }) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const version = await registerModelVersion(stores, {
        name: options.name,
        source: `runs:/${runId}/${options.path}`,
        runId,
        createModelIfMissing: true,
      });
      if (options.json) printJson(modelVersionJson(version));
      else
        process.stdout.write(
          `${marks().ok} registered ${version.name} version ${version.version} from run ${runId} (sha256 ${version.checksum?.slice(0, 12) ?? 'pending'})\n`,
        );
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    models
      .command('promote')
      .description(
        'move a version to a stage; Production holds one version (the one there is archived; the champion alias follows)',
      )
      .argument('<name>')
      .argument('<version>')
      .addOption(
        new Option('--stage <stage>', 'target stage').choices([...MODEL_STAGES]).makeOptionMandatory(),
      )
      .option('--archive-existing', 'archive the versions now in that stage (the default for Production)')
      .option('--no-archive-existing', 'keep the versions now in that stage (several in Production)')
      .option('--reason <text>', 'why (kept in the stage history)', '')
      .option('--json', 'print as JSON'),
  ).action(
    async (
      name: string,
      version: string,
      options: StoreFlags & {
        stage: (typeof MODEL_STAGES)[number];
        archiveExisting?: boolean;
        reason: string;
      },
    ) => {
      const stores = await openCommandStores(options, 'read');
      try {
        const before = await stores.registry.getModelVersion(name, version);
        const updated = await stores.registry.transitionModelVersionStage({
          name,
          version,
          stage: options.stage,
          archiveExistingVersions: options.archiveExisting ?? options.stage === 'Production',
          user: currentUser(),
          reason: options.reason,
        });
        if (options.json) printJson(modelVersionJson(updated));
        else if (before.currentStage === updated.currentStage)
          process.stdout.write(
            `${marks().ok} ${name} version ${version} is already in ${updated.currentStage}\n`,
          );
        else
          process.stdout.write(
            `${marks().ok} ${name} version ${version} is now in ${updated.currentStage}${updated.aliases.includes(CHAMPION_ALIAS) ? ` (@${CHAMPION_ALIAS})` : ''}\n`,
          );
      } finally {
        await stores.close();
      }
    },
  );

  addStoreOptions(
    models
      .command('alias')
      .description('point an alias (e.g. champion, challenger) at a version')
      .argument('<name>')
      .argument('<alias>')
      .argument('<version>')
      .option('--json', 'print as JSON'),
  ).action(async (name: string, alias: string, version: string, options: StoreFlags, command: Command) => {
    if (alias === CHAMPION_ALIAS) {
      // The champion is the Production version: pointing it elsewhere by hand would split the two.
      command.error(
        `onset: the ${CHAMPION_ALIAS} alias follows the Production stage: promote the version instead (onset models promote ${name} ${version} --stage Production)`,
        { exitCode: 2 },
      );
    }
    const stores = await openCommandStores(options, 'read');
    try {
      await stores.registry.setAlias(name, alias, version);
      const target = await stores.registry.getModelVersionByAlias(name, alias);
      if (options.json) printJson(modelVersionJson(target));
      else process.stdout.write(`${marks().ok} ${name}@${alias} -> version ${target.version}\n`);
    } finally {
      await stores.close();
    }
  });
}

/** The account recorded on a stage transition made from the CLI (the OS user, as MLflow records it). */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}
