#!/usr/bin/env bash
# make run: serve moderation.yml on http://localhost:8080 with data under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
url="http://localhost:8080"
cat <<TXT

  Parley is starting on $url
    demo article (the widget as a host page embeds it):  $url/demo/
    moderators' console:                                 $url/console/
    health and metrics:                                  $url/healthz  $url/metrics

  First moderator:  build/parley moderator add NAME --role admin
  Stop with Ctrl-C (clients are told 1001, pending comments are committed).

TXT
exec build/parley serve --config moderation.yml --listen 127.0.0.1:8080 --data data
