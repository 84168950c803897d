#!/usr/bin/env bash
# The README's `cdk synth`, offline: installs the locked CLI (npm ci) when node_modules is missing or older than the
# lock, synthesizes the app with the CLI, and checks that the template equals the xunit tests' golden
# (tests/Retail.Hosting.Cdk.Tests/Golden/retail-pipeline.firehose.template.json). Exit 0 when it does.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/src/Retail.Hosting/Retail.Hosting.Cdk.App"
golden="$root/tests/Retail.Hosting.Cdk.Tests/Golden/retail-pipeline.firehose.template.json"
cd "$app"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
  touch node_modules
fi
export CDK_DISABLE_CLI_TELEMETRY=true AWS_EC2_METADATA_DISABLED=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1
rm -rf cdk.out
npx --no-install cdk synth --quiet
node -e '
const fs = require("fs");
const [actual, golden] = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f, "utf8")));
// The asset hash of the zip changes with every publish (the zip holds timestamps): compared as <asset-hash>, as in the xunit golden.
const norm = v => JSON.stringify(v, null, 2).replace(/"[0-9a-f]{64}(\.zip)?"/g, (_, zip) => `"<asset-hash>${zip ?? ""}"`);
if (norm(actual) !== JSON.stringify(golden, null, 2)) { console.error("cdk.out/RetailPipeline.template.json differs from " + process.argv[2]); process.exit(1); }
console.log("cdk synth: the template equals the golden");
' cdk.out/RetailPipeline.template.json "$golden"
