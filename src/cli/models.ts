import { userInfo } from 'node:os';
import { type Command, Option } from 'commander';
import { MODEL_STAGES, type ModelVersion } from '../tracking/entities.js';
import { registerModelVersion } from '../tracking/model-registry.js';
import { CHAMPION_ALIAS } from '../tracking/registry-store.js';
import { modelVersionJson, registeredModelJson, stageTransitionJson } from '../tracking/rest/mlflow-json.js';
import { MODEL_DIRECTORY_ARTIFACT } from '../tracking/training-logger.js';
import { addStoreOptions } from './config-options.js';
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
