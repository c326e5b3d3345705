// Adapters: each with its lineage (base model, dataset, job, method, hyperparameters, metrics), download
// in PEFT's format, delete, and "try it": the same prompt streamed through base + adapter and the base alone.
import { useEffect, useRef, useState } from 'preact/hooks';
import { all, download, get, send, stream } from '../api.js';
import { Confirm, Empty, Field, html, number, Select, time, usePoll } from '../ui.js';

export function AdaptersPage() {
  const [adapters, error] = usePoll(() => all('/v1/adapters'), 5000);
  return html`<section aria-labelledby="adapters-title">
    <h1 id="adapters-title">Adapters</h1>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${adapters && adapters.length === 0 && html`<${Empty}>No adapters yet: a job that succeeds makes one.<//>`}
    ${adapters && adapters.length > 0 && html`<div class="table-wrap"><table class="adapters">
      <thead><tr><th scope="col">Adapter</th><th scope="col">Base model</th><th scope="col">Method</th><th scope="col">Parameters</th>
        <th scope="col">From</th><th scope="col">Created</th></tr></thead>
      <tbody>${adapters.map((a) => html`<tr key=${a.id} data-adapter=${a.id}>
        <td><a href=${`#/adapters/${a.id}`}>${a.id}</a></td><td>${a.model_id}</td><td>${a.method}</td><td>${number(a.parameters)}</td>
        <td>${a.job_id ? html`<a href=${`#/jobs/${a.job_id}`}>${a.job_id}</a>` : a.merge_id || '—'}</td><td>${time(a.created_at)}</td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}

function Lineage({ adapter }) {
  const l = adapter.lineage || {};
  const rows = [['base model', adapter.model_id], ['method', adapter.method], ['trainable parameters', number(adapter.parameters)],
    ['job', adapter.job_id ? html`<a href=${`#/jobs/${adapter.job_id}`}>${adapter.job_id}</a>` : '—'],
    ['merge', adapter.merge_id || '—'], ['seed', l.seed ?? '—'], ['created', time(adapter.created_at)]];
  const datasets = [l.training_file, l.validation_file, ...(Array.isArray(l.datasets) ? l.datasets : [])].filter(Boolean);
  return html`<div class="settings lineage">
    <dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
    ${datasets.length > 0 && html`<h3>Data</h3><ul class="datasets-used">${datasets.map((d) => html`<li>${typeof d === 'string' ? html`<code>${d}</code>`
      : html`${d.role ? `${d.role}: ` : ''}<code>${d.name || d.id || '?'}</code>${d.sha256 ? html` <small title=${d.sha256}>sha256 ${d.sha256.slice(0, 12)}…</small>` : ''}`}</li>`)}</ul>`}
    ${adapter.metrics && html`<h3>Metrics</h3><dl class="metrics">${Object.entries(adapter.metrics).map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl>`}
    <details><summary>Full lineage</summary><pre>${JSON.stringify(l, null, 2)}</pre></details>
  </div>`;
}

/** One streamed answer: chat through the model's template, or plain completion. */
function Answer({ title, text, error, busy, done, testid }) {
  return html`<div class="answer" data-answer=${testid} aria-busy=${busy ? 'true' : 'false'} data-done=${done || error ? 'true' : 'false'}>
    <h3>${title}</h3>
    <output aria-live="polite">${text}</output>
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </div>`;
}

function TryIt({ adapter }) {
  const [mode, setMode] = useState('chat');
  const [prompt, setPrompt] = useState('');
  const [maxTokens, setMaxTokens] = useState('32');
  const [temperature, setTemperature] = useState('0');
  const [answers, setAnswers] = useState({});
  const [error, setError] = useState(null);
  const running = useRef(null);
  useEffect(() => () => running.current?.abort(), []); // leaving the page stops both generations
  const run = async (e) => {
    e.preventDefault();
    if (!prompt.trim()) {
      setError('write a prompt');
      return;
    }
    setError(null);
    running.current?.abort();
    const abort = new AbortController();
    running.current = abort;
    const one = async (key, model) => {
      setAnswers((a) => ({ ...a, [key]: { text: '', busy: true } }));
      const body = { model, stream: true, max_tokens: Number(maxTokens) || 32, temperature: Number(temperature) || 0 };
      if (mode === 'chat') body.messages = [{ role: 'user', content: prompt }];
      else body.prompt = prompt;
      try {
        await stream(mode === 'chat' ? '/v1/chat/completions' : '/v1/completions', {
          method: 'POST', body, signal: abort.signal,
          onData: (chunk) => {
            const c = chunk.choices?.[0];
            const piece = mode === 'chat' ? c?.delta?.content : c?.text;
            if (piece) setAnswers((a) => ({ ...a, [key]: { ...a[key], text: a[key].text + piece } }));
          },
        });
        setAnswers((a) => ({ ...a, [key]: { ...a[key], busy: false, done: true } }));
      } catch (err) {
        if (err.name !== 'AbortError') setAnswers((a) => ({ ...a, [key]: { ...a[key], busy: false, error: err.message } }));
      }
    };
    await Promise.all([one('adapter', adapter.id), one('base', adapter.model_id)]);
  };
  return html`<section class="try-it" aria-labelledby="try-title">
    <h2 id="try-title">Try it</h2>
    <form onSubmit=${run}>
      <div class="grid">
        <${Select} label="Mode" name="mode" value=${mode} onInput=${(e) => setMode(e.target.value)}
          options=${[{ value: 'chat', label: 'chat (the model\u2019s template)' }, { value: 'plain', label: 'plain completion' }]} />
        <${Field} label="Max tokens" name="max_tokens" value=${maxTokens} onInput=${(e) => setMaxTokens(e.target.value)} inputmode="numeric" />
        <${Field} label="Temperature" name="temperature" value=${temperature} onInput=${(e) => setTemperature(e.target.value)} inputmode="decimal" />
      </div>
      <div class="field">
        <label for="prompt">Prompt</label>
        <textarea id="prompt" name="prompt" rows="3" value=${prompt} onInput=${(e) => setPrompt(e.target.value)}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? 'prompt-error' : undefined}></textarea>
        ${error && html`<small class="field-error" id="prompt-error" data-error-for="prompt" role="alert">${error}</small>`}
      </div>
      <button type="submit">Generate</button>
    </form>
    <div class="columns answers">
      <${Answer} title=${`${adapter.model_id} + ${adapter.id}`} testid="adapter" ...${answers.adapter || {}} />
      <${Answer} title=${`${adapter.model_id} alone`} testid="base" ...${answers.base || {}} />
    </div>
  </section>`;
}

export function AdapterPage({ id }) {
  const [adapter, error] = usePoll(() => get(`/v1/adapters/${encodeURIComponent(id)}`), 0, [id]);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState(null);
  if (error) return html`<h1>Adapter ${id}</h1><p class="form-error" role="alert">${error.message}</p>`;
  if (!adapter) return html`<p class="loading">Loading ${id}…</p>`;
  const remove = async () => {
    setConfirming(false);
    try {
      await send('DELETE', `/v1/adapters/${encodeURIComponent(id)}`);
      location.hash = '#/adapters';
    } catch (e) {
      setActionError(e.message);
    }
  };
  const save = () => download(`/v1/adapters/${encodeURIComponent(id)}/content?format=peft`, `${id}.tar.gz`).catch((e) => setActionError(e.message));
  return html`<section aria-labelledby="adapter-title" data-adapter=${adapter.id}>
    <div class="title-row">
      <h1 id="adapter-title">${adapter.id}</h1>
      <div class="actions">
        <button type="button" onClick=${save}>Download (PEFT directory, .tar.gz)</button>
        <a class="button" href=${`#/merges?model=${adapter.model_id}`}>Merge…</a>
        <button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button>
      </div>
    </div>
    ${actionError && html`<p class="form-error" role="alert">${actionError}</p>`}
    <${Confirm} open=${confirming} title="Delete this adapter?" confirmLabel="Delete adapter" onClose=${() => setConfirming(false)} onConfirm=${remove}>
      <p>${adapter.id} and its files are removed; models merged from it stay.</p>
    <//>
    <${Lineage} adapter=${adapter} />
    <${TryIt} adapter=${adapter} />
  </section>`;
}
