#!/usr/bin/env bash
# Compiles the frontend operations in this folder against the API's SDL with graphql-codegen
# (then typechecks the generated types and their consumers with tsc) and with relay-compiler.
# Exits non-zero when any of them fails. Quiet on success: one line per tool.
#
#   tools/frontend-check/run.sh                      # against the committed schema.graphql
#   SCHEMA=/tmp/other.graphql tools/frontend-check/run.sh
#   SKIP_NPM_CI=1 tools/frontend-check/run.sh        # reuse node_modules (local loop)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

SCHEMA="$(realpath "${SCHEMA:-../../schema.graphql}")"
export SCHEMA
[[ -f "$SCHEMA" ]] || { echo "frontend-check: no schema at $SCHEMA" >&2; exit 2; }

log="$(mktemp -t frontend-check.XXXXXX)"
trap 'rm -f "$log"' EXIT

failed=()
# Runs a step with its output in $log. On failure prints the log, records the step and
# returns non-zero (so the next independent tool still runs and reports too).
step() {
  local name="$1"; shift
  if ! "$@" >"$log" 2>&1; then
    echo "frontend-check: $name FAILED" >&2
    # graphql-codegen's progress lines say nothing about the failure: leave them out.
    grep -vE '^[[:space:]]*(❯|✔) ' "$log" >&2 || true
    failed+=("$name")
    return 1
  fi
}

start=$SECONDS
if [[ "${SKIP_NPM_CI:-}" != 1 ]]; then
  step "npm ci" npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

rm -rf generated relay/__generated__
mkdir -p generated relay/__generated__

version() { node -p "require('$1/package.json').version"; }

if step "graphql-codegen" node_modules/.bin/graphql-codegen --config codegen.ts; then
  docs=$(cat codegen/operations/*.graphql | grep -cE '^(query|mutation|subscription|fragment) ')
  echo "graphql-codegen $(version @graphql-codegen/cli): ok, $docs operations and fragments from codegen/operations -> generated/"
  # tsc checks what codegen generated, so it runs only when codegen passed.
  if step "tsc" node_modules/.bin/tsc -p tsconfig.json; then
    echo "tsc $(version typescript): ok, generated types and codegen/consumers.ts typecheck (strict)"
  fi
fi

relay_config=relay.config.json
if [[ "$SCHEMA" != "$(realpath ../../schema.graphql)" ]]; then
  # relay-compiler takes no --schema with a config file: write a copy of the config that
  # points at $SCHEMA (absolute paths, so it works from generated/).
  relay_config=generated/relay.config.json
  node -e '
    const path = require("path"), fs = require("fs");
    const c = JSON.parse(fs.readFileSync("relay.config.json", "utf8"));
    c.schema = process.env.SCHEMA;
    c.src = path.resolve(c.src);
    c.artifactDirectory = path.resolve(c.artifactDirectory);
    fs.writeFileSync(process.argv[1], JSON.stringify(c, null, 2));
  ' "$relay_config"
fi
if step "relay-compiler" node_modules/.bin/relay-compiler --output quiet-with-errors "$relay_config"; then
  artifacts=$(find relay/__generated__ -name '*.graphql.js' | wc -l)
  echo "relay-compiler $(version relay-compiler): ok, $artifacts artifacts from relay/src -> relay/__generated__"
fi

shown="${SCHEMA#"$(realpath ../..)/"}"
if ((${#failed[@]})); then
  echo "frontend-check: FAILED against $shown (${failed[*]}); see tools/frontend-check/README.md" >&2
  exit 1
fi
echo "frontend-check: passed against $shown in $((SECONDS - start)) s"
