import { useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/http.js';
import { getExperiment, searchExperiments, searchRuns } from '../api/mlflow.js';
import type { Run } from '../api/types.js';
import { type Column, DataTable } from '../components/data-table.js';
import { ErrorBox, Loading, Status } from '../components/feedback.js';
import { formatAgo, formatDuration, formatNumber, formatTime } from '../lib/format.js';
import { latestMetrics, runName, tagOf } from '../lib/tags.js';
import { useApi } from '../lib/use-api.js';
import { Link, navigate, setQuery, useLocation } from '../router.js';

type Params = { params: Readonly<Record<string, string>> };

export function ExperimentsPage() {
  const experiments = useApi(() => searchExperiments(), []);
  return (
    <>
      <div class="page-head">
        <h1>Experiments</h1>
        <span class="subtitle">
          Each holds the runs of one line of work; training runs go to one per model
        </span>
      </div>
      <div class="card">
        <ErrorBox error={experiments.error} title="Could not list the experiments" />
        {experiments.data ? (
          <DataTable
            caption="Experiments"
            rows={experiments.data}
            rowKey={(experiment) => experiment.experiment_id}
            empty="No experiment yet."
            columns={[
              {
                id: 'name',
                header: 'name',
                cell: (e) => (
                  <Link href={`/experiments/${encodeURIComponent(e.experiment_id)}`}>{e.name}</Link>
                ),
              },
              { id: 'id', header: 'id', numeric: true, cell: (e) => e.experiment_id },
              { id: 'created', header: 'created', cell: (e) => formatTime(e.creation_time) },
              { id: 'updated', header: 'last update', cell: (e) => formatAgo(e.last_update_time) },
              { id: 'location', header: 'artifacts', cell: (e) => <code>{e.artifact_location}</code> },
            ]}
          />
        ) : experiments.error ? null : (
          <Loading label="Loading experiments" />
        )}
      </div>
    </>
  );
}

/** The columns shown beyond the fixed ones: metric, param and tag keys. */
interface ColumnChoice {
  readonly metrics: readonly string[];
  readonly params: readonly string[];
  readonly tags: readonly string[];
}

const PREFERRED_METRICS = ['cv_roc_auc', 'holdout_roc_auc', 'cv_accuracy', 'cv_brier', 'fit_seconds'];

function storedChoice(experimentId: string): ColumnChoice | undefined {
  try {
    const stored = localStorage.getItem(`onset.runs.columns.${experimentId}`);
    return stored ? (JSON.parse(stored) as ColumnChoice) : undefined;
  } catch {
    return undefined;
  }
}

function defaultChoice(keys: AvailableKeys): ColumnChoice {
  const preferred = PREFERRED_METRICS.filter((key) => keys.metrics.includes(key));
  return { metrics: preferred.length > 0 ? preferred : keys.metrics.slice(0, 4), params: [], tags: [] };
}

interface AvailableKeys {
  readonly metrics: string[];
  readonly params: string[];
  readonly tags: string[];
}

function availableKeys(runs: readonly Run[]): AvailableKeys {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const metric of run.data.metrics ?? []) metrics.add(metric.key);
    for (const param of run.data.params ?? []) params.add(param.key);
    for (const tag of run.data.tags ?? []) tags.add(tag.key);
  }
  const sorted = (set: Set<string>) => [...set].sort();
  return { metrics: sorted(metrics), params: sorted(params), tags: sorted(tags) };
}

/** `order_by` clauses quote keys with backticks, so a key with dots or spaces stays one key. */
const orderKey = (kind: 'metrics' | 'params' | 'tags' | 'attributes', key: string) => `${kind}.\`${key}\``;

function parseOrder(order: string | null): { key: string; descending: boolean } {
  const text = order?.trim() || 'attributes.`start_time` DESC';
  const descending = /\sDESC$/i.test(text);
  return { key: text.replace(/\s+(ASC|DESC)$/i, ''), descending };
}

const PAGE_SIZES = [25, 50, 100, 250];

function ColumnPicker({
  keys,
  choice,
  onChange,
}: {
  keys: AvailableKeys;
  choice: ColumnChoice;
  onChange: (choice: ColumnChoice) => void;
}) {
  const group = (kind: keyof ColumnChoice, title: string) => (
    <fieldset>
      <legend>
        {title} ({keys[kind].length})
      </legend>
      <div class="column-choice">
        {keys[kind].map((key) => (
          <label key={key}>
            <input
              type="checkbox"
              checked={choice[kind].includes(key)}
              onChange={(event) =>
                onChange({
                  ...choice,
                  [kind]: event.currentTarget.checked
                    ? [...choice[kind], key]
                    : choice[kind].filter((chosen) => chosen !== key),
                })
              }
            />
            {key}
          </label>
        ))}
      </div>
    </fieldset>
  );
  return (
    <details class="columns">
      <summary>Columns ({choice.metrics.length + choice.params.length + choice.tags.length} chosen)</summary>
      {group('metrics', 'Metrics')}
      {group('params', 'Parameters')}
      {group('tags', 'Tags')}
    </details>
  );
}

const FILTER_EXAMPLES = [
  'metrics.cv_roc_auc > 0.95',
  "tags.`onset.estimator` = 'gbdt'",
  "params.depth = '6' and attributes.status = 'FINISHED'",
];

export function ExperimentPage({ params }: Params) {
  const id = params.id!;
  const location = useLocation();
  const filter = location.query.get('filter') ?? '';
  const order = parseOrder(location.query.get('order'));
  const size = Number(location.query.get('size')) || 50;
  const [draft, setDraft] = useState(filter);
  // The page tokens of the pages seen (index 0: the first page, no token).
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [choice, setChoice] = useState<ColumnChoice | undefined>(() => storedChoice(id));

  const experiment = useApi(() => getExperiment(id), [id]);
  const orderClause = `${order.key} ${order.descending ? 'DESC' : 'ASC'}`;
  const runs = useApi(
    (signal) =>
      searchRuns(
        {
          experimentIds: [id],
          filter,
          orderBy: [orderClause],
          maxResults: size,
          ...(tokens[page] ? { pageToken: tokens[page] } : {}),
        },
        signal,
      ),
    [id, filter, orderClause, size, page, tokens[page]],
  );
  const restart = () => {
    setTokens([undefined]);
    setPage(0);
  };
  const keys = useMemo(() => availableKeys(runs.data?.runs ?? []), [runs.data]);
  const chosen = choice ?? defaultChoice(keys);
  const choose = (next: ColumnChoice) => {
    setChoice(next);
    localStorage.setItem(`onset.runs.columns.${id}`, JSON.stringify(next));
  };
  const sortBy = (key: string) => {
    const descending = order.key === key ? !order.descending : true;
    restart();
    setQuery({ order: `${key} ${descending ? 'DESC' : 'ASC'}` });
  };
  const applyFilter = (event: Event) => {
    event.preventDefault();
    restart();
    setQuery({ filter: draft.trim() || undefined });
  };

  const rows = useMemo(
    () => (runs.data?.runs ?? []).map((run) => ({ run, metrics: latestMetrics(run) })),
    [runs.data],
  );
  type Row = (typeof rows)[number];
  const columns: Column<Row>[] = [
    {
      id: 'name',
      header: 'run',
      sortKey: orderKey('attributes', 'run_name'),
      cell: ({ run }) => <Link href={`/runs/${run.info.run_id}`}>{runName(run)}</Link>,
    },
    {
      id: 'status',
      header: 'status',
      sortKey: orderKey('attributes', 'status'),
      cell: ({ run }) => <Status value={run.info.status} />,
    },
    {
      id: 'start',
      header: 'started',
      sortKey: orderKey('attributes', 'start_time'),
      cell: ({ run }) => formatTime(run.info.start_time),
    },
    {
      id: 'duration',
      header: 'duration',
      numeric: true,
      cell: ({ run }) =>
        run.info.start_time && run.info.end_time
          ? formatDuration(run.info.end_time - run.info.start_time)
          : '',
    },
    {
      id: 'family',
      header: 'family',
      sortKey: orderKey('tags', 'onset.estimator'),
      cell: ({ run }) => tagOf(run.data.tags, 'onset.estimator') ?? '',
    },
    ...chosen.metrics.map(
      (key): Column<Row> => ({
        id: `m:${key}`,
        header: key,
        numeric: true,
        sortKey: orderKey('metrics', key),
        cell: ({ metrics }) => formatNumber(metrics.get(key)),
      }),
    ),
    ...chosen.params.map(
      (key): Column<Row> => ({
        id: `p:${key}`,
        header: <span title="parameter">{key}</span>,
        sortKey: orderKey('params', key),
        cell: ({ run }) => run.data.params?.find((p) => p.key === key)?.value ?? '',
      }),
    ),
    ...chosen.tags.map(
      (key): Column<Row> => ({
        id: `t:${key}`,
        header: <span title="tag">{key}</span>,
        sortKey: orderKey('tags', key),
        cell: ({ run }) => tagOf(run.data.tags, key) ?? '',
      }),
    ),
  ];

  const refused = runs.error instanceof ApiError && runs.error.status === 400 ? runs.error : undefined;
  const next = runs.data?.nextPageToken;
  const first = page * size + 1;
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/experiments">Experiments</Link> ›
      </div>
      <div class="page-head">
        <h1>{experiment.data?.name ?? `Experiment ${id}`}</h1>
        <span class="subtitle">experiment {id}</span>
      </div>
      <ErrorBox error={experiment.error} title="Could not read the experiment" />
      <div class="card">
        <form class="toolbar" onSubmit={applyFilter} aria-label="Search runs">
          <div class="grow">
            <label class="field-label" for="run-filter">
              Filter runs (MLflow search syntax)
            </label>
            <input
              id="run-filter"
              type="search"
              value={draft}
              placeholder={FILTER_EXAMPLES[0]}
              aria-invalid={refused ? 'true' : undefined}
              aria-describedby={refused ? 'filter-error' : 'filter-hint'}
              onInput={(event) => setDraft(event.currentTarget.value)}
            />
          </div>
          <button type="submit" class="primary">
            Apply
          </button>
          {filter ? (
            <button
              type="button"
              onClick={() => {
                setDraft('');
                restart();
                setQuery({ filter: undefined });
              }}
            >
              Clear
            </button>
          ) : null}
          <div>
            <label class="field-label" for="page-size">
              Rows per page
            </label>
            <select
              id="page-size"
              value={String(size)}
              onChange={(event) => {
                restart();
                setQuery({
                  size: event.currentTarget.value === '50' ? undefined : event.currentTarget.value,
                });
              }}
            >
              {PAGE_SIZES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            disabled={selected.size < 2}
            onClick={() => navigate(`/compare?runs=${[...selected].join(',')}`)}
          >
            Compare selected ({selected.size})
          </button>
        </form>
        {refused ? (
          <div id="filter-error">
            <ErrorBox error={refused} title="The search was refused" />
          </div>
        ) : (
          <p class="hint" id="filter-hint">
            For example <code>{FILTER_EXAMPLES[0]}</code>, <code>{FILTER_EXAMPLES[1]}</code> or{' '}
            <code>{FILTER_EXAMPLES[2]}</code>. Click a column's name to sort by it.
          </p>
        )}
        <ColumnPicker keys={keys} choice={chosen} onChange={choose} />
        {runs.error && !refused ? <ErrorBox error={runs.error} title="Could not search the runs" /> : null}
        {runs.loading && !runs.data ? <Loading label="Searching runs" /> : null}
        {runs.data ? (
          <>
            <DataTable
              caption={`Runs of experiment ${experiment.data?.name ?? id}`}
              rows={rows}
              rowKey={(row) => row.run.info.run_id}
              rowLabel={(row) => runName(row.run)}
              columns={columns}
              sort={{ key: order.key, descending: order.descending }}
              onSort={sortBy}
              selected={selected}
              rowClass={(row) => (selected.has(row.run.info.run_id) ? 'selected' : undefined)}
              onSelect={(key, on) =>
                setSelected((previous) => {
                  const updated = new Set(previous);
                  if (on) updated.add(key);
                  else updated.delete(key);
                  return updated;
                })
              }
              empty={filter ? 'No run matches the filter.' : 'No run in this experiment yet.'}
            />
            <nav class="pager" aria-label="Pages of runs">
              <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
                ← Previous
              </button>
              <span aria-live="polite">
                {rows.length === 0 ? 'no runs' : `runs ${first}–${first + rows.length - 1}`} · page {page + 1}
                {runs.loading ? ' · loading…' : ''}
              </span>
              <button
                type="button"
                disabled={!next}
                onClick={() => {
                  setTokens((previous) => [...previous.slice(0, page + 1), next]);
                  setPage(page + 1);
                }}
              >
                Next →
              </button>
            </nav>
          </>
        ) : null}
      </div>
    </>
  );
}
