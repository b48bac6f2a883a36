/**
 * Every call the UI makes goes through `request`: the documented public APIs only (MLflow-compatible
 * tracking and registry, the pipeline API, the prediction API, `/metrics`), with the credentials the
 * user gave for this browser session, and their errors as `ApiError`s to show where they happen.
 */

/** One problem of a request that failed its schema (`errors` of a 400 answer). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  readonly reason: string;
}

/** An error answer of the server (`{error_code, message, errors?}`), or a failure to reach it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Which secret a route needs when the server has one (README "Who may call what"). */
export type Access = 'public' | 'apiKey' | 'admin';

/** The secrets kept for this browser tab only (sessionStorage), never in localStorage or a cookie. */
export interface Credentials {
  readonly adminToken: string;
  readonly apiKey: string;
}

const STORAGE_KEY = 'onset.credentials';

export function loadCredentials(): Credentials {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Credentials>;
    return { adminToken: stored.adminToken ?? '', apiKey: stored.apiKey ?? '' };
  } catch {
    return { adminToken: '', apiKey: '' };
  }
}

let credentials = loadCredentials();
const credentialListeners = new Set<() => void>();
const refusalListeners = new Set<(error: ApiError, access: Access) => void>();

export function currentCredentials(): Credentials {
  return credentials;
}

export function saveCredentials(next: Credentials): void {
  credentials = next;
  if (next.adminToken || next.apiKey) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(STORAGE_KEY);
  for (const listener of credentialListeners) listener();
}

/** Called when the credentials change (pages reload their data). */
export function onCredentialsChange(listener: () => void): () => void {
  credentialListeners.add(listener);
  return () => credentialListeners.delete(listener);
}

/** Called when the server refuses a request for lack of credentials (401): the UI asks for them. */
export function onRefused(listener: (error: ApiError, access: Access) => void): () => void {
  refusalListeners.add(listener);
  return () => refusalListeners.delete(listener);
}

function authHeaders(access: Access): Record<string, string> {
  const headers: Record<string, string> = {};
  if (access === 'public') return headers;
  if (credentials.adminToken) headers.authorization = `Bearer ${credentials.adminToken}`;
  if (access === 'apiKey' && credentials.apiKey) headers['x-api-key'] = credentials.apiKey;
  return headers;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  readonly query?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  readonly body?: unknown;
  readonly access?: Access;
  readonly signal?: AbortSignal;
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The answer of a request, read as JSON (or text, when the server answers text); errors throw. */
async function send(path: string, options: RequestOptions, accept: string): Promise<Response> {
  const access = options.access ?? 'admin';
  const headers: Record<string, string> = { accept, ...authHeaders(access) };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(
      0,
      'UNREACHABLE',
      `The server did not answer (${(error as Error).message}). Is Onset running?`,
    );
  }
  if (response.ok) return response;
  let code = 'HTTP_ERROR';
  let message = `${response.status} ${response.statusText}`;
  let problems: FieldProblem[] = [];
  try {
    const answer = (await response.json()) as {
      error_code?: string;
      message?: string;
      errors?: FieldProblem[];
    };
    code = answer.error_code ?? code;
    message = answer.message ?? message;
    problems = answer.errors ?? [];
  } catch {
    // Not JSON: the status line says it.
  }
  const error = new ApiError(response.status, code, message, problems);
  if (response.status === 401) for (const listener of refusalListeners) listener(error, access);
  throw error;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options, 'application/json');
  return (await response.json()) as T;
}

export async function requestText(path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send(path, options, 'text/plain, */*');
  return response.text();
}

export async function requestBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await send(path, options, '*/*');
  return response.blob();
}
