import { useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/http.js';
import { explain, featureSchema, predictBatch } from '../api/onset.js';
import type { BatchResult, Feature, FeatureSchema, ModelRef, Prediction } from '../api/types.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Loading, Section } from '../components/feedback.js';
import { Waterfall } from '../components/waterfall.js';
import { download, parseCsv, toCsv } from '../lib/csv.js';
import { formatNumber, formatPercent } from '../lib/format.js';
import { useApi } from '../lib/use-api.js';
import { Link } from '../router.js';

/** A number as the server reads one: digits with an optional sign, point and exponent. */
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

type Values = Record<string, string>;

/**
 * What is wrong with a value as the user types it, in the server's words (src/data/schema.ts): an error
 * when the server would refuse it, a warning when it is possible but outside the training data.
 */
function check(feature: Feature, text: string): { error?: string; warning?: string } {
  if (text.trim() === '') return {};
  if (feature.kind !== 'continuous') {
    return feature.codes.some((c) => String(c.code) === text.trim())
      ? {}
      : {
          error: `must be one of the codes ${feature.codes.map((c) => `${c.code} = ${c.label}`).join(', ')}`,
        };
  }
  if (!NUMBER.test(text)) return { error: 'must be a number or a numeric string ("71")' };
  const value = Number(text);
  const { limits, training } = feature;
  if (value < limits.min || value > limits.max) {
    return { error: `must be between ${limits.min} and ${limits.max} ${feature.unit} (what is possible)` };
  }
  if (value < training.min || value > training.max) {
    return {
      warning: `outside the training data (${training.min} to ${training.max} ${feature.unit}): scored, but less certain`,
    };
  }
  return {};
}

/** The fields of a record read from a pasted CSV line (with or without its header line). */
function readCsvRow(
  text: string,
  schema: FeatureSchema,
): { values: Values; patientId?: string; diagnosis?: string; ignored: string[] } {
  const rows = parseCsv(text.trim());
  if (rows.length === 0)
    throw new Error('Nothing to read: paste a line of the data file (with its header line or without).');
  const names = schema.features.map((f) => f.name);
  const kaggle = [schema.id_column, ...names, schema.target.name, 'DoctorInCharge'];
  let header: string[];
  let row: string[];
  if (rows.length >= 2 && rows[0]!.some((cell) => names.includes(cell.trim()))) {
    header = rows[0]!.map((cell) => cell.trim());
    row = rows[1]!;
  } else {
    row = rows[0]!;
    const layouts = [kaggle, kaggle.slice(0, -1), [schema.id_column, ...names], names];
    const layout = layouts.find((columns) => columns.length === row.length);
    if (!layout) {
      throw new Error(
        `A line without its header must have the data file's ${kaggle.length} columns (${schema.id_column}, the 32 features, ${schema.target.name}, DoctorInCharge) or the 32 features alone; this one has ${row.length}.`,
      );
    }
    header = layout;
  }
  const values: Values = {};
  const ignored: string[] = [];
  let patientId: string | undefined;
  let diagnosis: string | undefined;
  header.forEach((column, j) => {
    const cell = (row[j] ?? '').trim();
    if (names.includes(column)) values[column] = cell;
    else if (column === schema.id_column) patientId = cell;
    else if (column === schema.target.name) diagnosis = cell;
    else ignored.push(column);
  });
  return { values, ...(patientId ? { patientId } : {}), ...(diagnosis ? { diagnosis } : {}), ignored };
}

function FeatureField({
  feature,
  value,
  serverError,
  onChange,
}: {
  feature: Feature;
  value: string;
  serverError: string | undefined;
  onChange: (value: string) => void;
}) {
  const id = `feature-${feature.name}`;
  const local = check(feature, value);
  const error = serverError ?? local.error;
  const describedBy = [`${id}-hint`, error ? `${id}-error` : '', local.warning ? `${id}-warning` : '']
    .filter(Boolean)
    .join(' ');
  const hint =
    feature.kind === 'continuous'
      ? `${feature.limits.min}–${feature.limits.max} ${feature.unit}${
          feature.training.min !== feature.limits.min || feature.training.max !== feature.limits.max
            ? ` (trained on ${feature.training.min}–${feature.training.max})`
            : ''
        }`
      : feature.description;
  return (
    <div>
      <label for={id}>
        {feature.name}
        {feature.kind === 'continuous' ? <span class="hint"> ({feature.unit})</span> : null}
      </label>
      {feature.kind === 'continuous' ? (
        <input
          id={id}
          name={feature.name}
          inputMode="decimal"
          autocomplete="off"
          value={value}
          title={feature.description}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy}
          onInput={(event) => onChange(event.currentTarget.value)}
        />
      ) : (
        <select
          id={id}
          name={feature.name}
          value={value}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy}
          onChange={(event) => onChange(event.currentTarget.value)}
        >
          <option value="">choose…</option>
          {feature.codes.map((code) => (
            <option key={code.code} value={String(code.code)}>
              {code.label} ({code.code})
            </option>
          ))}
        </select>
      )}
      <div class="hint" id={`${id}-hint`}>
        {hint}
      </div>
      {error ? (
        <div class="field-error" id={`${id}-error`}>
          {feature.name} {error}
        </div>
      ) : null}
      {local.warning && !error ? (
        <div class="field-warning" id={`${id}-warning`}>
          {local.warning}
        </div>
      ) : null}
    </div>
  );
}

/** Typical values: the middle of each training range, the first code: a start to edit. */
function typicalValues(schema: FeatureSchema): Values {
  return Object.fromEntries(
    schema.features.map((f) => {
      if (f.kind !== 'continuous') return [f.name, String(f.codes[0]!.code)];
      const middle = (f.training.min + f.training.max) / 2;
      return [f.name, String(f.integer ? Math.round(middle) : Number(middle.toFixed(2)))];
    }),
  );
}

const logit = (p: number) => Math.log(p / (1 - p));

/**
 * The prediction set in words: whether the model is sure at its conformal level (one diagnosis), cannot
 * tell (both: refer), or finds the patient unlike any it was calibrated on (none).
 */
function PredictionSetNote({ set }: { set: readonly (0 | 1)[] }) {
  const words =
    set.length === 2
      ? 'the model cannot tell at its coverage level: both diagnoses remain possible (refer)'
      : set.length === 0
        ? 'neither diagnosis is like those of the patients it was calibrated on (refer)'
        : `sure at its coverage level: ${set[0] === 1 ? "Parkinson's disease" : "no Parkinson's disease"}`;
  return (
    <div class="prediction-set" data-prediction-set={set.join(',')}>
      prediction set <strong>{`{${set.map((d) => (d === 1 ? 'PD' : 'no PD')).join(', ')}}`}</strong>: {words}
    </div>
  );
}

/** Values as people read them: a code by its label ("Yes", "Female"), a number as it is. */
function readable(features: readonly Feature[], values: Values): Values {
  return Object.fromEntries(
    features.map((feature) => {
      const value = values[feature.name] ?? '';
      const code =
        feature.kind === 'continuous'
          ? undefined
          : feature.codes.find((c) => String(c.code) === value.trim());
      return [feature.name, code ? code.label : value];
    }),
  );
}

/** Why the model diagnoses at its threshold: a fixed one was named (its policy is a bare number), others chosen. */
function thresholdWhy(threshold: Prediction['threshold']): string {
  return `${threshold.policy.includes(':') ? 'chosen for ' : ''}${threshold.description}`;
}

function Answer({
  prediction,
  values,
  features,
  known,
}: {
  prediction: Prediction;
  values: Values;
  features: readonly Feature[];
  known?: string;
}) {
  const label = prediction.diagnosis === 1 ? "Parkinson's disease" : "No Parkinson's disease";
  return (
    <div class="stack" aria-live="polite">
      <div>
        <div class="probability" data-probability={prediction.probability}>
          {formatPercent(prediction.probability, 1)}
        </div>
        {prediction.probability_interval ? (
          <div class="hint" data-probability-interval={prediction.probability_interval.join(' ')}>
            Venn-Abers interval {formatPercent(prediction.probability_interval[0], 1)} to{' '}
            {formatPercent(prediction.probability_interval[1], 1)}: one end is calibrated whatever the data; a
            wide interval means few calibration patients had a probability like this one
          </div>
        ) : null}
        <div>
          probability of Parkinson's disease: <strong>{label}</strong> at the model's threshold{' '}
          <span data-threshold={prediction.threshold.value}>
            {formatPercent(prediction.threshold.value, 1)}
          </span>{' '}
          <span class="hint">({thresholdWhy(prediction.threshold)})</span>
          {known !== undefined ? (
            <span class="hint">
              {' '}
              (the file's diagnosis: {known === '1' ? "Parkinson's disease" : known === '0' ? 'none' : known})
            </span>
          ) : null}
        </div>
        {prediction.prediction_set ? <PredictionSetNote set={prediction.prediction_set} /> : null}
        <div class="hint">
          by{' '}
          {prediction.model.name ? (
            <Link
              href={`/models/${encodeURIComponent(prediction.model.name)}/versions/${prediction.model.version}`}
            >
              {prediction.model.name} version {prediction.model.version}
            </Link>
          ) : (
            'the served model'
          )}
          {prediction.patient_id ? ` · patient ${prediction.patient_id}` : ''}
          {prediction.explanation ? (
            <>
              {' '}
              · margin {formatNumber(logit(prediction.explanation.uncalibrated_probability), 4)}
              {prediction.explanation.uncalibrated_probability !== prediction.probability
                ? ` · the model's own probability ${formatPercent(prediction.explanation.uncalibrated_probability, 1)}, calibrated to the one shown`
                : ''}
            </>
          ) : null}
        </div>
      </div>
      {prediction.out_of_distribution.length > 0 ? (
        <div class="field-warning" role="note">
          Outside the training data (the probability is less certain than it says):{' '}
          {prediction.out_of_distribution
            .map(
              (o) =>
                `${o.feature} = ${o.value} (trained on ${o.training_range.min} to ${o.training_range.max})`,
            )
            .join('; ')}
        </div>
      ) : null}
      {prediction.explanation ? (
        <Waterfall explanation={prediction.explanation} values={readable(features, values)} />
      ) : null}
    </div>
  );
}

function BatchScoring({ schema }: { schema: FeatureSchema }) {
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [outcome, setOutcome] = useState<
    | {
        file: string;
        rows: { line: number; patientId: string; label?: string; result: BatchResult }[];
        model: ModelRef;
      }
    | undefined
  >();
  const CHUNK = 500;
  const score = async (file: File) => {
    setError(undefined);
    setOutcome(undefined);
    try {
      const rows = parseCsv(await file.text());
      const header = rows[0]?.map((cell) => cell.trim()) ?? [];
      const names = new Set(schema.features.map((f) => f.name));
      if (!header.some((column) => names.has(column))) {
        throw new Error(
          `${file.name} has no header line naming the features (Age, Gender, ...): use the data file's layout.`,
        );
      }
      const body = rows.slice(1);
      const records = body.map((row) => {
        const data: Values = {};
        let patientId = '';
        let label: string | undefined;
        header.forEach((column, j) => {
          if (names.has(column)) data[column] = row[j] ?? '';
          else if (column === schema.id_column) patientId = row[j] ?? '';
          else if (column === schema.target.name) label = row[j];
        });
        return { data, patientId, label };
      });
      const scored: { line: number; patientId: string; label?: string; result: BatchResult }[] = [];
      let model: ModelRef | undefined;
      setProgress({ done: 0, total: records.length });
      for (let start = 0; start < records.length; start += CHUNK) {
        const chunk = records.slice(start, start + CHUNK);
        const answer = await predictBatch(
          chunk.map((r) => ({ data: r.data, ...(r.patientId ? { patient_id: r.patientId } : {}) })),
        );
        model = answer.model;
        answer.results.forEach((result, k) => {
          const record = chunk[k]!;
          scored.push({
            line: start + k + 2,
            patientId: record.patientId,
            ...(record.label !== undefined ? { label: record.label } : {}),
            result,
          });
        });
        setProgress({ done: Math.min(records.length, start + CHUNK), total: records.length });
      }
      setOutcome({
        file: file.name,
        rows: scored,
        model: model ?? { name: null, version: null, run_id: null },
      });
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setProgress(undefined);
      if (input.current) input.current.value = '';
    }
  };
  const save = () => {
    if (!outcome) return;
    const withLabels = outcome.rows.some((row) => row.label !== undefined);
    const csv = toCsv(
      [
        'line',
        schema.id_column,
        'probability',
        'diagnosis',
        ...(withLabels ? [schema.target.name] : []),
        'model_version',
        'errors',
      ],
      outcome.rows.map((row) => [
        row.line,
        row.patientId,
        row.result.probability,
        row.result.diagnosis,
        ...(withLabels ? [row.label] : []),
        row.result.errors ? '' : (outcome.model.version ?? ''),
        row.result.errors?.map((e) => `${e.field} ${e.message}`).join('; ') ?? '',
      ]),
    );
    download(outcome.file.replace(/(\.csv)?$/i, '-scores.csv'), csv);
  };
  const valid = outcome?.rows.filter((row) => !row.result.errors).length ?? 0;
  const labelled =
    outcome?.rows.filter((row) => !row.result.errors && (row.label === '0' || row.label === '1')) ?? [];
  const correct = labelled.filter((row) => String(row.result.diagnosis) === row.label).length;
  return (
    <div class="stack">
      <p>
        A CSV file in the data file's layout (a header line; <code>{schema.id_column}</code> and{' '}
        <code>{schema.target.name}</code> optional) is scored through <code>POST /predict/batch</code>,{' '}
        {CHUNK} rows at a time. Invalid rows are listed with the server's reasons; the others are still
        scored.
      </p>
      <label for="batch-file">CSV file to score</label>
      <input
        id="batch-file"
        ref={input}
        type="file"
        accept=".csv,text/csv"
        disabled={progress !== undefined}
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          if (file) void score(file);
        }}
      />
      {progress ? (
        <div role="status">
          <progress value={progress.done} max={progress.total} aria-label="Rows scored" /> {progress.done} of{' '}
          {progress.total} rows scored
        </div>
      ) : null}
      <ErrorBox error={error} title="The batch was not scored" />
      {outcome ? (
        <div class="stack">
          <p aria-live="polite" class="notice">
            {outcome.file}: {valid} of {outcome.rows.length} rows scored
            {outcome.rows.length > valid ? `, ${outcome.rows.length - valid} refused` : ''}
            {labelled.length > 0
              ? ` · ${formatPercent(correct / labelled.length)} agree with the file's diagnosis`
              : ''}{' '}
            · model {outcome.model.name} version {outcome.model.version}
          </p>
          <button type="button" class="primary" onClick={save}>
            Download the results (CSV)
          </button>
          <DataTable
            caption="Scored rows (the first 100)"
            rows={outcome.rows.slice(0, 100)}
            rowKey={(row) => String(row.line)}
            columns={[
              { id: 'line', header: 'line', numeric: true, cell: (row) => row.line },
              { id: 'patient', header: 'patient', cell: (row) => row.patientId },
              {
                id: 'probability',
                header: 'probability',
                numeric: true,
                cell: (row) =>
                  row.result.probability === undefined ? '' : formatNumber(row.result.probability, 4),
              },
              {
                id: 'diagnosis',
                header: 'diagnosis',
                numeric: true,
                cell: (row) => row.result.diagnosis ?? '',
              },
              ...(labelled.length > 0
                ? [
                    {
                      id: 'label',
                      header: 'file says',
                      numeric: true,
                      cell: (row: (typeof outcome.rows)[number]) => row.label ?? '',
                    },
                  ]
                : []),
              {
                id: 'errors',
                header: 'problems',
                cell: (row) => row.result.errors?.map((e) => `${e.field} ${e.message}`).join('; ') ?? '',
              },
            ]}
          />
        </div>
      ) : null}
    </div>
  );
}

export function ScorePage() {
  const schema = useApi(() => featureSchema(), []);
  const [values, setValues] = useState<Values>({});
  const [patientId, setPatientId] = useState('');
  const [known, setKnown] = useState<string | undefined>();
  const [pasted, setPasted] = useState('');
  const [pasteNote, setPasteNote] = useState<string | undefined>();
  const [pasteError, setPasteError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | undefined>();
  const [answer, setAnswer] = useState<
    { prediction: Prediction; values: Values; known?: string } | undefined
  >();
  const serverErrors = useMemo(() => {
    const byField = new Map<string, string>();
    if (error instanceof ApiError) {
      for (const problem of error.problems)
        byField.set(problem.field.replace(/^data\./, ''), problem.message);
    }
    return byField;
  }, [error]);

  if (schema.error) return <ErrorBox error={schema.error} title="Could not read the feature schema" />;
  if (!schema.data) return <Loading label="Reading the feature schema" />;
  const features = schema.data.features;

  const set = (name: string, value: string) => {
    setValues((previous) => ({ ...previous, [name]: value }));
    if (serverErrors.has(name)) setError(undefined);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const prediction = await explain(values, patientId.trim() || undefined);
      setAnswer({ prediction, values: { ...values }, ...(known !== undefined ? { known } : {}) });
      // The answer sits beside the top of the form: bring it into view (the button is at the bottom).
      requestAnimationFrame(() => document.getElementById('answer')?.scrollIntoView({ block: 'start' }));
    } catch (failure) {
      setAnswer(undefined);
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  };
  const load = () => {
    setPasteError(undefined);
    try {
      const read = readCsvRow(pasted, schema.data!);
      setValues(read.values);
      setPatientId(read.patientId ?? '');
      setKnown(read.diagnosis);
      setError(undefined);
      setPasteNote(
        `Loaded ${Object.keys(read.values).length} features${read.patientId ? ` of patient ${read.patientId}` : ''}${
          read.diagnosis !== undefined
            ? `; the file's diagnosis (${read.diagnosis}) is kept aside, not sent`
            : ''
        }${read.ignored.length > 0 ? `; ignored ${read.ignored.join(', ')}` : ''}.`,
      );
    } catch (failure) {
      setPasteError(failure as Error);
    }
  };
  return (
    <>
      <div class="page-head">
        <h1>Predict</h1>
        <span class="subtitle">One patient, explained; or a whole file</span>
      </div>
      <Section title="Load a patient from a CSV line" id="paste">
        <label for="csv-row">A line of the data file, with its header line or without</label>
        <textarea
          id="csv-row"
          rows={3}
          value={pasted}
          placeholder="3058,85,0,3,1,19.6,0,5.1,1.4,1.0,9.4,0,0,0,0,0,0,129,60,222.8,148.1,37.9,337.3,6.5,29.2,1.7,1,0,0,0,0,0,0,0,DrXXXConfid"
          onInput={(event) => setPasted(event.currentTarget.value)}
        />
        <div class="buttons">
          <button type="button" onClick={load} disabled={pasted.trim() === ''}>
            Load into the form
          </button>
          <button
            type="button"
            onClick={() => {
              setValues(typicalValues(schema.data!));
              setKnown(undefined);
              setPasteNote(
                'Filled with the middle of each training range and the first code: edit from there.',
              );
            }}
          >
            Fill with typical values
          </button>
        </div>
        <ErrorBox error={pasteError} title="Could not read the line" />
        {pasteNote ? (
          <p class="hint" aria-live="polite">
            {pasteNote}
          </p>
        ) : null}
      </Section>
      <div class="grid predict-grid">
        <form onSubmit={submit} class="card" aria-label="Patient record" noValidate>
          <div class="form-grid">
            <div>
              <label for="patient-id">Patient id (optional, echoed back)</label>
              <input
                id="patient-id"
                value={patientId}
                onInput={(event) => setPatientId(event.currentTarget.value)}
              />
            </div>
          </div>
          {schema.data.groups.map((group) => {
            const inGroup = features.filter((f) => f.group === group.group);
            if (inGroup.length === 0) return null;
            return (
              <fieldset key={group.group}>
                <legend>{group.label}</legend>
                <div class="form-grid">
                  {inGroup.map((feature) => (
                    <FeatureField
                      key={feature.name}
                      feature={feature}
                      value={values[feature.name] ?? ''}
                      serverError={serverErrors.get(feature.name)}
                      onChange={(value) => set(feature.name, value)}
                    />
                  ))}
                </div>
              </fieldset>
            );
          })}
          <div class="buttons">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Scoring…' : 'Predict and explain'}
            </button>
            <button
              type="button"
              onClick={() => {
                setValues({});
                setPatientId('');
                setKnown(undefined);
                setAnswer(undefined);
                setError(undefined);
              }}
            >
              Clear
            </button>
          </div>
          <ErrorBox error={error} title="The server did not score this record" />
        </form>
        <Section title="Answer" id="answer">
          {busy ? <Loading label="Scoring" /> : null}
          {answer ? (
            <Answer
              prediction={answer.prediction}
              values={answer.values}
              features={features}
              {...(answer.known !== undefined ? { known: answer.known } : {})}
            />
          ) : busy ? null : (
            <p class="hint">Fill in the form (or load a line) and choose Predict and explain.</p>
          )}
        </Section>
      </div>
      <Section title="Score a file" id="batch">
        <BatchScoring schema={schema.data} />
      </Section>
    </>
  );
}
