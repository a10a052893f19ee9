#!/usr/bin/env bash
# The main job on this machine: local Kafka, one worker on embedded ClickHouse, a generated day
# of traffic produced to Kafka, the usage report read from the running worker, and the
# balances that traffic drew down (a plan, five subscribed apps, the money store in SQLite).
# Each run starts clean: its own topics (a fresh prefix) and its own store (billing-data/demo),
# so a second run does not see the first run's event ids as duplicates.
set -euo pipefail
cd "$(dirname "$0")/.."
BM=.venv/bin/billing-meter
PORT=${BILLING_WEB_PORT:-6066}
EVENTS=${DEMO_EVENTS:-50000}
PREFIX="demo-$(date +%s)."
STORE="chdb://billing-data/demo/chdb"
export BILLING_DB_URL="sqlite:///billing-data/demo/billing.db" BILLING_POST_INTERVAL=2
# a sample seller: without one, invoices stay drafts (issue #23)
export BILLING_SELLER="${BILLING_SELLER:-Demo Bots GmbH|Musterstrasse 1|10115 Berlin|Germany|VAT ID: DE000000000}"
rm -rf billing-data/demo
mkdir -p billing-data/demo

deploy/kafka/local.sh start
$BM generate billing-data/demo-events.jsonl --events "$EVENTS"
$BM users add demo-owner --role owner > billing-data/demo/owner-key.json
# nothing is readable without a key: the demo's admin signs in to the pages and reads the API
$BM users add demo-admin --role admin > billing-data/demo/admin-key.json
BILLING_API_KEY=$(.venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["api_key"])' \
  < billing-data/demo/admin-key.json)
export BILLING_API_KEY
AUTH="Authorization: Bearer $BILLING_API_KEY"
$BM plans add starter --name Starter --currency USD --fee 49.00 \
  --included billing_sessions=500,voice_sessions=100,agents=50 \
  --price billing_sessions=0.05,voice_sessions=0.10,agents=15 >/dev/null
START=$(date -u -d '2 days ago' +%F)
for n in 1 2 3 4 5; do
  $BM subscribe "app-$n" --plan starter --owner demo-owner --start "$START" --tz Asia/Kolkata >/dev/null
  $BM funds add "app-$n" 200.00 --idempotency-key "demo-$n" >/dev/null
done
$BM worker --web-port "$PORT" --topic-prefix "$PREFIX" --clickhouse "$STORE" \
  > billing-data/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break
  kill -0 $WORKER 2>/dev/null || { echo "worker exited; see billing-data/worker.log" >&2; exit 1; }
  sleep 1
done
$BM produce billing-data/demo-events.jsonl --topic-prefix "$PREFIX"
echo "waiting for the worker to catch up..."
last=""; same=0
for _ in $(seq 1 300); do
  now=$(curl -sf -H "$AUTH" "http://127.0.0.1:$PORT/api/usage?range=24h&all_apps=1" || true)
  if [ -n "$now" ] && [ "$now" != "[]" ] && [ "$now" = "$last" ]; then
    same=$((same + 1)); [ $same -ge 3 ] && break
  else
    same=0
  fi
  last=$now; sleep 2
done
$BM usage --api "http://127.0.0.1:$PORT" --range 24h --all-apps
echo
sleep 5  # two posting passes of the billing role (BILLING_POST_INTERVAL=2)
echo "balances (plan starter: 49.00 a month, 200.00 added; usage beyond what is included is charged):"
$BM balance
echo
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^billing_(events_total|sessions_opened_total)' || true
echo "Sign in to the pages with the demo admin's key: $BILLING_API_KEY"
echo "  (also in billing-data/demo/admin-key.json; the owner's is in owner-key.json)"
if [ -n "${DEMO_SERVE:-}" ]; then
  echo "Usage page: http://127.0.0.1:$PORT/usage  (metrics: /metrics; Ctrl-C stops the worker)"
  wait $WORKER
else
  echo "DEMO_SERVE=1 make demo keeps the worker running for the Usage page at http://127.0.0.1:$PORT/usage"
fi
echo "The store stays in billing-data/demo: billing-meter usage --clickhouse $STORE --all-apps"
echo "The money store too: billing-meter ledger --db $BILLING_DB_URL"
echo "The Kafka broker (deploy/kafka/local.sh, java -Xmx1g) is still running on 127.0.0.1:${KAFKA_PORT:-9092}: make kafka-stop stops it"
