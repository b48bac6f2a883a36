import { useState } from 'preact/hooks';
import { artifactBlob, artifactText, listArtifacts } from '../api/mlflow.js';
import type { FileInfo, Run } from '../api/types.js';
import { download, parseCsv } from '../lib/csv.js';
import { formatBytes } from '../lib/format.js';
import { useApi } from '../lib/use-api.js';
import { DataTable } from './data-table.js';
import { ErrorBox, Loading } from './feedback.js';

/** Files larger than this are offered for download only. */
const VIEW_LIMIT = 1024 * 1024;
const TEXT_FILE = /(\.(txt|log|md|yaml|yml|py|toml|ini|cfg)|\/MLmodel|^MLmodel|requirements\.txt)$/i;

type Kind = 'json' | 'csv' | 'text' | 'binary';

function kindOf(path: string): Kind {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.csv$/i.test(path)) return 'csv';
  return TEXT_FILE.test(path) ? 'text' : 'binary';
}

const baseName = (path: string) => path.split('/').at(-1) ?? path;

function Folder({
  run,
  path,
  chosen,
  onChoose,
}: {
  run: Run;
  path: string | undefined;
  chosen: FileInfo | undefined;
  onChoose: (file: FileInfo) => void;
}) {
  const files = useApi(() => listArtifacts(run.info.run_id, path), [run.info.run_id, path]);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  if (files.error) return <ErrorBox error={files.error} title="Could not list the artifacts" />;
  if (!files.data) return <Loading label="Listing" />;
  if (files.data.length === 0)
    return <p class="hint">{path ? 'Empty folder.' : 'This run logged no artifacts.'}</p>;
  return (
    <ul class="tree" aria-label={path ? `Files in ${path}` : 'Artifacts'}>
      {files.data.map((file) =>
        file.is_dir ? (
          <li key={file.path}>
            <button
              type="button"
              aria-expanded={open.has(file.path)}
              onClick={() =>
                setOpen((previous) => {
                  const next = new Set(previous);
                  if (next.has(file.path)) next.delete(file.path);
                  else next.add(file.path);
                  return next;
                })
              }
            >
              <span aria-hidden="true">{open.has(file.path) ? '▾ ' : '▸ '}</span>
              {baseName(file.path)}/
            </button>
            {open.has(file.path) ? (
              <Folder run={run} path={file.path} chosen={chosen} onChoose={onChoose} />
            ) : null}
          </li>
        ) : (
          <li key={file.path}>
            <button
              type="button"
              aria-current={chosen?.path === file.path ? 'true' : undefined}
              onClick={() => onChoose(file)}
            >
              {baseName(file.path)}
            </button>{' '}
            <span class="hint">{formatBytes(file.file_size)}</span>
          </li>
        ),
      )}
    </ul>
  );
}

function CsvTable({ text }: { text: string }) {
  const rows = parseCsv(text);
  const [header, ...body] = rows;
  if (!header) return <p class="hint">Empty file.</p>;
  const shown = body.slice(0, 200).map((row, index) => ({ row, index }));
  type Line = (typeof shown)[number];
  return (
    <>
      <DataTable<Line>
        caption="File contents"
        rows={shown}
        rowKey={(line) => String(line.index)}
        columns={header.map((name, j) => ({
          id: String(j),
          header: name,
          cell: (line: Line) => line.row[j] ?? '',
        }))}
      />
      {body.length > shown.length ? (
        <p class="hint">
          The first {shown.length} of {body.length} rows.
        </p>
      ) : null}
    </>
  );
}

function Viewer({ run, file }: { run: Run; file: FileInfo }) {
  const kind = kindOf(file.path);
  const viewable = kind !== 'binary' && (file.file_size ?? 0) <= VIEW_LIMIT;
  const text = useApi(
    async () => (viewable ? artifactText(run, file.path) : undefined),
    [run.info.run_id, file.path, viewable],
  );
  const [downloading, setDownloading] = useState<Error | 'busy' | undefined>();
  const save = async () => {
    setDownloading('busy');
    try {
      download(baseName(file.path), await artifactBlob(run, file.path));
      setDownloading(undefined);
    } catch (error) {
      setDownloading(error as Error);
    }
  };
  let body = null;
  if (!viewable) {
    body = (
      <p class="hint">
        {kind === 'binary' ? 'Not a text file' : `Too large to show here (${formatBytes(file.file_size)})`}:
        download it.
      </p>
    );
  } else if (text.error) body = <ErrorBox error={text.error} title="Could not read the file" />;
  else if (text.data === undefined) body = <Loading label="Reading the file" />;
  else if (kind === 'csv') body = <CsvTable text={text.data} />;
  else if (kind === 'json') {
    let pretty = text.data;
    try {
      pretty = JSON.stringify(JSON.parse(text.data), null, 2);
    } catch {
      // Shown as it is.
    }
    body = <pre class="viewer">{pretty}</pre>;
  } else body = <pre class="viewer">{text.data}</pre>;
  return (
    <div>
      <div class="card-head">
        <h3>
          <code>{file.path}</code>
        </h3>
        <button type="button" onClick={save} disabled={downloading === 'busy'}>
          {downloading === 'busy' ? 'Downloading…' : 'Download'}
        </button>
      </div>
      {downloading instanceof Error ? <ErrorBox error={downloading} title="Could not download" /> : null}
      {body}
    </div>
  );
}

/** A run's artifacts: a folder tree (each folder listed when opened) and the chosen file, viewed or downloaded. */
export function ArtifactBrowser({ run, initial }: { run: Run; initial?: string }) {
  const [chosen, setChosen] = useState<FileInfo | undefined>(
    initial ? { path: initial, is_dir: false } : undefined,
  );
  return (
    <div class="grid">
      <div>
        <Folder run={run} path={undefined} chosen={chosen} onChoose={setChosen} />
      </div>
      <div aria-live="polite">
        {chosen ? <Viewer run={run} file={chosen} /> : <p class="hint">Choose a file to see it here.</p>}
      </div>
    </div>
  );
}
