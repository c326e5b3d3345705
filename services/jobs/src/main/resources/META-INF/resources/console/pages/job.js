// Job: its settings, a loss chart drawn as the job's server-sent events arrive, its events, checkpoints,
// cancel/pause/resume, and when it succeeded the adapter (download, try it) and the request as commands.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { download, get, send, stream } from '../api.js';
import { LineChart } from '../chart.js';
import { commands, requestOf } from '../commands.js';
import { Confirm, duration, ENDED, html, number, Progress, Status, time, usePoll } from '../ui.js';
import { jobDuration } from './jobs.js';

/** The job's events, live: the stream replays them from the first, then follows until the job ends. */
function useEvents(id, onEnd) {
  const [events, setEvents] = useState([]);
  useEffect(() => {
    const seen = new Set();
    const abort = new AbortController();
    let stopped = false;
    const follow = async () => {
      while (!stopped) {
        try {
          await stream(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/events`, {
            signal: abort.signal,
            onData: (e) => {
              if (seen.has(e.id)) return;
              seen.add(e.id);
              setEvents((all) => [...all, e]);
            },
          });
          onEnd();
          const job = await get(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`);
          if (ENDED.includes(job.status)) return; // the stream ends with the job (or when it pauses)
        } catch (e) {
          if (stopped || e.status === 404) return;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    follow();
    return () => {
      stopped = true;
      abort.abort();
    };
  }, [id]);
  return events;
}

const PREFERENCE_NAMES = { dpo: 'DPO', simpo: 'SimPO', orpo: 'ORPO' };

function Charts({ events, objective }) {
  const metrics = events.filter((e) => e.type === 'metrics' && e.data);
  const loss = useMemo(() => [metrics.map((e) => e.data.step), metrics.map((e) => e.data.train_loss ?? null),
    metrics.map((e) => e.data.valid_loss ?? null)], [metrics.length]);
  const pace = useMemo(() => [metrics.map((e) => e.data.step), metrics.map((e) => e.data.learning_rate ?? null),
    metrics.map((e) => e.data.tokens_per_second ?? null)], [metrics.length]);
  // Preference tuning's: how often the preferred answer wins, and by how much (training, and validation when measured).
  const preference = metrics.some((e) => e.data.reward_accuracy != null);
  const rewards = useMemo(() => [metrics.map((e) => e.data.step), metrics.map((e) => e.data.reward_accuracy ?? null),
    metrics.map((e) => e.data.validation_reward_accuracy ?? null), metrics.map((e) => e.data.reward_margin ?? null)], [metrics.length]);
  return html`<div class="charts" data-metric-events=${metrics.length}>
    <${LineChart} title="Loss" data=${loss} series=${[{ label: 'training loss' }, { label: 'validation loss' }]} scales=${{ y: 'loss' }} />
    ${preference && html`<${LineChart} title=${`Preference (${PREFERENCE_NAMES[objective] || 'DPO'})`} data=${rewards}
      series=${[{ label: 'reward accuracy', scale: 'acc' }, { label: 'validation reward accuracy', scale: 'acc' },
        { label: 'reward margin', scale: 'margin' }]} scales=${{ acc: 'accuracy', margin: 'margin' }} />`}
    <${LineChart} title="Learning rate and throughput" height=${180} data=${pace}
      series=${[{ label: 'learning rate', scale: 'lr' }, { label: 'tokens/s', scale: 'tps' }]} scales=${{ lr: 'learning rate', tps: 'tokens/s' }} />
  </div>`;
}

function Settings({ job }) {
  const rows = [['model', job.model], ['training file', job.training_file], ['validation file', job.validation_file || '—'],
    ['seed', job.seed], ['suffix', job.user_provided_suffix || '—']];
  const adapter = Object.entries(job.adapter || { type: 'lora' });
  const hp = Object.entries(job.hyperparameters || {});
  return html`<div class="settings">
    <dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
    <h3>Adapter</h3>
    <dl class="adapter-settings">${adapter.map(([k, v]) => html`<dt>${k}</dt><dd>${Array.isArray(v) ? v.join(', ') : String(v)}</dd>`)}</dl>
    <h3>Hyperparameters</h3>
    <dl class="hyperparameters">${hp.map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl>
  </div>`;
}

function Commands({ job }) {
  const { cli, curl } = commands(requestOf(job));
  return html`<details class="commands"><summary>The same job from the command line</summary>
    <h3>peft</h3><pre class="cli-command"><code>${cli}</code></pre>
    <h3>curl</h3><pre class="curl-command"><code>${curl}</code></pre>
  </details>`;
}

export function JobPage({ id }) {
  const [job, error, reload] = usePoll(() => get(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`), 3000, [id]);
  const events = useEvents(id, () => reload());
  const ended = job && ENDED.includes(job.status);
  const [checkpoints, , reloadCheckpoints] = usePoll(() => get(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`), 0, [id]);
  const checkpointCount = events.filter((e) => /checkpoint/i.test(e.message)).length;
  useEffect(() => reloadCheckpoints(), [checkpointCount, job?.status]);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState(null);
  const act = async (action) => {
    setActionError(null);
    try {
      await send('POST', `/v1/fine_tuning/jobs/${encodeURIComponent(id)}/${action}`);
      reload();
    } catch (e) {
      setActionError(e.message);
    }
  };
  if (error && !job) return html`<h1>Job ${id}</h1><p class="form-error" role="alert">${error.message}</p>`;
  if (!job) return html`<p class="loading">Loading ${id}…</p>`;
  const adapterId = job.fine_tuned_model;
  return html`<section aria-labelledby="job-title" data-job=${job.id} data-status=${job.status}>
    <div class="title-row">
      <h1 id="job-title">${job.id} <${Status} status=${job.status} /></h1>
      <div class="actions">
        ${job.status === 'running' && html`<button type="button" onClick=${() => act('pause')}>Pause</button>`}
        ${job.status === 'paused' && html`<button type="button" onClick=${() => act('resume')}>Resume</button>`}
        ${!ended && !job.cancel_requested && html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Cancel job</button>`}
      </div>
    </div>
    ${actionError && html`<p class="form-error" role="alert">${actionError}</p>`}
    <${Confirm} open=${confirming} title="Cancel this job?" confirmLabel="Yes, cancel it" onClose=${() => setConfirming(false)}
      onConfirm=${() => { setConfirming(false); act('cancel'); }}>
      <p>${job.id} stops after its current step; its checkpoints stay.</p>
    <//>
    <div class="summary">
      <${Progress} value=${job.trained_steps || 0} max=${job.total_steps} label="training progress" />
      <p>Step ${job.trained_steps || 0} of ${job.total_steps || '—'} · created ${time(job.created_at)} · ran ${duration(jobDuration(job))}
        ${job.estimated_finish ? ` · ETA ${duration(job.estimated_finish - Date.now() / 1000)}` : ''}
        ${job.trained_tokens ? ` · ${number(job.trained_tokens)} tokens` : ''}${job.worker ? ` · on ${job.worker}` : ''}</p>
      ${job.error && html`<p class="form-error" role="alert">${job.error.code}: ${job.error.message}${job.error.param ? ` (${job.error.param})` : ''}</p>`}
      ${job.status === 'succeeded' && adapterId && html`<p class="result">
        Adapter <a href=${`#/adapters/${adapterId}`}>${adapterId}</a> ·
        <button type="button" onClick=${() => download(`/v1/adapters/${adapterId}/content?format=peft`, `${adapterId}.tar.gz`)
          .catch((e) => setActionError(e.message))}>Download adapter</button>
        · <a href=${`#/adapters/${adapterId}`} class="try-link">Try it</a></p>`}
    </div>
    <${Charts} events=${events} objective=${job?.method?.type} />
    <div class="columns">
      <${Settings} job=${job} />
      <div>
        <h2>Checkpoints</h2>
        ${checkpoints?.data?.length ? html`<table class="checkpoints"><thead><tr><th scope="col">Step</th><th scope="col">Validation loss</th>
          <th scope="col">Checkpoint</th></tr></thead><tbody>${checkpoints.data.map((c) => html`<tr>
            <td>${c.step_number}</td><td>${c.metrics?.valid_loss ?? '—'}</td><td><code>${c.fine_tuned_model_checkpoint}</code></td></tr>`)}
          </tbody></table>` : html`<p class="empty">None yet.</p>`}
      </div>
    </div>
    <${Commands} job=${job} />
    <h2>Events</h2>
    <ol class="event-log" role="log" aria-live="off" aria-label="job events">${events.map((e) => html`<li class=${`level-${e.level}`}>
      <time>${new Date(e.created_at * 1000).toLocaleTimeString()}</time> ${e.message}</li>`)}</ol>
  </section>`;
}
