import type { ComponentType } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { AuthDialog, AuthStatus } from './components/auth.js';
import { ComparePage } from './pages/compare.js';
import { ExperimentPage, ExperimentsPage } from './pages/experiments.js';
import { ModelPage, ModelsPage, VersionPage } from './pages/models.js';
import { MonitoringPage } from './pages/monitoring.js';
import { NotFoundPage } from './pages/not-found.js';
import { OverviewPage } from './pages/overview.js';
import { PipelinePage, PipelineRunPage, PipelinesPage } from './pages/pipelines.js';
import { RunPage } from './pages/run.js';
import { ScorePage } from './pages/score.js';
import { Link, match, useLocation } from './router.js';

type Params = Readonly<Record<string, string>>;

interface Route {
  readonly pattern: string;
  readonly title: (params: Params) => string;
  readonly page: ComponentType<{ params: Params }>;
}

/**
 * Every page and its URL. The server answers each of these paths with the UI's index page (see
 * src/server/web-ui.ts, `UI_PAGES` and `UI_DEEP_PAGES`), so a deep link loads directly.
 */
const ROUTES: readonly Route[] = [
  { pattern: '/', title: () => 'Overview', page: OverviewPage },
  { pattern: '/experiments', title: () => 'Experiments', page: ExperimentsPage },
  { pattern: '/experiments/:id', title: () => 'Experiment', page: ExperimentPage },
  { pattern: '/runs/:id', title: () => 'Run', page: RunPage },
  { pattern: '/compare', title: () => 'Compare runs', page: ComparePage },
  { pattern: '/models', title: () => 'Models', page: ModelsPage },
  { pattern: '/models/:name', title: (p) => p.name ?? 'Model', page: ModelPage },
  {
    pattern: '/models/:name/versions/:version',
    title: (p) => `${p.name} v${p.version}`,
    page: VersionPage,
  },
  { pattern: '/score', title: () => 'Predict', page: ScorePage },
  { pattern: '/pipelines', title: () => 'Pipelines', page: PipelinesPage },
  { pattern: '/pipelines/:name', title: (p) => p.name ?? 'Pipeline', page: PipelinePage },
  { pattern: '/pipeline-runs/:id', title: () => 'Pipeline run', page: PipelineRunPage },
  { pattern: '/monitoring', title: () => 'Monitoring', page: MonitoringPage },
];

const NAV = [
  { href: '/', label: 'Overview', section: /^\/$/ },
  { href: '/experiments', label: 'Experiments', section: /^\/(experiments|runs|compare)/ },
  { href: '/models', label: 'Models', section: /^\/models/ },
  { href: '/score', label: 'Predict', section: /^\/score/ },
  { href: '/pipelines', label: 'Pipelines', section: /^\/pipeline/ },
  { href: '/monitoring', label: 'Monitoring', section: /^\/monitoring/ },
] as const;

function resolve(path: string): { route: Route | undefined; params: Params } {
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (params) return { route, params };
  }
  return { route: undefined, params: {} };
}

export function App() {
  const location = useLocation();
  const { route, params } = resolve(location.path);
  const title = route ? route.title(params) : 'Not found';
  const first = useRef(true);
  useEffect(() => {
    document.title = `${title} · Onset`;
  }, [title]);
  useEffect(() => {
    // A page changed in place: move the focus to its content, as a page load would for a screen reader
    // (not on the first load, where the browser starts at the top and the skip link comes first).
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus({ preventScroll: true });
  }, [location.path]);
  const Page = route?.page ?? NotFoundPage;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <Link href="/" class="brand" aria-label="Onset overview">
          Onset
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => {
              const current = item.section.test(location.path);
              return (
                <li key={item.href}>
                  <Link href={item.href} aria-current={current ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="top-end">
          <a href="/docs">API docs</a>
          <AuthStatus />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page key={location.path} params={params} />
      </main>
      <AuthDialog />
    </>
  );
}
