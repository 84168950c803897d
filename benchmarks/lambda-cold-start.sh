#!/usr/bin/env bash
# Cold start of the Lambda host, native AOT against JIT, side by side.
#
# Measures the time from process start to the first invocation's response: the harness (Python, a tiny loopback
# Runtime API) starts the process, serves one DeliverToS3 event of RECORDS synthetic sales on /next, and stops the clock
# when POST /invocation/{id}/response arrives; the next /next answers 500 (container error), so the process exits. The
# first invocation does real work: the handler is built, the lake's checkpoint is loaded from s3rver, the records are
# decoded and written to s3rver as a JSON-lines object and the checkpoint is saved (every run uses a fresh lake
# prefix, so every run does the same work). Peak RSS comes from wait4(2).
#
#   AOT: bin/Release/net10.0/linux-x64/publish/bootstrap from the documented publish command;
#   JIT: the same project published framework-dependent without AOT, run as `dotnet bootstrap.dll`.
#
# Usage: benchmarks/lambda-cold-start.sh [RUNS (default 5)] [RECORDS (default 100)]
# Needs: the .NET SDK, python3, node and tests/emulators (tests/setup.sh installs s3rver). Takes ~4 minutes on 2 cores
# (two publishes), then a few seconds per run. Runs are sequential and few: not a load test.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
records=${2:-100}
work=$(mktemp -d)
s3pid=""
cleanup() {
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

project=src/Retail.Hosting/Retail.Hosting.Lambda
echo "== publishing the native-AOT bootstrap (the documented command)"
dotnet publish "$project" -c Release -r linux-x64 --nologo -v quiet -nodeReuse:false
aot="$project/bin/Release/net10.0/linux-x64/publish/bootstrap"
zip="$project/bin/Release/net10.0/linux-x64/retail-lambda.zip"
echo "== publishing the same host for the JIT (framework-dependent, no AOT)"
dotnet publish "$project" -c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:RetailLambdaZip="$work/jit.zip" \
  -o "$work/jit" --nologo -v quiet -nodeReuse:false
jit="$work/jit/bootstrap.dll"

tests/setup.sh >/dev/null
echo "== starting s3rver"
mkdir -p "$work/s3"
node --openssl-legacy-provider tests/emulators/node_modules/s3rver/bin/s3rver.js -d "$work/s3" -a 127.0.0.1 -p 0 \
  --no-vhost-buckets --configure-bucket retail-bench > "$work/s3.log" 2>&1 &
s3pid=$!
for _ in $(seq 1 300); do
  port=$(sed -nE 's/.*S3rver listening on [^:]+:([0-9]+).*/\1/p' "$work/s3.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1 # polling s3rver's start-up line
done
[ -n "${port:-}" ] || { echo "s3rver did not start:"; cat "$work/s3.log"; exit 1; }

python3 - "$runs" "$records" "$port" "$aot" "$jit" "$zip" <<'PY'
import base64, json, os, statistics, subprocess, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

runs, records, s3port, aot, jit, zip_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]

def event(n):
    recs = []
    for i in range(n):
        sale = {"Invoice": str(500000 + i), "StockCode": "85123A", "Description": "WHITE HANGING HEART T-LIGHT HOLDER",
                "Quantity": 6, "InvoiceDate": "2010-12-01 08:26:00", "Price": 2.55, "Customer_ID": "17850", "Country": "United Kingdom"}
        seq = "4959033827149025660855969253836157109592157598913%06d" % (i + 1)
        recs.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "part-00001", "sequenceNumber": seq,
                                 "data": base64.b64encode(json.dumps(sale).encode()).decode(), "approximateArrivalTimestamp": 1545084650.987},
                     "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:" + seq,
                     "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/bench",
                     "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/retail-trans"})
    return json.dumps({"Records": recs}).encode()

EVENT = event(records)

class Api(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        st = self.server.state
        if self.path != "/2018-06-01/runtime/invocation/next":
            self.send_error(404); return
        if st["served"]:
            self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers(); return
        st["served"] = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", st["id"])
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 60) * 1000)))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(EVENT)))
        self.end_headers()
        self.wfile.write(EVENT)
    def do_POST(self):
        st = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/2018-06-01/runtime/invocation/%s/response" % st["id"]:
            st["t1"] = time.perf_counter(); st["body"] = body
        else:
            st["error"] = (self.path, body)
        self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
        if "t1" in st or "error" in st: st["done"].set()

def once(cmd):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.state = {"id": str(uuid.uuid4()), "served": False, "done": threading.Event()}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RETAIL_", "ES_", "DOTNET_TieredPGO"))}
    env.update({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % server.server_address[1], "_HANDLER": "DeliverToS3",
                "RETAIL_LAKE": "s3://retail-bench/" + uuid.uuid4().hex[:12], "RETAIL_S3_ENDPOINT_URL": "http://127.0.0.1:" + s3port,
                "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "RETAIL_LOG_LEVEL": "Warning"})
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ok = server.state["done"].wait(120)
    _, status, usage = os.wait4(p.pid, 0)
    out = p.stdout.read().decode(errors="replace")
    server.shutdown(); server.server_close()
    st = server.state
    if not ok or "t1" not in st or json.loads(st["body"]) != {"batchItemFailures": []}:
        sys.exit("run failed: %r %r\n%s" % (st.get("error"), st.get("body"), out))
    return (st["t1"] - t0) * 1000, usage.ru_maxrss / 1024

results = {}
for name, cmd in (("native AOT  ./bootstrap", [aot]), ("JIT  dotnet bootstrap.dll", ["dotnet", jit])):
    once(cmd)  # one unmeasured run: the files are in the page cache for every measured run, for both alike
    results[name] = [once(cmd) for _ in range(runs)]

print()
print("Cold start: process start → first invocation's response (DeliverToS3, %d records to s3rver), %d runs each" % (records, runs))
print("| host | min ms | median ms | max ms | peak RSS MiB (median) |")
print("|---|---:|---:|---:|---:|")
for name, rs in results.items():
    ms = [r[0] for r in rs]; rss = [r[1] for r in rs]
    print("| %s | %.0f | %.0f | %.0f | %.0f |" % (name, min(ms), statistics.median(ms), max(ms), statistics.median(rss)))
print()
print("bootstrap: %.1f MiB; %s: %.1f MiB (%d bytes)" % (os.path.getsize(aot) / 2**20, os.path.basename(zip_path), os.path.getsize(zip_path) / 2**20, os.path.getsize(zip_path)))
PY
