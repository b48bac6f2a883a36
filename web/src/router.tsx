import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * Client-side routing over the History API: every page has a URL (the server answers the UI's paths
 * with its index page), links are real `<a href>`s (open in a new tab, copy, middle-click), and a click
 * on one changes the page without a reload.
 */

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

/** Goes to `url` (a path with its query) as a link would; `replace` keeps the history entry. */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (url === currentUrl()) return;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notify();
  if (!options.replace) window.scrollTo(0, 0);
}

function currentUrl(): string {
  return `${location.pathname}${location.search}`;
}

export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

/** The current location; the component re-renders when it changes. */
export function useLocation(): Location {
  const [, setUrl] = useState(currentUrl());
  useEffect(() => {
    const listener = () => setUrl(currentUrl());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** A URL with its query parameters (empty ones left out). */
export function urlWith(path: string, query: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Changes some query parameters of the current page (in place: no new history entry). */
export function setQuery(changes: Readonly<Record<string, string | undefined>>): void {
  const query = Object.fromEntries(new URLSearchParams(location.search));
  navigate(urlWith(location.pathname, { ...query, ...changes }), { replace: true });
}

/** A pattern such as `/runs/:id` matched against a path: the decoded parameters, or undefined. */
export function match(pattern: string, path: string): Readonly<Record<string, string>> | undefined {
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part === '*') {
        names.push('rest');
        return '(.*)';
      }
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const found = new RegExp(`^${source}/?$`).exec(path);
  if (!found) return undefined;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1] ?? '')]));
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

/** An `<a>` that changes the page in place on a plain click (modified clicks keep the browser's meaning). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
