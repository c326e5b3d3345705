// Merges: adapters of one model, each with a weight, merged by a method into a new model or one LoRA;
// or whole models by a mergekit configuration over registered ids; followed to the end, with a link to
// what came out.
import { useState } from 'preact/hooks';
import { all, send } from '../api.js';
import { Empty, Field, FormError, html, Select, Status, time, usePoll } from '../ui.js';

const METHODS = [
  { value: 'linear', label: 'linear (weighted average)' },
  { value: 'task_arithmetic', label: 'task arithmetic (weighted sum)' },
  { value: 'ties', label: 'TIES (trim, elect sign, merge)' },
  { value: 'dare_linear', label: 'DARE + linear' },
  { value: 'dare_ties', label: 'DARE + TIES' },
];

function MergeForm({ initialModel, onDone }) {
  const [models] = usePoll(() => all('/v1/models'), 0);
  const [adapters] = usePoll(() => all('/v1/adapters'), 0);
  const [model, setModel] = useState(initialModel || '');
  const [chosen, setChosen] = useState({}); // adapter id → weight (text)
  const [method, setMethod] = useState('task_arithmetic');
  const [density, setDensity] = useState('0.5');
  const [seed, setSeed] = useState('');
  const [output, setOutput] = useState('model');
  const [rank, setRank] = useState('16');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  const ready = (models || []).filter((m) => !m.parent && m.status === 'ready');
  const current = model || ready.find((m) => (adapters || []).some((a) => a.model_id === m.id))?.id || ready[0]?.id || '';
  const own = (adapters || []).filter((a) => a.model_id === current);
  const sparse = method === 'ties' || method.startsWith('dare');
  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    const picked = Object.entries(chosen).filter(([id]) => own.some((a) => a.id === id));
    if (!current) found.model = 'pick a ready model';
    if (picked.length === 0) found.adapters = 'pick at least one adapter of this model';
    for (const [id, w] of picked) if (!/^-?\d*\.?\d+$/.test(w)) found[`weight-${id}`] = 'must be a number';
    if (sparse && !(+density > 0 && +density <= 1)) found.density = 'must be above 0 and at most 1';
    if (output === 'adapter' && !(/^\d+$/.test(rank) && +rank >= 1)) found.rank = 'must be a whole number of at least 1';
    setErrors(found);
    setApiError(null);
    if (Object.keys(found).length) return;
    const request = { model: current, adapters: picked.map(([id, w]) => ({ id, weight: Number(w) })), method };
    if (sparse) request.density = Number(density);
    if (method.startsWith('dare') && seed !== '') request.seed = Number(seed);
    request.output = output === 'adapter' ? { type: 'adapter', rank: Number(rank) } : { type: 'model' };
    if (name) request.name = name;
    try {
      await send('POST', '/v1/merges', request);
      setChosen({});
      onDone();
    } catch (err) {
      setApiError(err);
    }
  };
  const error = (n) => errors[n] || apiError;
  return html`<form class="merge-form" onSubmit=${submit} novalidate aria-label="New merge">
    <h2>New merge</h2>
    <${Select} label="Model" name="model" value=${current} error=${error('model')} onInput=${(e) => { setModel(e.target.value); setChosen({}); }}
      options=${ready.length ? ready.map((m) => ({ value: m.id, label: `${m.name || m.id} (${m.id})` })) : [{ value: '', label: '—' }]} />
    <fieldset class="adapters-pick" data-field="adapters" aria-describedby=${errors.adapters || apiError?.forField('adapters') ? 'adapters-error' : undefined}>
      <legend>Adapters of this model, with their weights</legend>
      ${own.length === 0 && html`<p class="empty">No adapters of this model yet.</p>`}
      ${own.map((a) => html`<div class="adapter-pick" key=${a.id}>
        <input type="checkbox" id=${`pick-${a.id}`} name="adapter" value=${a.id} checked=${a.id in chosen}
          onInput=${(e) => { const c = { ...chosen }; if (e.target.checked) c[a.id] = '1.0'; else delete c[a.id]; setChosen(c); }} />
        <label for=${`pick-${a.id}`}>${a.id} <small>${a.method}</small></label>
        ${a.id in chosen && html`<${Field} label=${`Weight of ${a.id}`} name=${`weight-${a.id}`} value=${chosen[a.id]} error=${errors[`weight-${a.id}`]}
          inputmode="decimal" onInput=${(e) => setChosen({ ...chosen, [a.id]: e.target.value })} />`}
      </div>`)}
      ${(errors.adapters || apiError?.forField('adapters')) && html`<small class="field-error" id="adapters-error" data-error-for="adapters" role="alert">
        ${errors.adapters || apiError.forField('adapters')}</small>`}
    </fieldset>
    <div class="grid">
      <${Select} label="Method" name="method" value=${method} onInput=${(e) => setMethod(e.target.value)} error=${error('method')} options=${METHODS} />
      ${sparse && html`<${Field} label="Density" name="density" value=${density} onInput=${(e) => setDensity(e.target.value)} error=${error('density')}
        hint="the share of each task vector kept" inputmode="decimal" />`}
      ${method.startsWith('dare') && html`<${Field} label="Seed" name="seed" value=${seed} onInput=${(e) => setSeed(e.target.value)}
        error=${error('seed')} hint="DARE's random drop; empty: random" inputmode="numeric" />`}
      <${Select} label="Output" name="output" value=${output} onInput=${(e) => setOutput(e.target.value)} error=${error('type')}
        options=${[{ value: 'model', label: 'a new model (weights merged in)' }, { value: 'adapter', label: 'one LoRA adapter' }]} />
      ${output === 'adapter' && html`<${Field} label="LoRA rank" name="rank" value=${rank} onInput=${(e) => setRank(e.target.value)}
        error=${error('rank')} inputmode="numeric" />`}
      <${Field} label="Name" name="name" value=${name} onInput=${(e) => setName(e.target.value)} error=${error('name')} hint="optional" />
    </div>
    <${FormError} error=${apiError} fields=${['model', 'adapters', 'method', 'density', 'seed', 'type', 'rank', 'name']} />
    <button type="submit">Merge</button>
  </form>`;
}

const EXAMPLE = `merge_method: slerp
base_model: model-…
models:
  - model: model-…
  - model: model-…+adapter-…   # an adapter folded in first
parameters:
  t: [0, 0.5, 1]              # a gradient over the layers`;

/** Whole models merged by mergekit's YAML (docs/merging.md), naming registered model and adapter ids. */
function ConfigForm({ onDone }) {
  const [config, setConfig] = useState('');
  const [seed, setSeed] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    if (!config.trim()) found.config = 'paste a mergekit configuration';
    if (seed !== '' && !/^\d+$/.test(seed)) found.seed = 'must be a whole number';
    setErrors(found);
    setApiError(null);
    if (Object.keys(found).length) return;
    const request = { config };
    if (seed !== '') request.seed = Number(seed);
    if (name) request.name = name;
    try {
      await send('POST', '/v1/merges', request);
      setConfig('');
      onDone();
    } catch (err) {
      setApiError(err);
    }
  };
  const error = (n) => errors[n] || apiError;
  return html`<details class="merge-config">
    <summary>Merge whole models by a mergekit configuration</summary>
    <form onSubmit=${submit} novalidate aria-label="New mergekit merge">
      <${Field} label="Configuration (mergekit YAML)" name="config" error=${error('config')}
          hint="linear, task_arithmetic, ties, dare_*, breadcrumbs*, della*, slerp, nuslerp, model_stock, passthrough">${(a) => html`
        <textarea id=${a.id} name="config" data-field="config" rows="10" spellcheck="false" placeholder=${EXAMPLE}
          aria-invalid=${a['aria-invalid']} aria-describedby=${a['aria-describedby']} value=${config}
          onInput=${(e) => setConfig(e.target.value)}></textarea>`}<//>
      <div class="grid">
        <${Field} label="Random seed" name="seed" value=${seed} onInput=${(e) => setSeed(e.target.value)} error=${error('seed')}
          hint="DARE's and DELLA's random drops" inputmode="numeric" />
        <${Field} label="Merged model's name" name="name" value=${name} onInput=${(e) => setName(e.target.value)} error=${error('name')}
          hint="optional" />
      </div>
      <${FormError} error=${apiError} fields=${['config', 'seed', 'name']} />
      <button type="submit">Merge models</button>
    </form>
  </details>`;
}

function Result({ merge }) {
  if (merge.status !== 'succeeded' || !merge.output_id) return merge.error ? html`<span class="field-error">${merge.error.message}</span>` : '—';
  return merge.output_type === 'adapter'
    ? html`<a href=${`#/adapters/${merge.output_id}`}>${merge.output_id}</a>`
    : html`<a href="#/models">${merge.output_id}</a> · <a href=${`#/new-job?model=${merge.output_id}`}>tune it</a>`;
}

export function MergesPage({ query }) {
  const [merges, error, reload] = usePoll(() => all('/v1/merges'), 2000);
  return html`<section aria-labelledby="merges-title">
    <h1 id="merges-title">Merges</h1>
    <${MergeForm} initialModel=${query?.get('model')} onDone=${reload} />
    <${ConfigForm} onDone=${reload} />
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${merges && merges.length === 0 && html`<${Empty}>No merges yet.<//>`}
    ${merges && merges.length > 0 && html`<div class="table-wrap"><table class="merges">
      <thead><tr><th scope="col">Merge</th><th scope="col">Status</th><th scope="col">Model</th><th scope="col">Method</th>
        <th scope="col">Adapters</th><th scope="col">Result</th><th scope="col">Created</th></tr></thead>
      <tbody>${merges.map((m) => html`<tr key=${m.id} data-merge=${m.id}>
        <td>${m.name || m.id} <small>${m.id}</small></td><td><${Status} status=${m.status} /></td><td>${m.model}</td>
        <td>${m.method}${m.density != null ? ` (density ${m.density})` : ''}</td>
        <td>${m.config ? html`<details><summary>mergekit configuration</summary><pre>${m.config}</pre></details>`
          : (m.adapters || []).map((a) => html`<div><a href=${`#/adapters/${a.id}`}>${a.id}</a> × ${a.weight}</div>`)}</td>
        <td><${Result} merge=${m} /></td><td>${time(m.created_at)}</td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}
