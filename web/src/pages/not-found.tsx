import { Link, useLocation } from '../router.js';

export function NotFoundPage() {
  const location = useLocation();
  return (
    <div class="card">
      <h1>No such page</h1>
      <p>
        Nothing lives at <code>{location.path}</code>. Start from the <Link href="/">overview</Link>, or read
        the <a href="/docs">API docs</a>.
      </p>
    </div>
  );
}
