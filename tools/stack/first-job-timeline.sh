#!/usr/bin/env bash
# Submit → first training step on a fresh local stack, for its first two jobs, with each job's timeline
# from its trace (the stack's collector). Prints a line per job and its spans. Needs python3.
#   tools/stack/first-job-timeline.sh   (run from anywhere; uses port 18090 and a temporary data directory)
set -u
cd "$(dirname "$0")/../.."
data="$(mktemp -d)"
trap 'pkill -f "data-dir $data"; sleep 3; rm -rf "$data" "$data.log"' EXIT
(./peft up --data-dir "$data" --port 18090 > "$data.log" 2>&1 &)
for i in $(seq 1 300); do grep -q 'A first job' "$data.log" && break; sleep 1; done
K=$(grep -o 'peft-admin-[0-9a-f]*' "$data.log" | head -1); M=$(grep -o 'model-[0-9a-f]*' "$data.log" | head -1); F=$(grep -o 'file-[0-9a-f]*' "$data.log" | head -1)
P=$(grep -o 'localhost:[0-9]*/traces' "$data.log" | head -1)
sleep 15  # let the workers' warm-up finish, as a user would take a moment
python3 - "$K" "$M" "$F" "$P" <<'PY'
import json, sys, time, urllib.request
K, M, F, P = sys.argv[1:]
def req(method, url, body=None):
    r = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + K, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r))
for n in range(2):
    t0 = time.time()
    job = req("POST", "http://localhost:18090/v1/fine_tuning/jobs", {"model": M, "training_file": F,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"max_steps": 5}}}})
    t1 = time.time()
    while True:
        j = req("GET", "http://localhost:18090/v1/fine_tuning/jobs/" + job["id"])
        if (j.get("trained_steps") or 0) >= 1: break
        time.sleep(0.02)
    t2 = time.time()
    print(f"job {n+1}: POST {t1-t0:.2f} s, submit -> step 1 {t2-t0:.2f} s")
    while req("GET", "http://localhost:18090/v1/fine_tuning/jobs/" + job["id"])["status"] not in ("succeeded", "failed"): time.sleep(0.2)
    time.sleep(2)
    d = json.load(urllib.request.urlopen(f"http://{P}?job_id={job['id']}"))
    spans = d["data"][0]["spans"]
    s0 = min(s["start_ms"] for s in spans)
    for s in spans:
        if s["name"].endswith("process") and s["service"] != "training" and s["attributes"].get("peft.event_type") == "CheckpointSaved": continue
        if s["attributes"].get("peft.event_type") == "CheckpointSaved": continue
        print(f"  +{(s['start_ms']-s0)/1000:6.2f} s {s['duration_ms']/1000:6.2f} s  {s['service']:9} {s['name']} {s['attributes'].get('peft.event_type','')}")
PY
