#!/usr/bin/env bash
# The dabba CLI end to end: start the embedded broker, send 12 keyed order events over 4 customers into a
# 6-partition topic, read them back, and show which partition each key landed on.
# Usage: scripts/demo.sh [path/to/dabba]   (default: the debug build's dabba)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DABBA=${1:-"$(swift build --show-bin-path)/dabba"}
[ -x "$DABBA" ] || { echo "error: $DABBA is not an executable; run 'make build' first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dabba-demo.XXXXXX")
broker_pid=""
stop_broker() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid"
        wait "$broker_pid" || true
    fi
    broker_pid=""
}
cleanup() {
    stop_broker
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

step "Starting the embedded broker: dabba broker --topic orders:6 --bootstrap-file …"
"$DABBA" broker --topic orders:6 --bootstrap-file "$work/bootstrap" >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 1 300); do
    [ -f "$work/bootstrap" ] && break
    if ! kill -0 "$broker_pid" 2>/dev/null; then
        echo "error: dabba broker exited before it was ready:" >&2
        cat "$work/broker.err" >&2
        exit 1
    fi
    sleep 0.1
done
[ -f "$work/bootstrap" ] || { echo "error: dabba broker was not ready within 30 s" >&2; exit 1; }
export DABBA_BOOTSTRAP
DABBA_BOOTSTRAP=$(cat "$work/bootstrap")
echo "broker ready at $DABBA_BOOTSTRAP (DABBA_BOOTSTRAP is set, so no -b below)"

step "Producing 12 order events for 4 customers: dabba produce --topic orders --key-separator '|'"
for i in $(seq 1 12); do
    customer="customer-$(( (i - 1) % 4 + 1 ))"
    printf '%s|{"order":"o-%d","customer":"%s","total":%d.50}\n' "$customer" $((1000 + i)) "$customer" $((10 + i * 3))
done >"$work/orders.txt"
head -n 3 "$work/orders.txt"
echo "…"
"$DABBA" produce --topic orders --key-separator '|' --header source=demo <"$work/orders.txt" >"$work/deliveries.jsonl"
head -n 3 "$work/deliveries.jsonl"
echo "… ($(wc -l <"$work/deliveries.jsonl") delivery reports)"

step "Consuming them back: dabba consume --topic orders --max 12"
"$DABBA" consume --topic orders --max 12 >"$work/consumed.jsonl"
head -n 2 "$work/consumed.jsonl"
echo "… ($(wc -l <"$work/consumed.jsonl") messages)"

step "Where each key went"
python3 - "$work/deliveries.jsonl" "$work/consumed.jsonl" <<'PY'
import json, sys
deliveries = [json.loads(line) for line in open(sys.argv[1])]
consumed = [json.loads(line) for line in open(sys.argv[2])]
by_key = {}
for message in consumed:
    by_key.setdefault(message["key"], []).append(message)
print(f"{'key':<12} {'partition':>9}  {'offsets':<10} orders")
for key in sorted(by_key):
    messages = sorted(by_key[key], key=lambda m: m["offset"])
    partitions = sorted({m["partition"] for m in messages})
    offsets = ",".join(str(m["offset"]) for m in messages)
    orders = " ".join(json.loads(m["value"])["order"] for m in messages)
    print(f"{key:<12} {','.join(map(str, partitions)):>9}  {offsets:<10} {orders}")
problems = []
if len(consumed) != 12 or len(deliveries) != 12:
    problems.append(f"expected 12 deliveries and 12 messages, got {len(deliveries)} and {len(consumed)}")
if {(d["partition"], d["offset"]) for d in deliveries} != {(m["partition"], m["offset"]) for m in consumed}:
    problems.append("consumed messages are not the ones delivered")
if any(len({m["partition"] for m in ms}) != 1 for ms in by_key.values()):
    problems.append("a key was spread over several partitions")
if any(m["headers"].get("source") != "demo" for m in consumed):
    problems.append("a message lost its header")
if problems:
    sys.exit("error: " + "; ".join(problems))
print("\nEach customer's orders share one partition (murmur2 of the key, as the Java client picks)")
print("and keep their order.")
PY

step "Stopping the broker (SIGTERM)"
kill -TERM "$broker_pid"
status=0
wait "$broker_pid" || status=$?
broker_pid=""
[ "$status" -eq 0 ] || { echo "error: dabba broker exited with $status" >&2; cat "$work/broker.err" >&2; exit 1; }
echo "broker stopped cleanly; done"
