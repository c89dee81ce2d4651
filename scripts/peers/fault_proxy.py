#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of an AWS endpoint (moto never throttles) or, with
--kind kuma, in front of the Kuma API stand-in.

Requests are forwarded unchanged (Host included, so signatures still verify upstream) unless a
fault rule matches the request's operation. Operations are named `<Service>.<Operation>`:
ECS.ListTasks, SecretsManager.PutSecretValue, Route53.ListResourceRecordSets, STS.AssumeRole...,
and for Kuma Kuma.DataplaneToken, Kuma.UserToken, Kuma.WhoAmI, Kuma.ListMeshes,
Kuma.ListMeshServices (any collection under a mesh), Kuma.ListHostnameGenerators,
Kuma.GetGlobalSecret, Kuma.PutGlobalSecret.

Control endpoints (never forwarded):
  POST   /__proxy/faults   {"operation": "ECS.ListTasks" | "*", "fault": F, "count": N (-1 = always),
                            "every": K (fault every K-th matching call, per operation; default 1),
                            "delay_ms": D}   appends a rule
  DELETE /__proxy/faults   removes every rule
  GET    /__proxy/calls    {"<operation>": {"total": n, "faulted": n, "forwarded": n}}
  GET    /__proxy/concurrency  {"in_flight", "max_in_flight"}: requests forwarded at once, and
                            "handling": requests being handled now (a delayed one included)
  GET    /__proxy/arrivals {"<operation>": [t, ...]}: when each request arrived (monotonic seconds),
                            faulted ones included, for rate checks
  GET    /__proxy/busy     [[start, end], ...]: when each request was being answered (epoch seconds),
                            for benchmarks that subtract the peers' time from a caller's
  POST   /__proxy/reset    removes rules and zeroes the counts
Faults answered by the proxy (the request never reaches upstream): Throttling,
ThrottlingException, PriorRequestNotComplete, TooManyRequestsException, AccessDenied, 429, 500,
503, reset (TCP reset, no answer), delay and slow (wait delay_ms, default 1000, then forward).
Error bodies take each service's own shape: awsJson for ECS and Secrets Manager, XML for the
others, Kuma's JSON error for Kuma.
Faults on the answer (the request is forwarded and done upstream, then its answer is spoiled):
cut (headers and half the body, then a TCP reset), truncated (half the body under the full
Content-Length, then a clean close), content-type (200 text/html, a maintenance page), garbage
(200 with the right content type and a body that does not parse), huge (200, the real body then
64 MiB of whitespace, so that only a size limit stops it).

    python3 fault_proxy.py --upstream http://127.0.0.1:PORT [--kind aws|kuma]
"""
import argparse
import http.client
import json
import socket
import struct
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import peerlib

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
TARGET_PREFIXES = {"AmazonEC2ContainerServiceV20141113": "ECS", "secretsmanager": "SecretsManager"}


KUMA_COLLECTIONS = {"meshservices": "ListMeshServices", "meshexternalservices": "ListMeshExternalServices",
                    "meshmultizoneservices": "ListMeshMultiZoneServices"}
ANSWER_FAULTS = {"cut", "truncated", "content-type", "garbage", "huge"}
HUGE_BYTES = 64 << 20


def kuma_operation_of(method, path):
    parts = [p for p in urlsplit(path).path.split("/") if p]
    if parts == ["tokens", "dataplane"]:
        return "Kuma.DataplaneToken"
    if parts == ["tokens", "user"]:
        return "Kuma.UserToken"
    if parts == ["who-am-i"]:
        return "Kuma.WhoAmI"
    if parts == ["meshes"]:
        return "Kuma.ListMeshes"
    if len(parts) == 3 and parts[0] == "meshes":
        return "Kuma." + KUMA_COLLECTIONS.get(parts[2], "List" + parts[2])
    if parts == ["hostnamegenerators"]:
        return "Kuma.ListHostnameGenerators"
    if len(parts) == 2 and parts[0] == "global-secrets":
        return "Kuma.GetGlobalSecret" if method == "GET" else "Kuma.PutGlobalSecret"
    return "Kuma.Other"


def operation_of(method, path, headers, body):
    target = headers.get("X-Amz-Target")
    if target and "." in target:
        prefix, op = target.rsplit(".", 1)
        return f"{TARGET_PREFIXES.get(prefix, prefix)}.{op}"
    url = urlsplit(path)
    if url.path.startswith("/2013-04-01/"):
        parts = [p for p in url.path.split("/") if p]
        if parts[1:2] == ["change"]:
            return "Route53.GetChange"
        if parts[1:2] == ["hostedzone"]:
            if len(parts) == 3:
                return "Route53.GetHostedZone" if method == "GET" else "Route53.Other"
            if len(parts) >= 4 and parts[3] == "rrset":
                return "Route53.ChangeResourceRecordSets" if method == "POST" else "Route53.ListResourceRecordSets"
        return "Route53.Other"
    if body and b"Action=" in body:
        action = parse_qs(body.decode(errors="replace")).get("Action", ["Unknown"])[0]
        return f"STS.{action}"
    return "Other"


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.calls = {}
        self.arrivals = {}
        self.busy = []
        self.handling = 0   # requests being handled, a delayed one sleeping included
        self.in_flight = 0
        self.max_in_flight = 0

    def count(self, op, key):
        with self.lock:
            entry = self.calls.setdefault(op, {"total": 0, "faulted": 0, "forwarded": 0})
            entry[key] += 1

    def take_fault(self, op):
        with self.lock:
            for rule in self.rules:
                if rule["operation"] in ("*", op) and rule["count"] != 0:
                    seen = rule.setdefault("seen", {})
                    seen[op] = seen.get(op, 0) + 1
                    if (seen[op] - 1) % rule.get("every", 1) != 0:
                        continue
                    if rule["count"] > 0:
                        rule["count"] -= 1
                    return dict(rule)
        return None


class Handler(peerlib.QuietHandler):
    def handle_any(self):
        state = self.server.state
        body = self.read_body()
        if self.path.startswith("/__proxy/"):
            return self.control(state, body)
        if self.server.kind == "kuma":
            op = kuma_operation_of(self.command, self.path)
        else:
            op = operation_of(self.command, self.path, self.headers, body)
        began = time.time()
        with state.lock:
            state.handling += 1
        try:
            self.answer(state, op, body)
        finally:
            with state.lock:
                state.handling -= 1
                state.busy.append((began, time.time()))
                del state.busy[:-20000]

    def answer(self, state, op, body):
        with state.lock:
            state.arrivals.setdefault(op, []).append(time.monotonic())
        state.count(op, "total")
        fault = state.take_fault(op)
        if fault and fault["fault"] not in ANSWER_FAULTS | {"delay", "slow"}:
            state.count(op, "faulted")
            return self.inject(fault, op)
        if fault:
            state.count(op, "faulted")
            if fault["fault"] in ("delay", "slow"):
                time.sleep(fault.get("delay_ms", 1000) / 1000)
                fault = None
        state.count(op, "forwarded")
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self.forward(body, fault["fault"] if fault else None)
        finally:
            with state.lock:
                state.in_flight -= 1

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

    def control(self, state, body):
        if self.path == "/__proxy/faults" and self.command == "POST":
            rule = json.loads(body)
            rule.setdefault("count", 1)
            rule.setdefault("operation", "*")
            with state.lock:
                state.rules.append(rule)
            return self.send_json(200, {"rules": len(state.rules)})
        if self.path == "/__proxy/faults" and self.command == "DELETE":
            with state.lock:
                state.rules.clear()
            return self.send_json(200, {"rules": 0})
        if self.path == "/__proxy/calls":
            with state.lock:
                return self.send_json(200, state.calls)
        if self.path == "/__proxy/arrivals":
            with state.lock:
                return self.send_json(200, state.arrivals)
        if self.path == "/__proxy/busy":
            with state.lock:
                return self.send_json(200, state.busy)
        if self.path == "/__proxy/concurrency":
            with state.lock:
                return self.send_json(200, {"in_flight": state.in_flight, "max_in_flight": state.max_in_flight,
                                            "handling": state.handling})
        if self.path == "/__proxy/reset":
            with state.lock:
                state.rules.clear()
                state.calls.clear()
                state.arrivals.clear()
                state.busy.clear()
                state.max_in_flight = state.in_flight
            return self.send_json(200, {})
        self.send_bytes(404, b"unknown control path", "text/plain")

    def inject(self, fault, op):
        kind = fault["fault"]
        if kind == "reset":
            # SO_LINGER 0: close with RST, the way a load balancer drops a connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        status = {"500": 500, "503": 503, "429": 429, "AccessDenied": 403}.get(kind, 400)
        code = {"500": "InternalFailure", "503": "ServiceUnavailable", "429": "TooManyRequestsException"}.get(kind, kind)
        message = {"AccessDenied": "User is not authorized to perform this operation (injected)"}.get(
            kind, "Rate exceeded (injected)" if status in (400, 429) else "Internal error (injected)")
        request_id = str(uuid.uuid4())
        if op.startswith("Kuma."):
            title = {429: "Too Many Requests", 403: "Access Denied", 500: "Internal Server Error",
                     503: "Service Unavailable"}.get(status, "Bad Request")
            self.send_bytes(status, json.dumps({"title": title, "detail": message}).encode(), "application/json")
        elif op.startswith(("ECS.", "SecretsManager.")):
            if code == "AccessDenied":
                code = "AccessDeniedException"
            self.send_bytes(status, json.dumps({"__type": code, "message": message}).encode(),
                            "application/x-amz-json-1.1", {"x-amzn-RequestId": request_id})
        else:
            xml = ("<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                   f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                   f"<RequestId>{request_id}</RequestId></ErrorResponse>")
            self.send_bytes(status, xml.encode(), "text/xml", {"x-amzn-RequestId": request_id})

    def spoil(self, fault, status, headers, payload):
        """Answers with `payload` spoiled by an answer fault (see the module's doc)."""
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "application/octet-stream")
        if fault == "content-type":
            return self.send_bytes(200, b"<html><head><title>Maintenance</title></head><body><h1>Service temporarily "
                                   b"unavailable</h1><p>Please try again later.</p></body></html>", "text/html")
        if fault == "garbage":
            junk = (b'<?xml version="1.0"?>\n<Garbage><Unclosed attr="1"><' if "xml" in content_type
                    else b'{"items": [{"name": "x", "spec": {]]]' if "json" in content_type else b"\x00\xff garbage \x1b[2J")
            return self.send_bytes(200, junk, content_type)
        self.send_response(200 if fault == "huge" else status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        if fault == "huge":
            self.send_header("Content-Length", str(len(payload) + HUGE_BYTES))
            self.end_headers()
            try:
                self.wfile.write(payload)
                chunk = b" " * (1 << 20)
                for _ in range(HUGE_BYTES >> 20):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client stopped reading: what a size limit does
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        self.close_connection = True
        if fault == "cut":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.drop_connection()

    def forward(self, body, fault=None):
        upstream = self.server.upstream
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            payload = response.read()
            if fault:
                return self.spoil(fault, response.status, response.getheaders(), payload)
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="base URL of the real endpoint, e.g. moto's")
    parser.add_argument("--kind", choices=["aws", "kuma"], default="aws", help="how operations are named and errors shaped")
    args = parser.parse_args()
    server = peerlib.LoopbackServer(Handler)
    server.kind = args.kind
    server.state = State()
    server.upstream = urlsplit(args.upstream)
    peerlib.serve(server, {"upstream": args.upstream})


if __name__ == "__main__":
    main()
