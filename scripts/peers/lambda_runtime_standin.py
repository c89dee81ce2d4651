#!/usr/bin/env python3
"""A fake of the AWS Lambda Runtime API (2018-06-01) for running a custom-runtime bootstrap locally.

Contract endpoints
  GET  /2018-06-01/runtime/invocation/next         blocks until an event is queued; headers
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response   -> 202 (413 above 6 MiB)
  POST /2018-06-01/runtime/invocation/{id}/error      -> 202 (records Lambda-Runtime-Function-Error-Type)
  POST /2018-06-01/runtime/init/error                 -> 202
Test controls
  POST /__fake/events {"body": <JSON value or string>, "deadline_ms": 60000}  -> {"request_id"}
  GET  /__fake/results                 every response / error / init error so far (with "at", and
                                       "delivered_at": when `next` handed the event out)
  GET  /__fake/result/{id}?wait=S      one invocation's result, waiting up to S seconds
  GET  /__fake/next-times              epoch seconds (float) of each GET .../next as it arrived
  POST /__fake/reset                   (also releases `next` calls parked before it)

    python3 lambda_runtime_standin.py
"""
import json
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import peerlib

MAX_RESPONSE = 6 * 1024 * 1024


class Runtime:
    def __init__(self):
        self.cond = threading.Condition()
        self.queue = []
        self.results = []
        self.next_times = []
        # A reset starts a new generation: `next` calls parked by a process that was killed
        # (cold-start measurements) give up instead of taking the next event to a dead socket.
        self.generation = 0
        self.delivered = {}   # request id -> when `next` handed it out


class Handler(peerlib.QuietHandler):
    def do_GET(self):
        rt = self.server.runtime
        url = urlsplit(self.path)
        if url.path == "/2018-06-01/runtime/invocation/next":
            with rt.cond:
                rt.next_times.append(time.time())
                generation = rt.generation
                while not rt.queue and generation == rt.generation:
                    rt.cond.wait()
                if generation != rt.generation:
                    return self.drop_connection()
                event = rt.queue.pop(0)
                rt.delivered[event["id"]] = time.time()
            headers = {"Lambda-Runtime-Aws-Request-Id": event["id"],
                       "Lambda-Runtime-Deadline-Ms": str(int((time.time() * 1000) + event["deadline_ms"])),
                       "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:reconcile-tokens",
                       "Lambda-Runtime-Trace-Id": "Root=1-" + uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:24] + ";Sampled=0"}
            return self.send_bytes(200, event["body"], "application/json", headers)
        if url.path == "/__fake/results":
            with rt.cond:
                return self.send_json(200, rt.results)
        if url.path == "/__fake/next-times":
            with rt.cond:
                return self.send_json(200, rt.next_times)
        if url.path.startswith("/__fake/result/"):
            rid = url.path.rsplit("/", 1)[1]
            deadline = time.time() + float(parse_qs(url.query).get("wait", ["0"])[0])
            with rt.cond:
                while True:
                    found = [r for r in rt.results if r.get("id") == rid]
                    if found or time.time() >= deadline:
                        break
                    rt.cond.wait(timeout=max(0.01, deadline - time.time()))
            return self.send_json(200 if found else 404, found[0] if found else {"error": "no result yet"})
        self.send_bytes(404, b"not found", "text/plain")

    def do_POST(self):
        rt = self.server.runtime
        body = self.read_body()
        path = urlsplit(self.path).path
        if path == "/__fake/events":
            req = json.loads(body)
            raw = req["body"] if isinstance(req["body"], str) else json.dumps(req["body"])
            event = {"id": str(uuid.uuid4()), "body": raw.encode(), "deadline_ms": req.get("deadline_ms", 60000)}
            with rt.cond:
                rt.queue.append(event)
                rt.cond.notify_all()
            return self.send_json(200, {"request_id": event["id"]})
        if path == "/__fake/reset":
            with rt.cond:
                rt.queue.clear()
                rt.results.clear()
                rt.next_times.clear()
                rt.generation += 1
                rt.cond.notify_all()
            return self.send_json(200, {})
        parts = path.split("/")
        record = None
        if path == "/2018-06-01/runtime/init/error":
            record = {"kind": "init-error", "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                      "body": json.loads(body or b"{}")}
        elif len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
            if parts[5] == "response" and len(body) > MAX_RESPONSE:
                return self.send_json(413, {"errorMessage": "Exceeded maximum allowed payload size", "errorType": "RequestEntityTooLarge"})
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode(errors="replace")
            record = {"kind": parts[5], "id": parts[4], "body": parsed,
                      "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type")}
        if record is None:
            return self.send_bytes(404, b"not found", "text/plain")
        record["at"] = time.time()
        with rt.cond:
            if "id" in record:
                record["delivered_at"] = rt.delivered.pop(record["id"], None)
            rt.results.append(record)
            rt.cond.notify_all()
        self.send_json(202, {"status": "OK"})


def main():
    server = peerlib.LoopbackServer(Handler)
    server.runtime = Runtime()
    peerlib.serve(server, {})


if __name__ == "__main__":
    main()
