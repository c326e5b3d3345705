// Drives a running PEFT Platform with the official OpenAI Node SDK, unchanged: only baseURL and apiKey
// are set. Files, fine-tuning jobs (create, retrieve, list with auto-pagination, events, checkpoints,
// pause, resume, cancel), models, chat and completions (plain and streamed), and the SDK's error classes.
//
//   PEFT_URL=http://localhost:8080 PEFT_API_KEY=… PEFT_MODEL=model-… node flow.mjs
//
// Prints one line per step and exits 1 at the first step that fails.
import OpenAI, { toFile } from 'openai';
import assert from 'node:assert/strict';

const { PEFT_URL, PEFT_API_KEY, PEFT_MODEL } = process.env;
if (!PEFT_URL || !PEFT_API_KEY || !PEFT_MODEL) {
  console.error('set PEFT_URL, PEFT_API_KEY and PEFT_MODEL (a ready base model id)');
  process.exit(2);
}
const client = new OpenAI({ baseURL: `${PEFT_URL}/v1`, apiKey: PEFT_API_KEY, maxRetries: 0, timeout: 600_000 });

let passed = 0;
async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    passed++;
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    console.log(`FAIL  ${name}: ${e?.stack ?? e}`);
    process.exit(1);
  }
}

async function all(page) {
  const items = [];
  for await (const item of page) {
    items.push(item);
  }
  return items;
}

async function until(what, check, seconds = 300) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const lines = [];
for (let i = 0; i < 24; i++) {
  lines.push(JSON.stringify({ messages: [
    { role: 'user', content: `What is the opposite of ${['hot', 'up', 'big', 'fast'][i % 4]}?` },
    { role: 'assistant', content: ['cold', 'down', 'small', 'slow'][i % 4] },
  ] }));
}
const jsonl = lines.join('\n') + '\n';

let file, spare, job, second, tuned;

await step('files.create (multipart, purpose fine-tune)', async () => {
  file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'opposites.jsonl'), purpose: 'fine-tune' });
  assert.equal(file.object, 'file');
  assert.equal(file.purpose, 'fine-tune');
  assert.equal(file.filename, 'opposites.jsonl');
  assert.equal(file.bytes, Buffer.byteLength(jsonl));
  assert.equal(file.status, 'processed');
  assert.match(file.id, /^file-/);
});

await step('files.retrieve, files.content', async () => {
  const again = await client.files.retrieve(file.id);
  assert.equal(again.id, file.id);
  assert.equal(again.created_at, file.created_at);
  const content = await client.files.content(file.id);
  assert.equal(await content.text(), jsonl);
});

await step('files.list auto-paginates (limit 1)', async () => {
  spare = await client.files.create({ file: await toFile(Buffer.from(lines[0] + '\n'), 'spare.jsonl'), purpose: 'fine-tune' });
  const ids = (await all(client.files.list({ limit: 1 }))).map((f) => f.id);
  assert.ok(ids.includes(file.id) && ids.includes(spare.id), ids.join(','));
  assert.equal(new Set(ids).size, ids.length, 'no file twice');
});

await step('files.del', async () => {
  const deleted = await client.files.del(spare.id);
  assert.deepEqual([deleted.id, deleted.deleted], [spare.id, true]);
  await assert.rejects(client.files.retrieve(spare.id), OpenAI.NotFoundError);
});

await step('models.list, models.retrieve (the base model)', async () => {
  const ids = (await all(client.models.list())).map((m) => m.id);
  assert.ok(ids.includes(PEFT_MODEL), ids.join(','));
  const model = await client.models.retrieve(PEFT_MODEL);
  assert.equal(model.object, 'model');
  assert.equal(typeof model.created, 'number');
  assert.equal(typeof model.owned_by, 'string');
});

await step('fineTuning.jobs.create (method supervised, OpenAI hyperparameters, adapter extension)', async () => {
  job = await client.fineTuning.jobs.create({
    model: PEFT_MODEL,
    training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: {
      n_epochs: 1, batch_size: 4, learning_rate_multiplier: 25, max_steps: 4, checkpoint_every: 2,
    } } },
    adapter: { type: 'lora', rank: 4 },
    seed: 7,
    suffix: 'opposites',
    metadata: { team: 'sdk' },
  });
  assert.equal(job.object, 'fine_tuning.job');
  assert.match(job.id, /^ftjob-/);
  assert.ok(['validating_files', 'queued', 'running'].includes(job.status), job.status);
  assert.equal(job.method.type, 'supervised');
  assert.equal(job.method.supervised.hyperparameters.batch_size, 4);
  assert.equal(job.seed, 7);
  assert.equal(job.user_provided_suffix, 'opposites');
  assert.deepEqual(job.metadata, { team: 'sdk' });
  assert.equal(job.adapter.rank, 4);
});

await step('fineTuning.jobs.retrieve until succeeded', async () => {
  job = await until('the job to end', async () => {
    const j = await client.fineTuning.jobs.retrieve(job.id);
    return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
  });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.match(job.fine_tuned_model, /^adapter-/);
  assert.equal(typeof job.finished_at, 'number');
  assert.ok(job.trained_tokens > 0, `trained_tokens ${job.trained_tokens}`);
  tuned = job.fine_tuned_model;
});

await step('fineTuning.jobs.listEvents auto-paginates, with metrics', async () => {
  const events = await all(client.fineTuning.jobs.listEvents(job.id, { limit: 2 }));
  assert.ok(events.length > 2, `${events.length} events`);
  assert.ok(events.every((e) => e.object === 'fine_tuning.job.event'));
  const metrics = events.filter((e) => e.type === 'metrics');
  assert.ok(metrics.length > 0);
  assert.equal(typeof metrics[0].data.step, 'number');
  assert.equal(typeof metrics[0].data.train_loss, 'number');
});

await step('fineTuning.jobs.checkpoints.list', async () => {
  const checkpoints = await all(client.fineTuning.jobs.checkpoints.list(job.id));
  assert.ok(checkpoints.length >= 1, `${checkpoints.length} checkpoints`);
  const c = checkpoints[0];
  assert.equal(c.object, 'fine_tuning.job.checkpoint');
  assert.equal(c.fine_tuning_job_id, job.id);
  assert.equal(typeof c.step_number, 'number');
  assert.ok(c.fine_tuned_model_checkpoint.startsWith(tuned));
  assert.equal(c.metrics.step, c.step_number);
});

await step('fineTuning.jobs.create (method dpo on OpenAI preference pairs) until succeeded, with DPO metrics', async () => {
  const pairs = ['hot', 'up', 'day', 'big', 'fast', 'wet'].map((w) => JSON.stringify({
    input: { messages: [{ role: 'user', content: `the opposite of ${w} is` }] },
    preferred_output: [{ role: 'assistant', content: 'right' }],
    non_preferred_output: [{ role: 'assistant', content: 'wrong' }],
  })).join('\n') + '\n';
  const prefs = await client.files.create({ file: await toFile(Buffer.from(pairs), 'pairs.jsonl'), purpose: 'fine-tune' });
  let j = await client.fineTuning.jobs.create({
    model: PEFT_MODEL, training_file: prefs.id,
    method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.2, batch_size: 3, max_steps: 3 } } },
  });
  assert.equal(j.method.type, 'dpo');
  assert.equal(j.method.dpo.hyperparameters.beta, 0.2);
  j = await until('the DPO job to end', async () => {
    const r = await client.fineTuning.jobs.retrieve(j.id);
    return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
  });
  assert.equal(j.status, 'succeeded', JSON.stringify(j.error));
  const metrics = (await all(client.fineTuning.jobs.listEvents(j.id))).filter((e) => e.type === 'metrics');
  assert.ok(metrics.length > 0);
  assert.equal(typeof metrics[0].data.reward_accuracy, 'number');
  assert.equal(typeof metrics[0].data.reward_margin, 'number');
});

await step('fineTuning.jobs.pause, resume (from its checkpoint), cancel', async () => {
  let j = await client.fineTuning.jobs.create({
    model: PEFT_MODEL, training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { batch_size: 2, max_steps: 100000 } } },
  });
  await until('the job to run', async () => (await client.fineTuning.jobs.retrieve(j.id)).trained_steps > 0);
  j = await client.fineTuning.jobs.pause(j.id);
  assert.equal(j.object, 'fine_tuning.job');
  const paused = await until('the job to pause', async () => {
    const p = await client.fineTuning.jobs.retrieve(j.id);
    return p.status === 'paused' ? p : null;
  });
  const checkpoints = await all(client.fineTuning.jobs.checkpoints.list(j.id));
  assert.equal(checkpoints[0].step_number, paused.trained_steps, 'a checkpoint where it paused');
  j = await client.fineTuning.jobs.resume(j.id);
  assert.equal(j.status, 'queued');
  await until('the job to go on past its pause', async () => (await client.fineTuning.jobs.retrieve(j.id)).trained_steps > paused.trained_steps);
  const events = (await all(client.fineTuning.jobs.listEvents(j.id))).map((e) => e.message);
  assert.ok(events.some((m) => m.startsWith(`Resumed on `) && m.includes(`from step ${paused.trained_steps}`)), events.join(' | '));
  await client.fineTuning.jobs.cancel(j.id);
  await until('the resumed job to be cancelled', async () => (await client.fineTuning.jobs.retrieve(j.id)).status === 'cancelled');
});

await step('fineTuning.jobs.cancel', async () => {
  second = await client.fineTuning.jobs.create({
    model: PEFT_MODEL, training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { max_steps: 100000 } } },
  });
  const cancelling = await client.fineTuning.jobs.cancel(second.id);
  assert.equal(cancelling.id, second.id);
  const ended = await until('the cancelled job to end', async () => {
    const j = await client.fineTuning.jobs.retrieve(second.id);
    return j.status === 'cancelled' ? j : null;
  });
  assert.equal(ended.status, 'cancelled');
});

await step('fineTuning.jobs.list auto-paginates (limit 1)', async () => {
  const ids = (await all(client.fineTuning.jobs.list({ limit: 1 }))).map((j) => j.id);
  assert.ok(ids.includes(job.id) && ids.includes(second.id), ids.join(','));
  assert.equal(new Set(ids).size, ids.length);
});

await step('models.list includes the fine-tuned model, on its base', async () => {
  const models = await all(client.models.list({ limit: 1 }));
  const ft = models.find((m) => m.id === tuned);
  assert.ok(ft, models.map((m) => m.id).join(','));
  assert.equal(ft.parent, PEFT_MODEL);
  assert.equal((await client.models.retrieve(tuned)).id, tuned);
});

let chatText;
await step('chat.completions.create with the fine-tuned model', async () => {
  const r = await client.chat.completions.create({
    model: tuned, messages: [{ role: 'user', content: 'What is the opposite of hot?' }], max_tokens: 6, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.model, tuned);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  chatText = r.choices[0].message.content;
});

await step('chat.completions.create stream: true (chunks, [DONE], usage)', async () => {
  const stream = await client.chat.completions.create({
    model: tuned, messages: [{ role: 'user', content: 'What is the opposite of hot?' }], max_tokens: 6, temperature: 0,
    stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) {
      usage = chunk.usage;
    }
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(text, chatText);
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage && usage.completion_tokens > 0, JSON.stringify(usage));
  assert.ok(chunks >= 2, `${chunks} chunks`);
});

await step('chat with the base model and an ft:-style name', async () => {
  const base = await client.chat.completions.create({ model: PEFT_MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
  assert.equal(base.model, PEFT_MODEL);
  const named = await client.chat.completions.create({
    model: `ft:${PEFT_MODEL}:sdk:opposites:${tuned}`, messages: [{ role: 'user', content: 'What is the opposite of hot?' }],
    max_tokens: 6, temperature: 0,
  });
  assert.equal(named.choices[0].message.content, chatText);
});

let completionText;
await step('completions.create, plain and streamed', async () => {
  const r = await client.completions.create({ model: tuned, prompt: 'The opposite of up is', max_tokens: 5, temperature: 0, stop: ['\n\n'] });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
  completionText = r.choices[0].text;
  let text = '';
  for await (const chunk of await client.completions.create({
    model: tuned, prompt: 'The opposite of up is', max_tokens: 5, temperature: 0, stop: ['\n\n'], stream: true,
  })) {
    text += chunk.choices[0]?.text ?? '';
  }
  assert.equal(text, completionText);
});

await step('errors: NotFoundError, BadRequestError (with param), AuthenticationError', async () => {
  const missing = await client.files.retrieve('file-nope').catch((e) => e);
  assert.ok(missing instanceof OpenAI.NotFoundError, String(missing));
  assert.match(missing.error.message, /file-nope/);
  const bad = await client.fineTuning.jobs.create({ model: PEFT_MODEL, training_file: file.id, method: { type: 'dpo' } }).catch((e) => e);
  assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));
  assert.equal(bad.param, 'training_file');
  assert.match(bad.message, /preference pairs/);
  const noModel = await client.chat.completions.create({ model: 'adapter-nope', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.ok(noModel instanceof OpenAI.NotFoundError, String(noModel));
  const stranger = new OpenAI({ baseURL: `${PEFT_URL}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
  const denied = await stranger.models.list().catch((e) => e);
  assert.ok(denied instanceof OpenAI.AuthenticationError, String(denied));
  assert.ok(denied.error.message.length > 0);
});

console.log(`the OpenAI SDK (openai ${(await import('openai/version.mjs')).VERSION}) drove ${passed} steps against ${PEFT_URL}`);
