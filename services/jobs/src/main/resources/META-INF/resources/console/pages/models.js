// Models: a Hugging Face directory (its files) or one archive uploaded, or an import by hf://, https://
// or s3://; each model's status, the reason it failed validation, its architecture and size.
import { useState } from 'preact/hooks';
import { all, send, upload } from '../api.js';
import { bytes, Confirm, Empty, Field, FormError, html, number, Progress, Select, Status, time, useConfirmed, usePoll } from '../ui.js';

// The files of a Hugging Face directory the platform keeps (as the artifacts service's ModelFiles): a
// directory's other files (README.md, LICENSE, .cache/…, original/…) are left out rather than refused.
const MODEL_FILES = ['config.json', 'generation_config.json', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json',
  'special_tokens_map.json'];
const modelFile = (f) => {
  const path = f.webkitRelativePath || f.name;
  const depth = path.split('/').length - (f.webkitRelativePath ? 1 : 0); // a directory pick names its folder first
  return depth === 1 && (MODEL_FILES.includes(f.name) || f.name.endsWith('.safetensors'));
};

function Upload({ onDone }) {
  const [kind, setKind] = useState('directory');
  const [files, setFiles] = useState([]);
  const [skipped, setSkipped] = useState([]);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    if (files.length === 0) {
      setError(kind === 'archive' ? 'pick a .tar, .tar.gz or .zip archive' : 'pick the model directory (config.json, *.safetensors, tokenizer.json)');
      return;
    }
    const form = new FormData();
    if (name) form.append('name', name);
    for (const f of files) form.append(kind === 'archive' ? 'archive' : 'file', f, f.name);
    setProgress({ sent: 0, total: files.reduce((n, f) => n + f.size, 0) });
    try {
      await upload('/v1/models', form, (sent, total) => setProgress({ sent, total }));
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };
  const fileField = kind === 'archive' ? 'archive' : 'file';
  return html`<form class="upload" onSubmit=${submit} aria-label="Upload a model">
    <h2>Upload</h2>
    <${Select} label="What" name="kind" value=${kind} onInput=${(e) => { setKind(e.target.value); setFiles([]); setSkipped([]); }}
      options=${[{ value: 'directory', label: 'a Hugging Face directory' }, { value: 'files', label: 'its files' },
        { value: 'archive', label: 'one archive (.tar, .tar.gz, .zip)' }]} />
    <${Field} label=${kind === 'archive' ? 'Archive' : kind === 'directory' ? 'Directory' : 'Files'} name=${fileField} type="file"
      error=${error} multiple=${kind === 'files'} webkitdirectory=${kind === 'directory'} key=${kind}
      hint=${skipped.length ? `${files.length} model files; left out: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ' …' : ''}` : null}
      onInput=${(e) => {
        const picked = [...e.target.files];
        const keep = kind === 'archive' ? picked : picked.filter(modelFile);
        setFiles(keep);
        setSkipped(picked.filter((f) => !keep.includes(f)).map((f) => f.webkitRelativePath || f.name));
      }} />
    <${Field} label="Name" name="name" value=${name} onInput=${(e) => setName(e.target.value)} hint="optional"
      error=${typeof error === 'string' ? null : error} maxlength="128" />
    <button type="submit" disabled=${!!progress}>Upload model</button>
    ${progress && html`<div class="upload-progress"><${Progress} value=${progress.sent} max=${progress.total} label="upload progress" />
      <small>${bytes(progress.sent)} of ${bytes(progress.total)}</small></div>`}
    <${FormError} error=${typeof error === 'string' ? null : error} fields=${[fileField, 'name']} />
  </form>`;
}

function Import({ onDone }) {
  const [source, setSource] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    if (!/^(hf|https|s3):\/\/.+/.test(source.trim())) {
      setError('must start with hf://, https:// or s3://');
      return;
    }
    try {
      await send('POST', '/v1/models', name ? { source: source.trim(), name } : { source: source.trim() });
      setSource('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="upload" onSubmit=${submit} aria-label="Import a model">
    <h2>Import</h2>
    <${Field} label="Source" name="source" value=${source} onInput=${(e) => setSource(e.target.value)} error=${error}
      placeholder="hf://org/name@revision" hint="hf://org/name[@rev], https://…/model.tar.gz or s3://bucket/prefix" />
    <${Field} label="Name" name="name" value=${name} onInput=${(e) => setName(e.target.value)} hint="optional" error=${typeof error === 'string' ? null : error} />
    <button type="submit">Import model</button>
    <${FormError} error=${typeof error === 'string' ? null : error} fields=${['source', 'name']} />
  </form>`;
}

export function ModelsPage() {
  const [models, error, reload] = usePoll(() => all('/v1/models'), 3000);
  const removal = useConfirmed(async (m) => {
    await send('DELETE', `/v1/models/${encodeURIComponent(m.id)}`);
    reload();
  });
  const removing = removal.item;
  const bases = (models || []).filter((m) => !m.parent);
  return html`<section aria-labelledby="models-title">
    <h1 id="models-title">Models</h1>
    <div class="columns"><${Upload} onDone=${reload} /><${Import} onDone=${reload} /></div>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${removal.error && html`<p class="form-error" role="alert">${removal.error}</p>`}
    <${Confirm} open=${!!removing} title="Delete this model?" confirmLabel="Delete model" onClose=${removal.close} onConfirm=${removal.confirm}>
      <p>${removing?.name || removing?.id} and its files are removed.</p>
    <//>
    ${models && bases.length === 0 && html`<${Empty}>No models yet.<//>`}
    ${bases.length > 0 && html`<div class="table-wrap"><table class="models">
      <thead><tr><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Architecture</th><th scope="col">Parameters</th>
        <th scope="col">Source</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${bases.map((m) => html`<tr key=${m.id} data-model=${m.id}>
        <td>${m.name || m.id} <small>${m.id}</small></td>
        <td><${Status} status=${m.status} />${m.error && html`<div class="field-error" role="alert">${m.error.message}</div>`}</td>
        <td>${m.architecture || '—'}</td><td>${number(m.parameters)}</td><td><small>${m.source || 'upload'}</small></td>
        <td>${time(m.created)}</td>
        <td><button type="button" class="danger small" aria-label=${`delete ${m.name || m.id}`} onClick=${() => removal.ask(m)}>Delete</button></td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}
