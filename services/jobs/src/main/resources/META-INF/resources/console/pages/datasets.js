// Datasets: JSONL uploads with their progress, the format the platform found, rows, tokens, a preview
// of the first records, and a bad file's errors by line number.
import { useState } from 'preact/hooks';
import { all, get, send, upload } from '../api.js';
import { bytes, Confirm, Empty, Field, FormError, html, number, Progress, time, useConfirmed, usePoll } from '../ui.js';

function Preview({ id }) {
  const [file, error] = usePoll(() => get(`/v1/files/${encodeURIComponent(id)}`), 0, [id]);
  if (error) return html`<p class="form-error" role="alert">${error.message}</p>`;
  if (!file) return html`<p class="loading">Loading…</p>`;
  const rows = Array.isArray(file.preview) ? file.preview : [];
  return html`<div class="preview" aria-label=${`preview of ${file.filename}`}>
    <h3>First rows of ${file.filename}</h3>
    <ol>${rows.map((r) => html`<li><pre>${JSON.stringify(r, null, 1)}</pre></li>`)}</ol>
  </div>`;
}

export function DatasetsPage() {
  const [files, error, reload] = usePoll(() => all('/v1/files'), 10000);
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [uploadError, setUploadError] = useState(null);
  const [uploaded, setUploaded] = useState(null);
  const [shown, setShown] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setUploadError(null);
    setUploaded(null);
    if (!file) {
      setUploadError('pick a .jsonl file');
      return;
    }
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', file, file.name);
    setProgress({ sent: 0, total: file.size });
    try {
      const created = await upload('/v1/files', form, (sent, total) => setProgress({ sent, total }));
      setUploaded(created);
      setShown(created.id);
      reload();
    } catch (err) {
      setUploadError(err);
    } finally {
      setProgress(null);
    }
  };
  const removal = useConfirmed(async (f) => {
    await send('DELETE', `/v1/files/${encodeURIComponent(f.id)}`);
    if (shown === f.id) setShown(null);
    reload();
  });
  const removing = removal.item;
  return html`<section aria-labelledby="datasets-title">
    <h1 id="datasets-title">Datasets</h1>
    <form class="upload" onSubmit=${submit}>
      <${Field} label="JSONL file" name="file" type="file" accept=".jsonl,.json,application/jsonl" error=${uploadError}
        hint="one JSON object per line: {text}, {prompt, completion} or {messages: […]}"
        onInput=${(e) => setFile(e.target.files[0] || null)} />
      <button type="submit" disabled=${!!progress}>Upload</button>
      ${progress && html`<div class="upload-progress"><${Progress} value=${progress.sent} max=${progress.total} label="upload progress" />
        <small>${bytes(progress.sent)} of ${bytes(progress.total)}</small></div>`}
      ${uploadError && typeof uploadError !== 'string' && !uploadError.forField('file') && html`<${FormError} error=${uploadError} />`}
      ${uploadError && typeof uploadError !== 'string' && uploadError.errors?.some((x) => x.line != null) && uploadError.forField('file')
        && html`<ul class="line-errors">${uploadError.errors.filter((x) => x.line != null).map((x) => html`<li>line ${x.line}: ${x.message}</li>`)}</ul>`}
      ${uploaded && html`<p class="ok" role="status">Uploaded ${uploaded.filename}: ${uploaded.format}, ${number(uploaded.rows)} rows,
        about ${number(uploaded.token_estimate)} tokens (${uploaded.id}).</p>`}
    </form>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${removal.error && html`<p class="form-error" role="alert">${removal.error}</p>`}
    <${Confirm} open=${!!removing} title="Delete this dataset?" confirmLabel="Delete dataset" onClose=${removal.close} onConfirm=${removal.confirm}>
      <p>${removing?.filename} (${removing?.id}) is removed; adapters trained on it keep its checksum in their lineage.</p>
    <//>
    ${files && files.length === 0 && html`<${Empty}>No datasets yet.<//>`}
    ${files && files.length > 0 && html`<div class="table-wrap"><table class="datasets">
      <thead><tr><th scope="col">File</th><th scope="col">Format</th><th scope="col">Rows</th><th scope="col">Tokens (est.)</th>
        <th scope="col">Size</th><th scope="col">Uploaded</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${files.map((f) => html`<tr key=${f.id} data-file=${f.id}>
        <td><button type="button" class="link" aria-expanded=${shown === f.id} onClick=${() => setShown(shown === f.id ? null : f.id)}>
          ${f.filename}</button> <small>${f.id}</small></td>
        <td>${f.format}</td><td>${number(f.rows)}</td><td>${number(f.token_estimate)}</td><td>${bytes(f.bytes)}</td>
        <td>${time(f.created_at)}</td>
        <td><button type="button" class="danger small" aria-label=${`delete ${f.filename}`} onClick=${() => removal.ask(f)}>Delete</button></td>
      </tr>`)}</tbody></table></div>`}
    ${shown && html`<${Preview} id=${shown} />`}
  </section>`;
}
