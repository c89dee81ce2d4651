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

echo
echo "== reconcile-dns: a private zone svc.mesh.local and three MeshServices with VIPs"
swift build --product reconcile-dns 2>&1 | tail -1 >&2
DNS="$(swift build --show-bin-path)/reconcile-dns"
zone_listing() {
    python3 - <<'PY'
import os, boto3
r53 = boto3.client("route53", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
zone = os.environ["KMESH_RUNTIME_AWS_ROUTE53_HOSTED_ZONE_ID"]
for rr in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]:
    if rr["Type"] in ("A", "TXT"):
        print(f"  {rr['Name']:<34} {rr.get('TTL', '-'):>4}  IN  {rr['Type']:<4} {' '.join(v['Value'] for v in rr['ResourceRecords'])}")
PY
}
echo "-- first run: the records are created (each A with its TXT ownership companion)"
"$DNS" --log-level warning
echo "-- redis's VIP changes in the control plane: one record is updated"
python3 - "$KUMA_API_SERVER_URL" <<'PY'
import json, sys, urllib.request
item = {"type": "MeshService", "mesh": "default", "name": "redis", "labels": {"kuma.io/display-name": "redis", "kuma.io/origin": "zone"},
        "spec": {}, "status": {"addresses": [{"hostname": "redis.svc.mesh.local", "origin": "HostnameGenerator"}], "vips": [{"ip": "127.4.0.9"}]}}
req = urllib.request.Request(sys.argv[1] + "/__standin/resources", data=json.dumps({"items": [item]}).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
"$DNS" --log-level warning
echo "-- second run: nothing to change"
"$DNS" --log-level warning
echo "-- the zone, as dig would list it:"
zone_listing

echo
echo "== rotate-user-token: the reconcilers' own API token, kept in Secrets Manager, has 100 h left"
swift build --product rotate-user-token 2>&1 | tail -1 >&2
ROTATE="$(swift build --show-bin-path)/rotate-user-token"
python3 - "$KUMA_API_SERVER_URL" > "$work/old-token" <<'PY'
import json, os, sys, urllib.request, boto3
req = urllib.request.Request(sys.argv[1] + "/__standin/user-token", method="POST", headers={"Content-Type": "application/json"},
                             data=json.dumps({"name": "ecs-controller", "groups": ["mesh-system:admin"], "valid_for_seconds": 100 * 3600}).encode())
token = json.loads(urllib.request.urlopen(req).read())["token"]
sm = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
sm.create_secret(Name="kuma/controller-token", SecretString=token)
print(token)
PY
who_am_i() {  # GET /who-am-i with the token in $1; prints the user or the HTTP status
    python3 - "$KUMA_API_SERVER_URL" "$1" <<'PY'
import sys, urllib.request, urllib.error, json
req = urllib.request.Request(sys.argv[1] + "/who-am-i", headers={"Authorization": "Bearer " + open(sys.argv[2]).read().strip()})
try:
    print("accepted as " + json.loads(urllib.request.urlopen(req).read())["name"])
except urllib.error.HTTPError as e:
    print(f"rejected (HTTP {e.code})")
PY
}
export KUMA_API_TOKEN_SECRET_ID=kuma/controller-token
unset KUMA_API_TOKEN
echo "-- a run: the token is within --rotate-before (720h), so a new one is minted, tested and made AWSCURRENT"
"$ROTATE" --log-level warning
echo "-- the reconcilers read their token from the secret and keep working with the new one:"
"$DNS" --log-level warning | tail -1
echo "-- the old token still works during the grace period: $(who_am_i "$work/old-token")"
sleep 1.2   # the grace period below is one second
echo "-- after the grace period (--revoke-after 1s here; 24h by default) the previous token is revoked:"
"$ROTATE" --revoke-after 1s --log-level warning
echo "-- the old token now: $(who_am_i "$work/old-token")"
