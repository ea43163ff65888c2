#!/usr/bin/env bash
# make eval: precision and recall of the default rules on ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/eval.js "$@"
