import { useEffect, useRef, useState } from 'preact/hooks';
import {
  type Access,
  currentCredentials,
  onCredentialsChange,
  onRefused,
  saveCredentials,
} from '../api/http.js';

/**
 * Credentials, asked once: when the server refuses a request for lack of the admin token or API key
 * (401), a dialog asks for them, and they are kept in sessionStorage for this tab only. Pages then load
 * again with them.
 */

const openers = new Set<(reason?: string) => void>();

export function askForCredentials(reason?: string): void {
  for (const open of openers) open(reason);
}

export function AuthDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState<string | undefined>();
  const [adminToken, setAdminToken] = useState('');
  const [apiKey, setApiKey] = useState('');
  const asked = useRef(false);

  useEffect(() => {
    const open = (why?: string) => {
      const current = currentCredentials();
      setAdminToken(current.adminToken);
      setApiKey(current.apiKey);
      setReason(why);
      if (!dialog.current?.open) dialog.current?.showModal();
    };
    openers.add(open);
    // The first refusal opens the dialog by itself; later ones show their error where they happen.
    const offRefused = onRefused((error, access: Access) => {
      if (asked.current) return;
      asked.current = true;
      open(`${error.message}${access === 'apiKey' ? ' (the API key or the admin token)' : ''}`);
    });
    return () => {
      openers.delete(open);
      offRefused();
    };
  }, []);

  const submit = (event: Event) => {
    event.preventDefault();
    saveCredentials({ adminToken: adminToken.trim(), apiKey: apiKey.trim() });
    dialog.current?.close();
  };

  return (
    <dialog ref={dialog} class="auth-dialog" aria-labelledby="auth-title">
      <form method="dialog" onSubmit={submit}>
        <h2 id="auth-title">This server asks for credentials</h2>
        {reason ? <p class="error-message">{reason}</p> : null}
        <p>
          They are kept for this browser tab only (sessionStorage) and sent with each request. The admin token
          (<code>ONSET_ADMIN_TOKEN</code>) opens everything; the API key (<code>ONSET_API_KEY</code>) only the
          predictions.
        </p>
        <label>
          Admin token
          <input
            type="password"
            autocomplete="off"
            value={adminToken}
            onInput={(event) => setAdminToken(event.currentTarget.value)}
          />
        </label>
        <label>
          API key
          <input
            type="password"
            autocomplete="off"
            value={apiKey}
            onInput={(event) => setApiKey(event.currentTarget.value)}
          />
        </label>
        <div class="buttons">
          <button type="submit" class="primary">
            Use them
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** The header's credentials control: give them, or forget them. */
export function AuthStatus() {
  const [credentials, setCredentials] = useState(currentCredentials());
  useEffect(() => onCredentialsChange(() => setCredentials(currentCredentials())), []);
  const given = credentials.adminToken !== '' || credentials.apiKey !== '';
  return given ? (
    <button type="button" class="link-button" onClick={() => saveCredentials({ adminToken: '', apiKey: '' })}>
      Forget credentials
    </button>
  ) : (
    <button type="button" class="link-button" onClick={() => askForCredentials()}>
      Credentials
    </button>
  );
}
