import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/http.js';
import { askForCredentials } from './auth.js';

/** An error where it happened: the server's message, its code, and each field problem it named. */
export function ErrorBox({ error, title }: { error: Error | undefined; title?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      <strong>{title ?? 'Error'}</strong>
      {api && api.status > 0 ? (
        <span class="error-code">
          {' '}
          ({api.status} {api.code})
        </span>
      ) : null}
      <p class="error-message">{error.message}</p>
      {api && api.problems.length > 0 ? (
        <ul>
          {api.problems.map((problem) => (
            <li key={`${problem.field}:${problem.reason}`}>
              <code>{problem.field}</code>: {problem.message}
            </li>
          ))}
        </ul>
      ) : null}
      {api?.status === 401 ? (
        <button type="button" onClick={() => askForCredentials()}>
          Enter the token
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label}…
    </p>
  );
}

/** A section of a page with its heading; `id` makes it a link target. */
export function Section({
  title,
  id,
  actions,
  children,
}: {
  title: ComponentChildren;
  id?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-title` : undefined} id={id}>
      <div class="card-head">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A label for a status (run, pipeline, stage), coloured by what it means, with the word itself. */
export function Status({ value }: { value: string }) {
  const tone = /^(FINISHED|SUCCEEDED|READY|Production)$/.test(value)
    ? 'good'
    : /^(FAILED|KILLED|FAILED_REGISTRATION)$/.test(value)
      ? 'bad'
      : /^(RUNNING|SCHEDULED|PENDING_REGISTRATION|Staging)$/.test(value)
        ? 'busy'
        : 'neutral';
  return <span class={`status status-${tone}`}>{value}</span>;
}

/** Key-value pairs as a description list. */
export function Facts({ items }: { items: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="facts">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value === '' || value === null || value === undefined ? '—' : value}</dd>
        </div>
      ))}
    </dl>
  );
}
