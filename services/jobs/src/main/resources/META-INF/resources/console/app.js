// The web console: a single page over the public API. Routes are the URL's fragment (#/jobs/ftjob-…),
// so the server serves one file and a reload keeps the page.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, session } from './api.js';
import { html } from './ui.js';
import { JobsPage } from './pages/jobs.js';
import { JobPage } from './pages/job.js';
import { NewJobPage } from './pages/new-job.js';
import { DatasetsPage } from './pages/datasets.js';
import { ModelsPage } from './pages/models.js';
import { AdaptersPage, AdapterPage } from './pages/adapters.js';
import { MergesPage } from './pages/merges.js';
import { KeysPage } from './pages/keys.js';

const NAV = [
  ['#/jobs', 'Jobs'],
  ['#/new-job', 'New job'],
  ['#/datasets', 'Datasets'],
  ['#/models', 'Models'],
  ['#/adapters', 'Adapters'],
  ['#/merges', 'Merges'],
];

/** #/page/id?query → {page, id, query}. */
function route(hash) {
  const [path, search] = (hash || '#/jobs').replace(/^#\/?/, '').split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { page: parts[0] || 'jobs', id: parts[1] || null, query: new URLSearchParams(search || '') };
}

function useRoute() {
  const [r, setR] = useState(route(location.hash));
  useEffect(() => {
    const on = () => setR(route(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

function Login({ onLogin }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.login(key.trim());
    try {
      await get('/v1/fine_tuning/jobs?limit=1');
      onLogin();
    } catch (err) {
      session.logout();
      setError(err.status === 401 ? 'This key is not known: paste a key printed by ./peft up or made by an admin.' : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login">
    <h1>PEFT Platform</h1>
    <form onSubmit=${submit} aria-label="Log in">
      <div class="field">
        <label for="api-key">API key</label>
        <input id="api-key" name="api_key" type="password" autocomplete="off" required value=${key}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? 'api-key-error' : undefined}
          onInput=${(e) => setKey(e.target.value)} />
        ${error && html`<small class="field-error" id="api-key-error" data-error-for="api_key" role="alert">${error}</small>`}
        <small class="hint">Kept in this tab only (session storage) until you log out.</small>
      </div>
      <button type="submit" disabled=${busy}>Log in</button>
    </form>
  </main>`;
}

function Shell({ admin, onLogout, children, current }) {
  const items = admin ? [...NAV, ['#/keys', 'Keys']] : NAV;
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header>
      <a class="brand" href="#/jobs">PEFT Platform</a>
      <nav aria-label="Pages"><ul>
        ${items.map(([href, label]) => html`<li><a href=${href} aria-current=${href.slice(2) === current ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
      <button type="button" class="logout" onClick=${onLogout}>Log out</button>
    </header>
    <main id="main" tabindex="-1">${children}</main>
  </div>`;
}

function App() {
  const [loggedIn, setLoggedIn] = useState(!!session.key());
  const [admin, setAdmin] = useState(false);
  const r = useRoute();
  useEffect(() => {
    const out = () => {
      session.logout(); // a revoked key is not tried again on reload
      setLoggedIn(false);
    };
    addEventListener('peft:unauthorized', out);
    return () => removeEventListener('peft:unauthorized', out);
  }, []);
  useEffect(() => {
    if (!loggedIn) return;
    get('/v1/api-keys').then(() => setAdmin(true), () => setAdmin(false)); // 403 for others
  }, [loggedIn]);
  useEffect(() => {
    document.title = `${r.page.replace('-', ' ')} · PEFT Platform`;
  }, [r.page]);
  if (!loggedIn) return html`<${Login} onLogin=${() => setLoggedIn(true)} />`;
  const logout = () => {
    session.logout();
    setLoggedIn(false);
    setAdmin(false);
    location.hash = '#/jobs';
  };
  const pages = {
    jobs: () => (r.id ? html`<${JobPage} key=${r.id} id=${r.id} />` : html`<${JobsPage} />`),
    'new-job': () => html`<${NewJobPage} query=${r.query} />`,
    datasets: () => html`<${DatasetsPage} />`,
    models: () => html`<${ModelsPage} />`,
    adapters: () => (r.id ? html`<${AdapterPage} key=${r.id} id=${r.id} />` : html`<${AdaptersPage} />`),
    merges: () => html`<${MergesPage} query=${r.query} />`,
    keys: () => html`<${KeysPage} />`,
  };
  const page = pages[r.page] || (() => html`<h1>Not found</h1><p>No page <code>${r.page}</code>. <a href="#/jobs">Jobs</a></p>`);
  return html`<${Shell} admin=${admin} onLogout=${logout} current=${r.page}>${page()}<//>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "loading" line
render(html`<${App} />`, root);
