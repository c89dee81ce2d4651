#!/usr/bin/env bash
# The main job against local stand-ins, on a fresh machine: installs what is missing, builds
# reconcile-tokens, starts moto (signature checking on) and the Kuma API stand-in on 127.0.0.1,
# creates two ECS clusters with tagged tasks (some still PROVISIONING/PENDING, as tasks waiting for
# their secret are) and their {} secrets, runs reconcile-tokens twice (the second pass writes
# nothing), prints the reports, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
echo "== building reconcile-tokens" >&2
swift build --product reconcile-tokens 2>&1 | tail -1 >&2
BIN="$(swift build --show-bin-path)/reconcile-tokens"

work="$(mktemp -d)"
mkfifo "$work/hold"
python3 scripts/peers/world.py demo --env-file "$work/env" < "$work/hold" > "$work/ready" &
world=$!
exec 9>"$work/hold"   # closing this stops the world (and the peers it started)
cleanup() { exec 9>&-; wait "$world" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 120); do [ -s "$work/ready" ] && break; sleep 0.5; done
[ -s "$work/ready" ] || { echo "demo: the local world did not start" >&2; exit 1; }
echo "== local world: $(cat "$work/ready")" >&2
set -a; . "$work/env"; set +a

echo
echo "== first pass: every secret is {} (web's holds an owner key of its own), so tokens are written"
"$BIN" --log-format text
echo
echo "== second pass: every token is valid, nothing is written and Kuma is not asked for tokens"
"$BIN" --log-format text
echo
echo "== what the sidecars will read (token values shortened here; the tool never prints them)"
python3 - <<'PY'
import json, os, boto3
sm = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
for name in ("web", "billing", "worker", "ledger"):
    value = json.loads(sm.get_secret_value(SecretId="kong-mesh-ecs/" + name)["SecretString"])
    shown = {k: (v[:12] + "...(%d chars)" % len(v) if k == "token" else v) for k, v in value.items()}
    print(f"  kong-mesh-ecs/{name}: {json.dumps(shown)}")
PY
echo
echo "== a dry run changes nothing either:"
"$BIN" --dry-run --log-level warning
