// Merges: adapters of one model, each with a weight, merged by a method into a new model or one LoRA —
// or with coefficients learned on calibration datasets (Expert Merging, AdaMerging), followed step by step
// and cancellable; or whole models by a mergekit configuration over registered ids; each followed to the
// end, with a link to what came out.
import { useState } from 'preact/hooks';
import { all, send } from '../api.js';
import { Empty, Field, FormError, html, Progress, Select, Status, time, usePoll } from '../ui.js';

const METHODS = [
  { value: 'linear', label: 'linear (weighted average)' },
  { value: 'task_arithmetic', label: 'task arithmetic (weighted sum)' },
  { value: 'ties', label: 'TIES (trim, elect sign, merge)' },
  { value: 'dare_linear', label: 'DARE + linear' },
  { value: 'dare_ties', label: 'DARE + TIES' },
  { value: 'expert_merging', label: 'Expert Merging (learned: match each adapter on its texts)' },
  { value: 'ada_merging', label: 'AdaMerging (learned: least entropy on shared texts)' },
];

const LEARNED = new Set(['expert_merging', 'ada_merging']);
/** Datasets a learned merge calibrates on: any supervised records, not preference pairs. */
const CALIBRATION_FORMATS = new Set(['text', 'prompt_completion', 'messages']);
/** A learned merge's settings on the form: [request field, label, the default (or the default per method)]. */
const LEARNING = [
  ['steps', 'Steps', '100'],
  ['learning_rate', 'Learning rate', { expert_merging: '0.05', ada_merging: '0.01' }],
  ['chunks', 'Chunks per module', '1: one coefficient per module and adapter'],
  ['initial_coefficient', 'Initial coefficient', { expert_merging: '0.5', ada_merging: '0.3' }],
  ['batch_size', 'Texts per step', '4'],
  ['max_seq_len', 'Tokens per text', '256'],
];
const ALIGNMENT = [
  ['temperature', 'Temperature', '1'],
  ['hidden_weight', 'Hidden-state weight', '0.1'],
  ['regularization', 'Pull toward the start', '0.1'],
];
const INTEGER = new Set(['steps', 'chunks', 'batch_size', 'max_seq_len']);

function MergeForm({ initialModel, onDone }) {
  const [models] = usePoll(() => all('/v1/models'), 0);
  const [adapters] = usePoll(() => all('/v1/adapters'), 0);
  const [files] = usePoll(() => all('/v1/files'), 0);
  const [model, setModel] = useState(initialModel || '');
  const [chosen, setChosen] = useState({}); // adapter id → weight (text), or its calibration dataset id
  const [method, setMethod] = useState('task_arithmetic');
  const [density, setDensity] = useState('0.5');
  const [seed, setSeed] = useState('');
  const [shared, setShared] = useState(''); // AdaMerging's calibration dataset
  const [learning, setLearning] = useState({}); // hyperparameter → text; empty keeps the default
  const [importance, setImportance] = useState(false);
  const [output, setOutput] = useState('model');
  const [rank, setRank] = useState('16');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  const ready = (models || []).filter((m) => !m.parent && m.status === 'ready');
  const current = model || ready.find((m) => (adapters || []).some((a) => a.model_id === m.id))?.id || ready[0]?.id || '';
  const own = (adapters || []).filter((a) => a.model_id === current);
  const learned = LEARNED.has(method);
  const perAdapter = method === 'expert_merging';
  const texts = (files || []).filter((f) => CALIBRATION_FORMATS.has(f.format));
  const datasetOptions = [{ value: '', label: '— pick a dataset —' }, ...texts.map((f) => ({ value: f.id, label: `${f.filename || f.id} (${f.id})` }))];
  const sparse = method === 'ties' || method.startsWith('dare');
  const pick = (id, on) => {
    const c = { ...chosen };
    if (on) c[id] = perAdapter ? '' : '1.0'; else delete c[id];
    setChosen(c);
  };
  const changeMethod = (next) => {
    // weights and calibration datasets are different things: a picked adapter starts over with the other
    if (LEARNED.has(next) !== learned || (next === 'expert_merging') !== perAdapter) {
      setChosen(Object.fromEntries(Object.keys(chosen).map((id) => [id, next === 'expert_merging' ? '' : '1.0'])));
    }
    setMethod(next);
  };
  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    const picked = Object.entries(chosen).filter(([id]) => own.some((a) => a.id === id));
    if (!current) found.model = 'pick a ready model';
    if (picked.length === 0) found.adapters = 'pick at least one adapter of this model';
    if (!learned) for (const [id, w] of picked) if (!/^-?\d*\.?\d+$/.test(w)) found[`weight-${id}`] = 'must be a number';
    if (perAdapter) for (const [id, d] of picked) if (!d) found[`calibration-${id}`] = 'pick the texts this adapter was made for';
    if (method === 'ada_merging' && !shared) found.calibration_file = 'pick a dataset of texts';
    if (learned) {
      for (const [field] of [...LEARNING, ...ALIGNMENT]) {
        const v = (learning[field] || '').trim();
        if (v && !(INTEGER.has(field) ? /^\d+$/.test(v) : /^\d*\.?\d+(e-?\d+)?$/i.test(v))) {
          found[field] = INTEGER.has(field) ? 'must be a whole number' : 'must be a number';
        }
      }
    }
    if (sparse && !(+density > 0 && +density <= 1)) found.density = 'must be above 0 and at most 1';
    if (output === 'adapter' && !(/^\d+$/.test(rank) && +rank >= 1)) found.rank = 'must be a whole number of at least 1';
    setErrors(found);
    setApiError(null);
    if (Object.keys(found).length) return;
    const request = { model: current, method };
    if (learned) {
      request.adapters = picked.map(([id, d]) => (perAdapter ? { id, calibration_file: d } : { id }));
      if (!perAdapter) request.calibration_file = shared;
      request.hyperparameters = {};
      for (const [field] of [...LEARNING, ...(perAdapter ? ALIGNMENT : [])]) {
        if ((learning[field] || '').trim()) request.hyperparameters[field] = Number(learning[field]);
      }
      if (perAdapter && importance) request.hyperparameters.importance_chunking = true;
      if (seed !== '') request.seed = Number(seed);
    } else {
      request.adapters = picked.map(([id, w]) => ({ id, weight: Number(w) }));
      if (sparse) request.density = Number(density);
      if (method.startsWith('dare') && seed !== '') request.seed = Number(seed);
    }
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
  /** The API's problem at adapters[i].calibration_file, or the form's own. */
  const calibrationError = (a, i) => errors[`calibration-${a.id}`]
    || (apiError?.field === `adapters[${i}].calibration_file` ? apiError.message : null);
  const learningField = ([field, label, byMethod]) => {
    const hint = typeof byMethod === 'string' ? byMethod : byMethod[method];
    return html`<${Field} label=${label} name=${field} value=${learning[field] || ''} placeholder=${hint.split(':')[0]}
      hint=${`default ${hint}`} error=${error(field)} inputmode="decimal" onInput=${(e) => setLearning({ ...learning, [field]: e.target.value })} />`;
  };
  return html`<form class="merge-form" onSubmit=${submit} novalidate aria-label="New merge">
    <h2>New merge</h2>
    <${Select} label="Model" name="model" value=${current} error=${error('model')} onInput=${(e) => { setModel(e.target.value); setChosen({}); }}
      options=${ready.length ? ready.map((m) => ({ value: m.id, label: `${m.name || m.id} (${m.id})` })) : [{ value: '', label: '—' }]} />
    <${Select} label="Method" name="method" value=${method} onInput=${(e) => changeMethod(e.target.value)} error=${error('method')} options=${METHODS} />
    <fieldset class="adapters-pick" data-field="adapters" aria-describedby=${errors.adapters || apiError?.forField('adapters') ? 'adapters-error' : undefined}>
      <legend>${learned ? (perAdapter ? 'Adapters of this model, each with the texts it was made for' : 'Adapters of this model')
        : 'Adapters of this model, with their weights'}</legend>
      ${own.length === 0 && html`<p class="empty">No adapters of this model yet.</p>`}
      ${own.map((a, i) => html`<div class="adapter-pick" key=${a.id}>
        <input type="checkbox" id=${`pick-${a.id}`} name="adapter" value=${a.id} checked=${a.id in chosen}
          onInput=${(e) => pick(a.id, e.target.checked)} />
        <label for=${`pick-${a.id}`}>${a.id} <small>${a.method}</small></label>
        ${a.id in chosen && !learned && html`<${Field} label=${`Weight of ${a.id}`} name=${`weight-${a.id}`} value=${chosen[a.id]}
          error=${errors[`weight-${a.id}`]} inputmode="decimal" onInput=${(e) => setChosen({ ...chosen, [a.id]: e.target.value })} />`}
        ${a.id in chosen && perAdapter && html`<${Select} label=${`Calibration texts of ${a.id}`} name=${`calibration-${a.id}`}
          value=${chosen[a.id]} error=${calibrationError(a, Object.keys(chosen).indexOf(a.id))} options=${datasetOptions}
          onInput=${(e) => setChosen({ ...chosen, [a.id]: e.target.value })} />`}
      </div>`)}
      ${(errors.adapters || apiError?.forField('adapters')) && html`<small class="field-error" id="adapters-error" data-error-for="adapters" role="alert">
        ${errors.adapters || apiError.forField('adapters')}</small>`}
    </fieldset>
    ${learned && html`<fieldset class="learning">
      <legend>Learning the coefficients ${perAdapter ? '(per module and adapter, on each adapter\'s own texts)' : '(on shared texts)'}</legend>
      <div class="grid">
        ${method === 'ada_merging' && html`<${Select} label="Calibration texts" name="calibration_file" value=${shared}
          error=${error('calibration_file')} options=${datasetOptions} onInput=${(e) => setShared(e.target.value)} />`}
        ${LEARNING.map(learningField)}
        ${perAdapter && ALIGNMENT.map(learningField)}
        <${Field} label="Random seed" name="seed" value=${seed} onInput=${(e) => setSeed(e.target.value)} error=${error('seed')}
          hint="orders the texts; default 0" inputmode="numeric" />
      </div>
      ${perAdapter && html`<div class="field checkbox"><input type="checkbox" id="importance-chunking" checked=${importance}
          onInput=${(e) => setImportance(e.target.checked)} />
        <label for="importance-chunking">Expert Merging++: more chunks for the layers that matter (chunks is then the average)</label></div>`}
    </fieldset>`}
    <div class="grid">
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
    <${FormError} error=${apiError} fields=${['model', 'adapters', 'method', 'density', 'seed', 'type', 'rank', 'name', 'calibration_file',
      ...[...LEARNING, ...ALIGNMENT].map(([f]) => f)]} />
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

/** A learned merge's last reported step and loss, with a bar; and a way to stop a merge not yet ended. */
function Progressing({ merge, onChange }) {
  const p = merge.progress;
  const open = merge.status === 'queued' || merge.status === 'running';
  const cancel = async () => {
    await send('POST', `/v1/merges/${merge.id}/cancel`);
    onChange();
  };
  return html`${p && html`<div class="merge-progress">
      <${Progress} value=${p.step} max=${p.steps} label=${`Steps of ${merge.id}`} />
      <small>step ${p.step}/${p.steps} · loss ${p.loss.toFixed(4)}${p.resumed_from ? ` · resumed at step ${p.resumed_from}` : ''}</small>
    </div>`}
    ${open && !merge.cancel_requested && merge.hyperparameters && html`<button type="button" class="small danger"
      aria-label=${`Cancel ${merge.id}`} onClick=${cancel}>Cancel</button>`}
    ${open && merge.cancel_requested && html`<small>stopping after this step…</small>`}`;
}

function Inputs({ merge }) {
  if (merge.config) return html`<details><summary>mergekit configuration</summary><pre>${merge.config}</pre></details>`;
  return html`${(merge.adapters || []).map((a) => html`<div><a href=${`#/adapters/${a.id}`}>${a.id}</a>${a.weight != null ? ` × ${a.weight}` : ''}${
    a.calibration_file ? html` <small>on ${a.calibration_file}</small>` : ''}</div>`)}
    ${merge.calibration_file && html`<small>on ${merge.calibration_file}</small>`}`;
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
        <td>${m.name || m.id} <small>${m.id}</small></td><td><${Status} status=${m.status} /><${Progressing} merge=${m} onChange=${reload} /></td>
        <td>${m.model}</td><td>${m.method}${m.density != null ? ` (density ${m.density})` : ''}${
          m.hyperparameters ? html` <small>${m.hyperparameters.steps} steps${m.hyperparameters.chunks > 1 ? `, ${m.hyperparameters.chunks} chunks` : ''}${
            m.hyperparameters.importance_chunking ? ', ++' : ''}</small>` : ''}</td>
        <td><${Inputs} merge=${m} /></td>
        <td><${Result} merge=${m} /></td><td>${time(m.created_at)}</td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}
