// Keys (admins): a tenant's new key, shown once; every key (never its secret); revoke.
import { useState } from 'preact/hooks';
import { all, send } from '../api.js';
import { Confirm, Field, FormError, html, time, usePoll } from '../ui.js';

export function KeysPage() {
  const [keys, error, reload] = usePoll(() => all('/v1/api-keys'), 0);
  const [tenant, setTenant] = useState('');
  const [name, setName] = useState('');
  const [admin, setAdmin] = useState(false);
  const [created, setCreated] = useState(null);
  const [apiError, setApiError] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    setApiError(null);
    setCreated(null);
    try {
      setCreated(await send('POST', '/v1/api-keys', { tenant: tenant.trim(), name: name || undefined, admin: admin || undefined }));
      setName('');
      reload();
    } catch (err) {
      setApiError(err);
    }
  };
  const revoke = async () => {
    const id = revoking;
    setRevoking(null);
    try {
      await send('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
      reload();
    } catch (err) {
      setApiError(err);
    }
  };
  return html`<section aria-labelledby="keys-title">
    <h1 id="keys-title">API keys</h1>
    ${error && html`<p class="form-error" role="alert">${error.status === 403 ? 'Only admins manage keys.' : error.message}</p>`}
    <form class="key-form" onSubmit=${create} aria-label="Create a key" novalidate>
      <div class="grid">
        <${Field} label="Tenant" name="tenant" value=${tenant} onInput=${(e) => setTenant(e.target.value)} error=${apiError} required
          hint="lower-case letters, digits and -; a tenant sees only its own jobs, files, models and adapters" />
        <${Field} label="Key name" name="name" value=${name} onInput=${(e) => setName(e.target.value)} error=${apiError} hint="optional: who or what uses it" />
        <div class="field checkbox"><input type="checkbox" id="key-admin" name="admin" checked=${admin} onInput=${(e) => setAdmin(e.target.checked)} />
          <label for="key-admin">Admin (manages keys)</label></div>
      </div>
      <${FormError} error=${apiError} fields=${['tenant', 'name']} />
      <button type="submit">Create key</button>
    </form>
    ${created && html`<div class="created-key" role="status">
      <p>The key of <strong>${created.tenant}</strong> — copy it now, it is not shown again:</p>
      <pre><code class="secret">${created.key}</code></pre>
    </div>`}
    ${keys && html`<div class="table-wrap"><table class="keys">
      <thead><tr><th scope="col">Key</th><th scope="col">Tenant</th><th scope="col">Name</th><th scope="col">Admin</th><th scope="col">Created</th>
        <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${keys.map((k) => html`<tr key=${k.id} data-key=${k.id}><td><code>${k.id}</code></td><td>${k.tenant}</td><td>${k.name || '—'}</td>
        <td>${k.admin ? 'yes' : ''}</td><td>${time(k.created_at)}</td>
        <td><button type="button" class="danger small" aria-label=${`revoke ${k.id}`} onClick=${() => setRevoking(k.id)}>Revoke</button></td></tr>`)}
      </tbody></table></div>`}
    <${Confirm} open=${!!revoking} title="Revoke this key?" confirmLabel="Revoke key" onClose=${() => setRevoking(null)} onConfirm=${revoke}>
      <p>Requests with ${revoking} are refused from now on (other replicas within 5 s).</p>
    <//>
  </section>`;
}
