#!/usr/bin/env python3
"""A stand-in for the Kuma / Kong Mesh control-plane API, following the contract the reconcilers
rely on (docs: ../shared/reference/kuma-api.md when present; Kuma v2.11 source otherwise).

Contract endpoints
  GET  /who-am-i
  POST /tokens/dataplane   {"mesh", "tags"?, "type"?, "name"?, "validFor"?}  -> 200 text/plain JWT
  POST /tokens/user        {"name", "groups", "validFor"}                   -> 200 text/plain JWT
  GET  /meshes, /meshes/{mesh}/{dataplanes|meshservices|meshexternalservices|meshmultizoneservices},
       /hostnamegenerators   -> {"total", "items", "next"}; ?size (default 100, max 1000) &offset
  GET|PUT /global-secrets/{name}   (admin only; user-token-revocations revokes user tokens by jti)
Behaviour kept from the real control plane: RS256 JWTs with Kuma's claim shapes (dataplane
Name/Mesh/Tags/Type, user Name/Groups; jti, iat = nbf = now-5s, exp); 401 "Invalid authentication
data" for a bad, expired or revoked bearer; 403 "Access Denied" without mesh-system:admin; 404
"Signing Key not found" for a mesh without a dataplane signing key; 400 with an EMPTY body for bad
JSON; plain-text 415/406/405; the std-errors JSON shape for every other error.

Test controls under /__standin/ (never part of the contract):
  POST /__standin/meshes {"name"}                 creates a mesh and its dataplane signing key
  POST /__standin/resources {"items": [...]}      adds MeshServices, MeshExternalServices, MeshMultiZoneServices,
                                                  Dataplanes (by their "type") and HostnameGenerators
  POST /__standin/faults {"path": "/tokens/dataplane", "mesh"?: M, "fault": "500"|"503"|"delay"|"drop",
                          "count": N (-1: always), "delay_ms"?}     DELETE clears them
  POST /__standin/user-token {"name", "groups", "valid_for_seconds"}  issues a user token directly
  POST /__standin/verify {"token"}                -> {"valid", "kind", "claims", "reason"}
  GET  /__standin/calls                           -> {"POST /tokens/dataplane": n, "POST /tokens/dataplane mesh=M": n, ...}
  GET  /__standin/concurrency                     -> {"in_flight", "max_in_flight"}: contract requests served at once
  POST /__standin/reset                           zeroes counts, clears faults

    python3 kuma_standin.py [--meshes default,payments] [--tls DIR]
The ready line carries admin_token, member_token (no admin group), expired_token, revoked_token,
forged_token (signed by an unknown key) and, with --tls, ca_file.
"""
import argparse
import base64
import datetime
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import peerlib

ADMIN_GROUP = "mesh-system:admin"
TEN_YEARS = 10 * 365 * 24 * 3600
DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
MESH_SCOPED = {"dataplanes": "Dataplane", "meshservices": "MeshService",
               "meshexternalservices": "MeshExternalService", "meshmultizoneservices": "MeshMultiZoneService"}


def go_duration_seconds(text):
    """Parses a Go duration ("8760h", "720h0m0s", "1h30m", "0"); None when invalid."""
    if text == "0":
        return 0
    if not DURATION_RE.match(text):
        return None
    return sum(float(n) * UNIT_SECONDS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SigningKey:
    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def sign(self, claims):
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = signing_input + "." + b64url(signature)
        peerlib.record_secret(token)
        return token

    def verify(self, token):
        try:
            head, body, sig = token.split(".")
            self.private.public_key().verify(b64url_decode(sig), (head + "." + body).encode(),
                                             padding.PKCS1v15(), hashes.SHA256())
            return json.loads(b64url_decode(body))
        except (ValueError, InvalidSignature):
            return None


class ControlPlane:
    def __init__(self, meshes):
        self.lock = threading.Lock()
        self.user_key = SigningKey("1")
        self.mesh_keys = {}
        self.meshes = []
        for m in meshes:
            self.add_mesh(m)
        self.resources = []          # mesh-scoped new-style resources and dataplanes
        self.hostname_generators = []
        self.global_secrets = {}
        self.revoked = set()
        self.faults = []
        self.calls = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def add_mesh(self, name):
        with self.lock:
            if name not in self.mesh_keys:
                self.mesh_keys[name] = SigningKey("1")
                self.meshes.append({"type": "Mesh", "name": name, "creationTime": now_iso(), "modificationTime": now_iso()})

    def user_token(self, name, groups, valid_for):
        now = int(time.time())
        claims = {"Name": name, "Groups": groups, "exp": now + int(valid_for), "nbf": now - 5, "iat": now - 5,
                  "jti": str(uuid.uuid4())}
        return self.user_key.sign(claims), claims

    def authenticate(self, header):
        """(user, None) for a good bearer, (anonymous, None) without one, (None, reason) for a bad one."""
        if not header:
            return {"name": "mesh-system:anonymous", "groups": ["mesh-system:unauthenticated"]}, None
        if not header.startswith("Bearer "):
            return {"name": "mesh-system:anonymous", "groups": ["mesh-system:unauthenticated"]}, None
        claims = self.user_key.verify(header[len("Bearer "):])
        if claims is None:
            return None, "could not parse or verify the token"
        if claims.get("exp", 0) < time.time():
            return None, "token expired"
        if claims.get("jti") in self.revoked:
            return None, "token is revoked"
        return {"name": claims.get("Name", ""), "groups": list(claims.get("Groups") or []) + ["mesh-system:authenticated"]}, None

    def take_fault(self, path, mesh):
        with self.lock:
            for f in self.faults:
                if path.startswith(f.get("path", "/")) and f.get("mesh") in (None, mesh) and f.get("count", 1) != 0:
                    if f.get("count", 1) > 0:
                        f["count"] = f.get("count", 1) - 1
                    return dict(f)
        return None

    def count(self, key):
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def std_error(status, title, detail="", invalid=None):
    body = {"type": "/std-errors", "status": status, "title": title, "detail": detail}
    if invalid:
        body["invalid_parameters"] = [{"field": f, "reason": r} for f, r in invalid]
        body["details"] = detail
        body["causes"] = [{"field": f, "message": r} for f, r in invalid]
    return body


class Handler(peerlib.QuietHandler):
    cp: ControlPlane = None

    # -- plumbing ---------------------------------------------------------------------------------
    def plain(self, status, text):
        self.send_bytes(status, text.encode(), "text/plain; charset=utf-8")

    def error(self, status, title, detail="", invalid=None):
        self.send_json(status, std_error(status, title, detail, invalid))

    def dispatch(self, method):
        cp = self.server.cp
        if self.path.startswith("/__standin/"):
            return self.serve(method)
        with cp.lock:
            cp.in_flight += 1
            cp.max_in_flight = max(cp.max_in_flight, cp.in_flight)
        try:
            return self.serve(method)
        finally:
            with cp.lock:
                cp.in_flight -= 1

    def serve(self, method):
        cp = self.server.cp
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/__standin/"):
            return self.control(method, url, body)
        route = self.route(method, url.path)
        cp.count(f"{method} {route}")
        user, reason = cp.authenticate(self.headers.get("Authorization"))
        if user is None:
            return self.error(401, "Invalid authentication data", "Unauthenticated")
        mesh_hint = None
        if route == "/tokens/dataplane":
            try:
                mesh_hint = json.loads(body).get("mesh")
            except (ValueError, AttributeError):
                pass
            cp.count(f"{method} {route} mesh={mesh_hint}")
        fault = cp.take_fault(url.path, mesh_hint)
        if fault:
            if fault["fault"] == "drop":
                return self.drop_connection()
            if fault["fault"] == "delay":
                time.sleep(fault.get("delay_ms", 1000) / 1000)
            else:
                status = int(fault["fault"])
                return self.error(status, "Could not process the request", "Internal Server Error" if status == 500 else "Service Unavailable")
        handler = {
            ("GET", "/who-am-i"): self.who_am_i,
            ("POST", "/tokens/dataplane"): self.dataplane_token,
            ("POST", "/tokens/user"): self.user_token,
        }.get((method, route))
        if handler:
            return handler(user, body)
        if route in ("/tokens/dataplane", "/tokens/user", "/who-am-i"):
            return self.plain(405, "405: Method Not Allowed")
        if route.startswith("/global-secrets/"):
            return self.global_secret(method, user, url.path.split("/", 2)[2], body)
        if method == "GET":
            return self.listing(url)
        self.plain(404, "404 page not found")

    @staticmethod
    def route(method, path):
        return path.rstrip("/") or "/"

    def content_negotiation_ok(self):
        """Token endpoints: JSON in (415 otherwise), JSON or text out (406 otherwise)."""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self.plain(415, "415: Unsupported Media Type")
            return False
        accept = self.headers.get("Accept")
        if accept and not any(a.split(";")[0].strip() in ("*/*", "application/*", "application/json", "text/plain", "text/*")
                              for a in accept.split(",")):
            self.plain(406, "406: Not Acceptable")
            return False
        return True

    # -- contract ---------------------------------------------------------------------------------
    def who_am_i(self, user, _):
        self.send_json(200, user)

    def dataplane_token(self, user, body):
        cp = self.server.cp
        if not self.content_negotiation_ok():
            return
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            return self.send_bytes(400, b"", None)
        invalid = []
        mesh = req.get("mesh") or ""
        if not mesh:
            invalid.append(("mesh", "cannot be empty"))
        valid_for = req.get("validFor") or ""
        seconds = TEN_YEARS if valid_for == "" else go_duration_seconds(valid_for)
        if seconds is None:
            invalid.append(("validFor", "could not parse the duration"))
        kind = req.get("type") or "dataplane"
        if kind not in ("dataplane", "ingress", "egress"):
            invalid.append(("type", "must be one of dataplane, ingress, egress"))
        tags = req.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, list) for v in tags.values()):
            invalid.append(("tags", "must be a map of lists"))
        if invalid:
            return self.error(400, "Invalid request", "Resource is not valid", invalid)
        if ADMIN_GROUP not in user["groups"]:
            return self.error(403, "Access Denied", f"user \"{user['name']}\" cannot access the resource")
        key = cp.mesh_keys.get(mesh)
        if key is None:
            return self.error(404, "Signing Key not found",
                              f"there is no signing key with KID 1 in the control plane: dataplane-token-signing-key-{mesh}-1")
        now = int(time.time())
        claims = {"Name": req.get("name") or "", "Mesh": mesh, "Tags": tags, "Type": kind if req.get("type") else "",
                  "exp": now + int(seconds), "nbf": now - 5, "iat": now - 5, "jti": str(uuid.uuid4())}
        self.send_bytes(200, key.sign(claims).encode(), "text/plain")

    def user_token(self, user, body):
        cp = self.server.cp
        if not self.content_negotiation_ok():
            return
        if ADMIN_GROUP not in user["groups"]:
            return self.error(403, "Access Denied", f"user \"{user['name']}\" cannot access the resource")
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            return self.send_bytes(400, b"", None)
        invalid = []
        if not req.get("name"):
            invalid.append(("name", "cannot be empty"))
        seconds = go_duration_seconds(req.get("validFor") or "")
        if not seconds:
            invalid.append(("validFor", "cannot be empty or zero"))
        if invalid:
            return self.error(400, "Invalid request", "Resource is not valid", invalid)
        token, _ = cp.user_token(req["name"], list(req.get("groups") or []), seconds)
        self.send_bytes(200, token.encode(), "text/plain")

    def global_secret(self, method, user, name, body):
        cp = self.server.cp
        if ADMIN_GROUP not in user["groups"]:
            return self.error(403, "Access Denied", "To access this endpoint you need to be admin.")
        if method == "GET":
            secret = cp.global_secrets.get(name)
            if secret is None:
                return self.error(404, "Could not retrieve a resource", "Not found")
            return self.send_json(200, secret)
        if method != "PUT":
            return self.plain(405, "405: Method Not Allowed")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return self.plain(415, "415: Unsupported Media Type")
        try:
            req = json.loads(body)
            data = base64.b64decode(req["data"], validate=True)
        except (ValueError, KeyError, TypeError):
            return self.send_bytes(400, b"", None)
        if req.get("type") != "GlobalSecret" or req.get("name") != name:
            return self.error(400, "Could not update a resource", "Resource is not valid",
                              [("name", "must match the path and type must be GlobalSecret")])
        created = name not in cp.global_secrets
        with cp.lock:
            cp.global_secrets[name] = {"type": "GlobalSecret", "name": name, "data": req["data"]}
            if name == "user-token-revocations":
                cp.revoked = {j.strip() for j in data.decode().split(",") if j.strip()}
        self.send_bytes(201 if created else 200, b"", None)

    def listing(self, url):
        cp = self.server.cp
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        try:
            size = int(query.get("size", ["100"])[0])
            offset = int(base64.urlsafe_b64decode(query["offset"][0]).decode()) if "offset" in query else 0
        except (ValueError, KeyError):
            return self.error(400, "Bad Request", "Invalid offset", [("offset", "Invalid format")])
        if size > 1000:
            return self.error(400, "Bad Request", "Invalid page size", [("size", "Invalid page size of 1001. Maximum page size is 1000")])
        if size < 1:
            return self.error(400, "Bad Request", "Invalid page size", [("size", "Invalid format")])
        if parts == ["meshes"]:
            items = list(cp.meshes)
        elif parts == ["hostnamegenerators"]:
            items = list(cp.hostname_generators)
        elif len(parts) == 3 and parts[0] == "meshes" and parts[2] in MESH_SCOPED:
            if parts[1] not in cp.mesh_keys:
                return self.error(404, "Failed to retrieve Mesh", "Not found")
            items = [r for r in cp.resources if r.get("mesh") == parts[1] and r.get("type") == MESH_SCOPED[parts[2]]]
        elif len(parts) == 2 and parts[0] == "meshes":
            mesh = next((m for m in cp.meshes if m["name"] == parts[1]), None)
            return self.send_json(200, mesh) if mesh else self.error(404, "Could not retrieve a resource", "Not found")
        else:
            return self.plain(404, "404 page not found")
        items.sort(key=lambda r: (r.get("mesh", ""), r.get("name", "")))
        page = items[offset:offset + size]
        nxt = None
        if offset + size < len(items):
            params = {"size": str(size), "offset": base64.urlsafe_b64encode(str(offset + size).encode()).decode()}
            nxt = f"{'https' if self.server.tls_context else 'http'}://{self.headers.get('Host')}{url.path}?{urlencode(params)}"
        self.send_json(200, {"total": len(items), "items": page, "next": nxt})

    # -- test controls ----------------------------------------------------------------------------
    def control(self, method, url, body):
        cp = self.server.cp
        req = json.loads(body) if body else {}
        path = url.path
        if path == "/__standin/meshes" and method == "POST":
            cp.add_mesh(req["name"])
            return self.send_json(200, {"meshes": [m["name"] for m in cp.meshes]})
        if path == "/__standin/resources" and method == "POST":
            with cp.lock:
                for item in req.get("items", []):
                    target = cp.hostname_generators if item.get("type") == "HostnameGenerator" else cp.resources
                    target[:] = [r for r in target if not (r.get("name") == item.get("name") and r.get("mesh") == item.get("mesh")
                                                           and r.get("type") == item.get("type"))]
                    target.append(item)
            return self.send_json(200, {"resources": len(cp.resources), "hostnamegenerators": len(cp.hostname_generators)})
        if path == "/__standin/resources" and method == "DELETE":
            with cp.lock:
                cp.resources.clear()
                cp.hostname_generators.clear()
            return self.send_json(200, {})
        if path == "/__standin/faults" and method == "POST":
            with cp.lock:
                cp.faults.append(req)
            return self.send_json(200, {"faults": len(cp.faults)})
        if path == "/__standin/faults" and method == "DELETE":
            with cp.lock:
                cp.faults.clear()
            return self.send_json(200, {})
        if path == "/__standin/user-token" and method == "POST":
            token, claims = cp.user_token(req["name"], req.get("groups", []), req.get("valid_for_seconds", 3600))
            return self.send_json(200, {"token": token, "jti": claims["jti"]})
        if path == "/__standin/verify" and method == "POST":
            return self.send_json(200, self.verify(req.get("token", "")))
        if path == "/__standin/calls":
            with cp.lock:
                return self.send_json(200, dict(cp.calls))
        if path == "/__standin/concurrency":
            with cp.lock:
                return self.send_json(200, {"in_flight": cp.in_flight, "max_in_flight": cp.max_in_flight})
        if path == "/__standin/reset" and method == "POST":
            with cp.lock:
                cp.calls.clear()
                cp.faults.clear()
                cp.max_in_flight = cp.in_flight
            return self.send_json(200, {})
        self.plain(404, "unknown control path")

    def verify(self, token):
        cp = self.server.cp
        try:
            header = json.loads(b64url_decode(token.split(".")[0]))
        except (ValueError, IndexError):
            return {"valid": False, "reason": "not a JWT"}
        claims = cp.user_key.verify(token)
        kind = "user"
        if claims is None or "Mesh" in claims:
            claims, kind = None, "dataplane"
            for mesh, key in cp.mesh_keys.items():
                c = key.verify(token)
                if c is not None and c.get("Mesh") == mesh:
                    claims = c
                    break
        if claims is None:
            return {"valid": False, "reason": "signature does not verify with any signing key", "header": header}
        if claims.get("exp", 0) < time.time():
            return {"valid": False, "reason": "expired", "kind": kind, "claims": claims, "header": header}
        return {"valid": True, "kind": kind, "claims": claims, "header": header}

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meshes", default="default", help="comma-separated meshes to create at start")
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a fresh CA written to DIR")
    parser.add_argument("--foreground", action="store_true", help="keep serving when stdin closes (for the demo)")
    args = parser.parse_args()
    cp = ControlPlane([m for m in args.meshes.split(",") if m])
    admin, _ = cp.user_token("mesh-system:admin", [ADMIN_GROUP], TEN_YEARS)
    cp.global_secrets["admin-user-token"] = {"type": "GlobalSecret", "name": "admin-user-token",
                                             "data": base64.b64encode(admin.encode()).decode()}
    member, _ = cp.user_token("viewer", ["team-web"], 24 * 3600)
    expired, _ = cp.user_token("ecs-controller", [ADMIN_GROUP], -60)
    revoked, revoked_claims = cp.user_token("ecs-controller", [ADMIN_GROUP], 24 * 3600)
    cp.revoked.add(revoked_claims["jti"])
    cp.global_secrets["user-token-revocations"] = {"type": "GlobalSecret", "name": "user-token-revocations",
                                                   "data": base64.b64encode(revoked_claims["jti"].encode()).decode()}
    forged = SigningKey("1").sign({"Name": "intruder", "Groups": [ADMIN_GROUP], "exp": int(time.time()) + 3600,
                                   "nbf": 0, "iat": 0, "jti": str(uuid.uuid4())})
    context, ca = (peerlib.make_tls_material(args.tls) if args.tls else (None, None))
    server = peerlib.LoopbackServer(Handler, context)
    server.cp = cp
    info = {"admin_token": admin, "member_token": member, "expired_token": expired, "revoked_token": revoked,
            "forged_token": forged, "scheme": "https" if ca else "http"}
    if ca:
        info["ca_file"] = ca
    peerlib.serve(server, info, foreground=args.foreground)


if __name__ == "__main__":
    main()
