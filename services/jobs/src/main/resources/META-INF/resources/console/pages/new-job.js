// New job: ready models and datasets, the adapter method with its own settings, hyperparameters with
// their defaults; checked here before it is sent, and the API's refusals shown at the field they name.
import { useMemo, useState } from 'preact/hooks';
import { all, send } from '../api.js';
import { commands } from '../commands.js';
import { Field, FormError, html, Select, usePoll } from '../ui.js';

const METHODS = {
  lora: { label: 'LoRA', fields: ['rank', 'alpha', 'dropout', 'target_modules', 'use_rslora'] },
  dora: { label: 'DoRA (weight-decomposed LoRA)', fields: ['rank', 'alpha', 'dropout', 'target_modules', 'use_rslora'] },
  nola: { label: 'NOLA (random bases)', fields: ['rank', 'alpha', 'dropout', 'target_modules', 'num_bases'] },
  kronecker: { label: 'Kronecker (LoKr)', fields: ['rank', 'alpha', 'dropout', 'target_modules', 'factor'] },
};

const OBJECTIVES = {
  supervised: { label: 'Supervised (learn the answers)', formats: (f) => !PREFERENCE_FORMATS.includes(f) },
  dpo: { label: 'DPO (prefer the chosen answers)', formats: (f) => PREFERENCE_FORMATS.includes(f), beta: '0.1' },
  simpo: { label: 'SimPO (prefer the chosen answers, no reference model)', formats: (f) => PREFERENCE_FORMATS.includes(f), beta: '2' },
  orpo: { label: 'ORPO (learn and prefer the chosen answers, no reference model)', formats: (f) => PREFERENCE_FORMATS.includes(f),
    beta: '0.1' },
};
// The settings each objective has beside the common ones.
const OBJECTIVE_FIELDS = { supervised: [], dpo: ['beta'], simpo: ['beta', 'gamma'], orpo: ['beta'] };
const PREFERENCE_FORMATS = ['preference', 'prompt_chosen_rejected'];

// The API's defaults (JobRequest.resolve), shown filled in.
const DEFAULTS = {
  objective: 'supervised', beta: '', gamma: '0.5', packing: false,
  rank: '8', alpha: '', dropout: '0', target_modules: 'all-linear', use_rslora: false, num_bases: '64', factor: '-1',
  n_epochs: '3', batch_size: '8', learning_rate: '0.0002', max_steps: '', gradient_accumulation_steps: '1', warmup_steps: '0',
  lr_scheduler: 'linear', precision: 'fp32', max_seq_len: '1024', weight_decay: '0', checkpoint_every: '', eval_every: '', suffix: '', seed: '',
};

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i;

/**
 * The form's own checks, before anything is sent: what is required, and that numbers are numbers. The
 * ranges are the API's to decide (CreateJobRequest, once); its refusals name the field and show there.
 */
function validate(v) {
  const errors = {};
  if (!v.model) errors.model = 'pick a ready model';
  if (!v.training_file) errors.training_file = 'pick a training dataset';
  const whole = ['rank', 'num_bases', 'factor', 'n_epochs', 'batch_size', 'max_steps', 'gradient_accumulation_steps', 'warmup_steps',
    'max_seq_len', 'checkpoint_every', 'eval_every', 'seed'];
  const numbers = ['alpha', 'dropout', 'learning_rate', 'weight_decay', ...OBJECTIVE_FIELDS[v.objective]];
  const applies = (name) => !['num_bases', 'factor'].includes(name) || METHODS[v.type].fields.includes(name);
  for (const name of whole) if (applies(name) && v[name] !== '' && !INTEGER.test(v[name])) errors[name] = 'must be a whole number';
  for (const name of numbers) if (applies(name) && v[name] !== '' && !NUMBER.test(v[name])) errors[name] = 'must be a number';
  return errors;
}

/** The API's request from the form: what is left empty takes the API's default. */
function requestFrom(v) {
  const n = (name) => (v[name] === '' ? undefined : Number(v[name]));
  const adapter = { type: v.type };
  for (const f of METHODS[v.type].fields) {
    if (f === 'use_rslora') {
      if (v.use_rslora) adapter.use_rslora = true;
    } else if (f === 'target_modules') {
      const t = v.target_modules.split(',').map((s) => s.trim()).filter(Boolean);
      if (t.length) adapter.target_modules = t.length === 1 && t[0] === 'all-linear' ? 'all-linear' : t;
    } else if (n(f) !== undefined) adapter[f] = n(f);
  }
  const hyperparameters = {};
  for (const f of ['n_epochs', 'batch_size', 'learning_rate', 'max_steps', 'gradient_accumulation_steps', 'warmup_steps', 'max_seq_len',
    'weight_decay', 'checkpoint_every', 'eval_every']) if (n(f) !== undefined) hyperparameters[f] = n(f);
  if (v.lr_scheduler) hyperparameters.lr_scheduler = v.lr_scheduler;
  if (v.precision === 'bf16') hyperparameters.precision = 'bf16';
  for (const f of OBJECTIVE_FIELDS[v.objective]) if (n(f) !== undefined) hyperparameters[f] = n(f);
  if (v.objective === 'supervised' && v.packing) hyperparameters.packing = true;
  const request = { model: v.model, training_file: v.training_file };
  if (v.validation_file) request.validation_file = v.validation_file;
  request.adapter = adapter;
  request.method = { type: v.objective, [v.objective]: { hyperparameters } };
  if (v.seed !== '') request.seed = Number(v.seed);
  if (v.suffix) request.suffix = v.suffix;
  return request;
}

const LABELS = {
  rank: 'Rank (r)', alpha: 'Alpha', dropout: 'Dropout', target_modules: 'Target modules', num_bases: 'Random bases per factor',
  factor: 'Kronecker factor', n_epochs: 'Epochs', batch_size: 'Batch size', learning_rate: 'Learning rate', max_steps: 'Max steps',
  gradient_accumulation_steps: 'Gradient accumulation steps', warmup_steps: 'Warm-up steps', max_seq_len: 'Max sequence length',
  weight_decay: 'Weight decay', checkpoint_every: 'Checkpoint every (steps)', eval_every: 'Validate every (steps)', seed: 'Seed',
  suffix: 'Suffix', beta: 'Beta (β)', gamma: 'Target margin (γ)',
};
const HINTS = {
  alpha: 'default 2 × rank', target_modules: 'all-linear, or e.g. q_proj,v_proj', factor: '-1: near the square root',
  max_steps: 'empty: the epochs decide', checkpoint_every: 'empty: ten in the run; 0: none',
  eval_every: 'empty: each epoch; 0: only at the end', seed: 'empty: random', use_rslora: 'scale by alpha/√rank',
  beta: 'DPO: larger keeps the adapter closer to the base model; SimPO: the reward\'s scale; ORPO: the odds ratio\'s weight (λ); empty: the default shown', gamma: 'the reward margin SimPO aims for', packing: 'several examples to a row: less padding, the same loss',
};

export function NewJobPage({ query }) {
  const [models] = usePoll(() => all('/v1/models'), 0);
  const [files] = usePoll(() => all('/v1/files'), 0);
  const [v, setV] = useState({ type: 'lora', model: query?.get('model') || '', training_file: '', validation_file: '', ...DEFAULTS });
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  const [busy, setBusy] = useState(false);
  const ready = (models || []).filter((m) => !m.parent && m.status === 'ready');
  const datasets = (files || []).filter((f) => f.status === 'processed' && OBJECTIVES[v.objective].formats(f.format));
  const set = (name) => (e) => setV({ ...value, [name]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  // A model named by the link (?model=, e.g. a merge's result) is taken once it is ready.
  const model = ready.some((m) => m.id === v.model) ? v.model : ready[0]?.id || '';
  // Only datasets of the objective's kind are offered: a choice of the other kind gives way to the first offered.
  const training = datasets.some((f) => f.id === v.training_file) ? v.training_file : datasets[0]?.id || '';
  const validation = datasets.some((f) => f.id === v.validation_file) ? v.validation_file : '';
  const value = { ...v, model, training_file: training, validation_file: validation };
  const waitingFor = v.model && models && !ready.some((m) => m.id === v.model) ? v.model : null;
  const preview = useMemo(() => commands(requestFrom(value)), [JSON.stringify(value)]);
  const submit = async (e) => {
    e.preventDefault();
    const found = validate(value);
    setErrors(found);
    setApiError(null);
    if (Object.keys(found).length) {
      document.querySelector(`[data-field="${Object.keys(found)[0]}"]`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const job = await send('POST', '/v1/fine_tuning/jobs', requestFrom(value));
      location.hash = `#/jobs/${job.id}`;
    } catch (err) {
      setApiError(err);
    } finally {
      setBusy(false);
    }
  };
  const error = (name) => errors[name] || apiError;
  const input = (name, extra = {}) => html`<${Field} label=${LABELS[name]} name=${name} error=${error(name)} hint=${HINTS[name]}
    value=${v[name]} onInput=${set(name)} inputmode=${extra.inputmode || 'decimal'} ...${extra} />`;
  const methodFields = METHODS[v.type].fields;
  const fieldNames = ['model', 'training_file', 'validation_file', 'type', 'packing', 'lr_scheduler', 'precision', ...methodFields, ...Object.keys(LABELS)];
  return html`<section aria-labelledby="new-job-title">
    <h1 id="new-job-title">New fine-tuning job</h1>
    <form class="job-form" onSubmit=${submit} novalidate>
      <fieldset><legend>Data</legend>
        <${Select} label="Model" name="model" value=${value.model} onInput=${set('model')} error=${error('model')}
          hint=${waitingFor ? `${waitingFor} is not ready yet` : models && ready.length === 0 ? 'no ready model yet: upload or import one on Models' : null}
          options=${ready.length ? ready.map((m) => ({ value: m.id, label: `${m.name || m.id} (${m.id})` })) : [{ value: '', label: '—' }]} />
        <${Select} label="Training dataset" name="training_file" value=${value.training_file} onInput=${set('training_file')}
          error=${error('training_file')} hint=${files && datasets.length === 0
            ? (v.objective !== 'supervised' ? 'no preference pairs yet: upload a file of them on Datasets' : 'no dataset yet: upload one on Datasets')
            : null}
          options=${datasets.length ? datasets.map((f) => ({ value: f.id, label: `${f.filename} (${f.id}, ${f.rows} rows)` })) : [{ value: '', label: '—' }]} />
        <${Select} label="Validation dataset" name="validation_file" value=${value.validation_file} onInput=${set('validation_file')}
          error=${error('validation_file')} hint="optional: a held-out split of the training file is not made for you"
          options=${[{ value: '', label: 'none' }, ...datasets.map((f) => ({ value: f.id, label: `${f.filename} (${f.id})` }))]} />
      </fieldset>
      <fieldset><legend>Objective</legend>
        <${Select} label="Objective" name="objective" value=${v.objective} onInput=${set('objective')} error=${error('objective')}
          options=${Object.entries(OBJECTIVES).map(([value, o]) => ({ value, label: o.label }))} />
        <div class="grid">
          ${v.objective !== 'supervised'
            ? OBJECTIVE_FIELDS[v.objective].map((f) => input(f, f === 'beta' ? { placeholder: OBJECTIVES[v.objective].beta } : {}))
            : html`<div class="field checkbox"><input type="checkbox" id="packing" name="packing" data-field="packing"
                checked=${v.packing} onInput=${set('packing')} /><label for="packing">Pack examples <small>(${HINTS.packing})</small></label></div>`}
        </div>
      </fieldset>
      <fieldset><legend>Adapter</legend>
        <${Select} label="Method" name="type" value=${v.type} onInput=${set('type')} error=${error('type')}
          options=${Object.entries(METHODS).map(([value, m]) => ({ value, label: m.label }))} />
        <div class="grid">
          ${methodFields.map((f) => (f === 'use_rslora'
            ? html`<div class="field checkbox"><input type="checkbox" id="use_rslora" name="use_rslora" data-field="use_rslora"
                checked=${v.use_rslora} onInput=${set('use_rslora')} /><label for="use_rslora">rsLoRA <small>(${HINTS.use_rslora})</small></label></div>`
            : input(f, f === 'target_modules' ? { inputmode: 'text' } : {})))}
        </div>
      </fieldset>
      <fieldset><legend>Hyperparameters</legend>
        <div class="grid">
          ${['n_epochs', 'batch_size', 'learning_rate', 'max_steps', 'gradient_accumulation_steps', 'warmup_steps'].map((f) => input(f))}
          <${Select} label="Learning-rate schedule" name="lr_scheduler" value=${v.lr_scheduler} onInput=${set('lr_scheduler')}
            error=${error('lr_scheduler')} options=${['linear', 'cosine', 'constant'].map((s) => ({ value: s, label: s }))} />
          <${Select} label="Precision" name="precision" value=${v.precision} onInput=${set('precision')} error=${error('precision')}
            hint="bf16: the base's products in BF16, faster on CPUs with AVX512-BF16"
            options=${[{ value: 'fp32', label: 'fp32' }, { value: 'bf16', label: 'bf16' }]} />
          ${['max_seq_len', 'weight_decay', 'checkpoint_every', 'eval_every', 'seed'].map((f) => input(f))}
          ${input('suffix', { inputmode: 'text', maxlength: 64 })}
        </div>
      </fieldset>
      <${FormError} error=${apiError} fields=${fieldNames} />
      <button type="submit" disabled=${busy}>Start training</button>
    </form>
    <details class="commands"><summary>The same job from the command line</summary>
      <pre class="cli-command"><code>${preview.cli}</code></pre>
      <pre class="curl-command"><code>${preview.curl}</code></pre>
    </details>
  </section>`;
}
