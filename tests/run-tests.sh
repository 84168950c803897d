#!/usr/bin/env bash
# The whole test suite, from a clean clone: restores, builds (Release) and runs every test project,
# then prints one closing line "N passed, N failed[, N skipped]" with the real totals.
# Test fixtures start (and stop) the real components they need on 127.0.0.1; this script installs
# what those components need first, so nothing has to be installed by hand.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ -x tests/setup.sh ]; then
  tests/setup.sh || { echo "test set-up failed"; echo "0 passed, 1 failed"; exit 1; }
fi

# Build everything first (libraries, CLI, samples, benchmarks, tests): a warning is an error here.
dotnet build Retail.sln -c Release 2>&1 | tee "$log"
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" -ne 0 ]; then
  echo "the solution does not build"
  echo "0 passed, 1 failed"
  exit 1
fi

# The Lambda host's AOT zip, once, by its documented publish command: the Lambda tests run the bootstrap it leaves and the
# CDK tests and tests/cdk-synth.sh synthesize the stack with the zip (two publishes of one project at once would race on
# its obj/ folder). A failed publish counts as one failure; the fixtures then try the publish themselves and say why.
lambda_dir=src/Retail.Hosting/Retail.Hosting.Lambda/bin/Release/net10.0/linux-x64
publish_log=$(mktemp)
trap 'rm -f "$log" "$publish_log"' EXIT
publish_failed=0
if dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64 -nodeReuse:false > "$publish_log" 2>&1; then
  export RETAIL_LAMBDA_PUBLISH_DIR="$PWD/$lambda_dir/publish" RETAIL_LAMBDA_ZIP="$PWD/$lambda_dir/retail-lambda.zip" RETAIL_LAMBDA_PUBLISH_LOG="$publish_log"
  echo "Lambda host published: $RETAIL_LAMBDA_ZIP"
else
  echo "the Lambda host does not publish:"; cat "$publish_log"; publish_failed=1
fi

dotnet test Retail.sln -c Release --no-build "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# vstest prints one summary per test assembly:
#   Passed!  - Failed:     0, Passed:    55, Skipped:     0, Total:    55, Duration: ...
read -r passed failed skipped assemblies < <(
  sed -nE 's/.*(Passed|Failed)! +- +Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+), Total.*/\3 \2 \4/p' "$log" |
    awk '{p+=$1; f+=$2; s+=$3; n++} END {printf "%d %d %d %d\n", p, f, s, n}')
projects=$(dotnet sln Retail.sln list | grep -c 'Tests\.csproj$' || true)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $rc (build error, or a test host that crashed): counting that as a failure"
  failed=1
elif [ "$assemblies" -lt "$projects" ]; then
  echo "only $assemblies of $projects test projects reported results: counting that as a failure"
  failed=$((failed + 1))
  rc=1
fi
if [ "$publish_failed" -ne 0 ]; then failed=$((failed + 1)); rc=1; fi
# The README's `cdk synth` with the locked CLI, offline, must give the golden template: one more check.
if [ -n "${RETAIL_LAMBDA_ZIP:-}" ]; then
  if out=$(tests/cdk-synth.sh 2>&1); then
    echo "cdk synth: passed"; passed=$((passed + 1))
  else
    echo "cdk synth: FAILED"; echo "$out"; failed=$((failed + 1)); rc=1
  fi
fi
# The samples must compile (they did, in the solution build) and run: each is one more check.
for sample in samples/*/; do
  name=$(basename "$sample")
  out=$(mktemp -d)
  if dotnet run -c Release --no-build --project "$sample" -- "$out/lake" > "$out/log" 2>&1; then
    echo "sample $name: passed"; passed=$((passed + 1))
  else
    echo "sample $name: FAILED"; cat "$out/log"; failed=$((failed + 1)); rc=1
  fi
  rm -rf "$out"
done

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$rc"
