// Jobs: the tenant's fine-tuning jobs, newest first, paged, filtered by status, refreshed every 2 s.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { duration, Empty, ENDED, html, Progress, Select, Status, time, usePoll } from '../ui.js';

const STATUSES = ['', 'validating_files', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const PAGE = 20;

export function jobDuration(j, now = Date.now() / 1000) {
  const end = j.finished_at || (ENDED.includes(j.status) ? null : now);
  return end ? end - j.created_at : null;
}

export function JobsPage() {
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState([null]); // the 'after' of each page seen, to go back
  const after = cursors[cursors.length - 1];
  const query = `limit=${PAGE}${status ? `&status=${status}` : ''}${after ? `&after=${after}` : ''}`;
  const [page, error] = usePoll(() => get(`/v1/fine_tuning/jobs?${query}`), 2000, [query]);
  const filter = (e) => {
    setStatus(e.target.value);
    setCursors([null]);
  };
  return html`<section aria-labelledby="jobs-title">
    <div class="title-row">
      <h1 id="jobs-title">Jobs</h1>
      <a class="button" href="#/new-job">New job</a>
    </div>
    <div class="toolbar">
      <${Select} label="Status" name="status" value=${status} onInput=${filter}
        options=${STATUSES.map((s) => ({ value: s, label: s ? s.replace(/_/g, ' ') : 'all' }))} />
    </div>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${page && page.data.length === 0 && html`<${Empty}>No jobs${status ? ` ${status.replace(/_/g, ' ')}` : ''} yet. <a href="#/new-job">Start one</a>.<//>`}
    ${page && page.data.length > 0 && html`<div class="table-wrap"><table class="jobs">
      <thead><tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Model</th><th scope="col">Method</th>
        <th scope="col">Progress</th><th scope="col">Created</th><th scope="col">Duration</th></tr></thead>
      <tbody>${page.data.map((j) => html`<tr key=${j.id} data-job=${j.id} data-status=${j.status}>
        <td><a href=${`#/jobs/${j.id}`}>${j.id}</a>${j.user_provided_suffix && html` <small>${j.user_provided_suffix}</small>`}</td>
        <td><${Status} status=${j.status} /></td>
        <td>${j.model}</td>
        <td>${j.adapter?.type || 'lora'}${j.adapter?.rank ? ` r=${j.adapter.rank}` : ''}</td>
        <td class="progress-cell">
          <${Progress} value=${j.trained_steps || 0} max=${j.total_steps} label=${`${j.id} progress`} />
          <small>${j.total_steps ? `${j.trained_steps || 0}/${j.total_steps}` : '—'}${j.estimated_finish
            ? ` · ETA ${duration(j.estimated_finish - Date.now() / 1000)}` : ''}</small>
        </td>
        <td>${time(j.created_at)}</td>
        <td>${duration(jobDuration(j))}</td>
      </tr>`)}</tbody>
    </table></div>
    <nav class="pager" aria-label="Job pages">
      <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
      <button type="button" disabled=${!page.has_more} onClick=${() => setCursors([...cursors, page.last_id])}>Older</button>
    </nav>`}
  </section>`;
}
