import { useEffect, useState } from 'preact/hooks';
import {
  deleteAlias,
  getModelVersion,
  getRegisteredModel,
  getRun,
  modelCard,
  modelReport,
  quoted,
  searchModelVersions,
  searchRegisteredModels,
  setAlias,
  stageHistory,
  transitionStage,
} from '../api/mlflow.js';
import type { ModelVersion, StageTransition } from '../api/types.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Facts, Loading, Section, Status } from '../components/feedback.js';
import { ModelCardView } from '../components/model-card.js';
import { ModelReportView } from '../components/model-report.js';
import { formatAgo, formatNumber, formatTime } from '../lib/format.js';
import { tagOf } from '../lib/tags.js';
import { useApi } from '../lib/use-api.js';
import { Link } from '../router.js';

type Params = { params: Readonly<Record<string, string>> };

const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;
const versionHref = (name: string, version: string) =>
  `${modelHref(name)}/versions/${encodeURIComponent(version)}`;

export function ModelsPage() {
  const models = useApi(() => searchRegisteredModels(), []);
  return (
    <>
      <div class="page-head">
        <h1>Models</h1>
        <span class="subtitle">The registry: registered models, their versions, stages and aliases</span>
      </div>
      <div class="card">
        <ErrorBox error={models.error} title="Could not read the registry" />
        {models.data ? (
          <DataTable
            caption="Registered models"
            rows={models.data}
            rowKey={(model) => model.name}
            empty="No registered model yet: a training pipeline registers one."
            columns={[
              { id: 'name', header: 'model', cell: (m) => <Link href={modelHref(m.name)}>{m.name}</Link> },
              {
                id: 'latest',
                header: 'latest versions',
                cell: (m) =>
                  (m.latest_versions ?? []).map((v) => (
                    <span key={v.version} class="nowrap">
                      <Link href={versionHref(m.name, v.version)}>v{v.version}</Link>{' '}
                      <Status value={v.current_stage} />{' '}
                    </span>
                  )),
              },
              {
                id: 'aliases',
                header: 'aliases',
                cell: (m) =>
                  (m.aliases ?? []).map((a) => (
                    <span class="tag" key={a.alias}>
                      @{a.alias} → v{a.version}
                    </span>
                  )),
              },
              { id: 'updated', header: 'last update', cell: (m) => formatAgo(m.last_updated_timestamp) },
              { id: 'description', header: 'description', cell: (m) => m.description ?? '' },
            ]}
          />
        ) : models.error ? null : (
          <Loading label="Reading the registry" />
        )}
      </div>
    </>
  );
}

function History({ transitions }: { transitions: readonly StageTransition[] }) {
  return (
    <DataTable
      caption="Stage transitions, newest first"
      rows={[...transitions].reverse()}
      rowKey={(t) => `${t.version}:${t.timestamp}:${t.to_stage}`}
      empty="No stage transition yet."
      columns={[
        { id: 'when', header: 'when', cell: (t) => <span class="nowrap">{formatTime(t.timestamp)}</span> },
        {
          id: 'version',
          header: 'version',
          numeric: true,
          cell: (t) => <Link href={versionHref(t.name, t.version)}>{t.version}</Link>,
        },
        { id: 'from', header: 'from', cell: (t) => <Status value={t.from_stage} /> },
        { id: 'to', header: 'to', cell: (t) => <Status value={t.to_stage} /> },
        { id: 'who', header: 'by', cell: (t) => t.user },
        { id: 'why', header: 'why', cell: (t) => t.reason },
      ]}
    />
  );
}

const KEY_METRIC = 'holdout_roc_auc';

export function ModelPage({ params }: Params) {
  const name = params.name!;
  const model = useApi(() => getRegisteredModel(name), [name]);
  const versions = useApi(() => searchModelVersions(`name = ${quoted(name)}`), [name]);
  const history = useApi(() => stageHistory(name), [name]);
  if (model.error) return <ErrorBox error={model.error} title={`Could not read model ${name}`} />;
  const sorted = [...(versions.data ?? [])].sort((a, b) => Number(b.version) - Number(a.version));
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/models">Models</Link> ›
      </div>
      <div class="page-head">
        <h1>{name}</h1>
        {(model.data?.aliases ?? []).map((a) => (
          <span class="tag" key={a.alias}>
            @{a.alias} → v{a.version}
          </span>
        ))}
      </div>
      {model.data?.description ? <p>{model.data.description}</p> : null}
      <Section title={`Versions (${sorted.length})`} id="versions">
        <ErrorBox error={versions.error} title="Could not list the versions" />
        {versions.data ? (
          <DataTable
            caption={`Versions of ${name}, newest first`}
            rows={sorted}
            rowKey={(v) => v.version}
            columns={[
              {
                id: 'version',
                header: 'version',
                cell: (v) => <Link href={versionHref(name, v.version)}>v{v.version}</Link>,
              },
              { id: 'stage', header: 'stage', cell: (v) => <Status value={v.current_stage} /> },
              {
                id: 'aliases',
                header: 'aliases',
                cell: (v) =>
                  (v.aliases ?? []).map((alias) => (
                    <span class="tag" key={alias}>
                      @{alias}
                    </span>
                  )),
              },
              {
                id: 'created',
                header: 'registered',
                cell: (v) => <span class="nowrap">{formatTime(v.creation_timestamp)}</span>,
              },
              {
                id: 'metric',
                header: KEY_METRIC,
                numeric: true,
                cell: (v) => formatNumber(v.metrics?.[KEY_METRIC], 4),
              },
              {
                id: 'run',
                header: 'run',
                cell: (v) =>
                  v.run_id ? <Link href={`/runs/${v.run_id}`}>{v.run_id.slice(0, 8)}</Link> : v.source,
              },
              { id: 'gate', header: 'gate', cell: (v) => tagOf(v.tags, 'onset.gate.reason') ?? '' },
            ]}
          />
        ) : versions.error ? null : (
          <Loading label="Listing the versions" />
        )}
      </Section>
      <Section title="Stage history" id="history">
        <ErrorBox error={history.error} title="Could not read the stage history" />
        {history.data ? <History transitions={history.data} /> : history.error ? null : <Loading />}
      </Section>
    </>
  );
}

/**
 * Moving a version between stages, and its aliases: each action shows its progress and the server's
 * answer. The form starts afresh when the version changes (its key), so the last success is kept by the
 * page (`notice`) and outlives the reload that follows it.
 */
function Actions({
  version,
  onChanged,
  notice,
  onNotice,
}: {
  version: ModelVersion;
  onChanged: () => void;
  notice: string | undefined;
  onNotice: (notice: string | undefined) => void;
}) {
  const [stage, setStage] = useState<string>(
    version.current_stage === 'Production' ? 'Archived' : 'Production',
  );
  const [archiveOthers, setArchiveOthers] = useState(true);
  const [comment, setComment] = useState('');
  const [alias, setAliasName] = useState('');
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const act = async (label: string, action: () => Promise<unknown>, success: string) => {
    setBusy(label);
    setError(undefined);
    onNotice(undefined);
    try {
      await action();
      onNotice(success);
      onChanged();
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(undefined);
    }
  };
  const moves = stage === 'Production' || stage === 'Staging';
  return (
    <div class="stack">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void act(
            'stage',
            () =>
              transitionStage(version.name, version.version, stage, moves && archiveOthers, comment.trim()),
            `Version ${version.version} is now in ${stage}.`,
          );
        }}
      >
        <div class="toolbar">
          <div>
            <label class="field-label" for="stage">
              Move to stage
            </label>
            <select id="stage" value={stage} onChange={(event) => setStage(event.currentTarget.value)}>
              {STAGES.filter((s) => s !== version.current_stage).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="grow">
            <label class="field-label" for="stage-comment">
              Why (kept in the stage history)
            </label>
            <input
              id="stage-comment"
              value={comment}
              placeholder="e.g. better recall on the new data"
              onInput={(event) => setComment(event.currentTarget.value)}
            />
          </div>
          <button type="submit" class="primary" disabled={busy !== undefined}>
            {busy === 'stage'
              ? 'Moving…'
              : stage === 'Production'
                ? 'Promote'
                : stage === 'Archived'
                  ? 'Archive'
                  : 'Move'}
          </button>
        </div>
        {moves ? (
          <label class="hint">
            <input
              type="checkbox"
              checked={archiveOthers}
              onChange={(event) => setArchiveOthers(event.currentTarget.checked)}
            />{' '}
            Archive the versions now in {stage}
          </label>
        ) : null}
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const name = alias.trim();
          void act(
            'alias',
            () => setAlias(version.name, name, version.version),
            `@${name} now points at version ${version.version}.`,
          );
        }}
      >
        <div class="toolbar">
          <div class="grow">
            <label class="field-label" for="alias">
              Point an alias at this version
            </label>
            <input
              id="alias"
              value={alias}
              placeholder="e.g. challenger"
              onInput={(event) => setAliasName(event.currentTarget.value)}
            />
          </div>
          <button type="submit" disabled={busy !== undefined || alias.trim() === ''}>
            {busy === 'alias' ? 'Setting…' : 'Set alias'}
          </button>
        </div>
      </form>
      {(version.aliases ?? []).length > 0 ? (
        <p class="inline-list">
          Aliases:
          {(version.aliases ?? []).map((name) => (
            <span key={name} class="nowrap">
              <span class="tag">@{name}</span>
              <button
                type="button"
                class="danger"
                disabled={busy !== undefined}
                aria-label={`Remove the alias ${name}`}
                onClick={() => act('delete', () => deleteAlias(version.name, name), `@${name} removed.`)}
              >
                ×
              </button>
            </span>
          ))}
        </p>
      ) : null}
      <div aria-live="polite">
        {busy ? <p class="loading">Working…</p> : null}
        {notice ? <p class="notice">{notice}</p> : null}
      </div>
      <ErrorBox error={error} title="The registry refused" />
    </div>
  );
}

export function VersionPage({ params }: Params) {
  const name = params.name!;
  const number = params.version!;
  const version = useApi(() => getModelVersion(name, number), [name, number]);
  const history = useApi(() => stageHistory(name, number), [name, number]);
  const runId = version.data?.run_id;
  const report = useApi(async () => (runId ? modelReport(await getRun(runId)) : undefined), [runId]);
  const card = useApi(async () => {
    if (!runId) return undefined;
    const run = await getRun(runId);
    const found = await modelCard(run);
    return found ? { card: found, run } : undefined;
  }, [runId]);
  const [notice, setNotice] = useState<string | undefined>();
  // Another version's page says nothing of this one's last action.
  useEffect(() => setNotice(undefined), [name, number]);
  if (version.error)
    return <ErrorBox error={version.error} title={`Could not read ${name} version ${number}`} />;
  if (!version.data) return <Loading label="Loading the version" />;
  const v = version.data;
  const refresh = () => {
    version.reload();
    history.reload();
  };
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/models">Models</Link> › <Link href={modelHref(name)}>{name}</Link> ›
      </div>
      <div class="page-head">
        <h1>
          {name} version {v.version}
        </h1>
        <Status value={v.current_stage} />
        {(v.aliases ?? []).map((alias) => (
          <span class="tag" key={alias}>
            @{alias}
          </span>
        ))}
      </div>
      <div class="grid">
        <Section title="About this version" id="about">
          <Facts
            items={[
              ['stage', v.current_stage],
              ['registered', formatTime(v.creation_timestamp)],
              ['last change', formatTime(v.last_updated_timestamp)],
              ['run', v.run_id ? <Link href={`/runs/${v.run_id}`}>{v.run_id}</Link> : ''],
              ['source', <code key="source">{v.source}</code>],
              ['status', v.status],
              ['checksum', v.checksum ? <code title={v.checksum}>{v.checksum.slice(0, 16)}</code> : ''],
              ['gate', tagOf(v.tags, 'onset.gate.reason') ?? ''],
            ]}
          />
          {v.description ? <p class="hint">{v.description}</p> : null}
          {Object.keys(v.metrics ?? {}).length > 0 ? (
            <div class="tiles">
              {Object.entries(v.metrics ?? {}).map(([key, value]) => (
                <div class="tile" key={key}>
                  <div class="value">{formatNumber(value, 3)}</div>
                  <div class="label">{key}</div>
                </div>
              ))}
            </div>
          ) : null}
        </Section>
        <Section title="Actions" id="actions">
          <Actions
            key={`${v.current_stage}:${(v.aliases ?? []).join(',')}`}
            version={v}
            onChanged={refresh}
            notice={notice}
            onNotice={setNotice}
          />
        </Section>
      </div>
      <Section title="Stage history" id="history">
        <ErrorBox error={history.error} title="Could not read the stage history" />
        {history.data ? <History transitions={history.data} /> : history.error ? null : <Loading />}
      </Section>
      <h2 class="report-title">Model report</h2>
      {report.error ? <ErrorBox error={report.error} title="Could not read the model report" /> : null}
      {report.loading && !report.data ? <Loading label="Reading the model report" /> : null}
      {!report.loading && !report.error && !report.data ? (
        <p class="card hint">
          No model report: {v.run_id ? "this version's run logged none" : 'this version has no training run'}.
        </p>
      ) : null}
      {report.data ? <ModelReportView report={report.data} /> : null}
      {card.error ? <ErrorBox error={card.error} title="Could not read the model card" /> : null}
      {card.data ? <ModelCardView card={card.data.card} run={card.data.run} /> : null}
      {!card.loading && !card.error && !card.data && report.data ? (
        <p class="card hint">
          No model card: this version's run was logged before Onset made them; <code>onset model card</code>{' '}
          writes one from the model.
        </p>
      ) : null}
    </>
  );
}
