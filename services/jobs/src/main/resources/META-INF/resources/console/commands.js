// The CLI and curl commands that send the same job request (LlamaBoard's "preview command").

const CLI_HYPERPARAMETERS = {
  n_epochs: '--epochs', max_steps: '--max-steps', learning_rate: '--learning-rate', batch_size: '--batch-size',
  gradient_accumulation_steps: '--gradient-accumulation-steps', warmup_steps: '--warmup-steps', lr_scheduler: '--lr-scheduler',
  max_seq_len: '--max-seq-len', weight_decay: '--weight-decay', checkpoint_every: '--checkpoint-every', eval_every: '--eval-every',
  beta: '--beta', gamma: '--gamma', precision: '--precision',
};
const CLI_ADAPTER = { rank: '--rank', alpha: '--alpha', dropout: '--dropout', num_bases: '--num-bases', factor: '--factor' };

const quote = (s) => (/^[\w.,:@/+-]+$/.test(String(s)) ? String(s) : `'${String(s).replace(/'/g, `'\\''`)}'`);

/** A job request (the API's JSON) from a job object, so the page can show how to send it again. */
export function requestOf(job) {
  const hyperparameters = {};
  for (const [k, v] of Object.entries(job.hyperparameters || {})) if (v != null && v !== 'auto') hyperparameters[k] = v;
  delete hyperparameters.learning_rate_multiplier; // the job keeps both; a request gives one (learning_rate)
  const request = { model: job.model, training_file: job.training_file };
  if (job.validation_file) request.validation_file = job.validation_file;
  if (job.adapter) request.adapter = job.adapter;
  const type = job.method?.type || 'supervised';
  request.method = { type, [type]: { hyperparameters } };
  if (job.seed != null) request.seed = job.seed;
  if (job.user_provided_suffix) request.suffix = job.user_provided_suffix;
  return request;
}

/** {cli, curl}: the peft command (options where it has them all, else --request) and the curl call. */
export function commands(request, origin = location.origin) {
  const type = request.method?.type || 'supervised';
  const hp = request.method?.[type]?.hyperparameters || {};
  const adapter = request.adapter || {};
  const args = ['./peft jobs create', `--model ${quote(request.model || 'MODEL')}`, `--training-file ${quote(request.training_file || 'FILE')}`];
  let expressible = true;
  if (request.validation_file) args.push(`--validation-file ${quote(request.validation_file)}`);
  if (type !== 'supervised') args.push(`--objective ${type}`);
  if (adapter.type) args.push(`--adapter ${adapter.type}`);
  for (const [k, v] of Object.entries(adapter)) {
    if (k === 'type' || v == null) continue;
    if (CLI_ADAPTER[k]) args.push(`${CLI_ADAPTER[k]} ${quote(v)}`);
    else if (k === 'target_modules') args.push(`--target-modules ${quote([].concat(v).join(','))}`);
    else if (k === 'use_rslora') v && args.push('--use-rslora');
    else expressible = false;
  }
  for (const [k, v] of Object.entries(hp)) {
    if (v == null) continue;
    if (CLI_HYPERPARAMETERS[k]) args.push(`${CLI_HYPERPARAMETERS[k]} ${quote(v)}`);
    else if (k === 'train_on_inputs') v && args.push('--train-on-inputs');
    else if (k === 'packing') v && args.push('--packing');
    else expressible = false;
  }
  if (request.seed != null) args.push(`--seed ${request.seed}`);
  if (request.suffix) args.push(`--suffix ${quote(request.suffix)}`);
  const body = JSON.stringify(request);
  const cli = expressible ? args.join(' \\\n    ') : `cat > job.json <<'EOF'\n${JSON.stringify(request, null, 2)}\nEOF\n./peft jobs create --request job.json`;
  const curl = `curl -H "Authorization: Bearer $PEFT_API_KEY" -H 'Content-Type: application/json' \\\n    ${origin}/v1/fine_tuning/jobs \\\n    -d ${quote(body)}`;
  return { cli, curl };
}
