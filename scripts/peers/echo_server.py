#!/usr/bin/env python3
"""Loopback HTTP(S) server for the transport tests.

  /echo           -> 200 JSON: method, path, headers (in order), body, the connection's number
  /status/N       -> status N with a short body
  /delay?ms=N     -> waits N ms, then 200
  /drop           -> closes the connection without answering
  /big?bytes=N    -> N bytes of 'x' (&chunked=1: chunked, no Content-Length announced)
  /stats          -> {"connections": N, "max_in_flight": M}: TCP connections accepted so far, and
                     the most /delay requests that were being served at once
  /stats/reset    -> zeroes max_in_flight

  python3 echo_server.py [--tls DIR]   (with --tls the ready line also names the CA file)
"""
import argparse
import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import peerlib


class Handler(peerlib.QuietHandler):
    def setup(self):
        super().setup()
        with self.server.lock:
            self.connection_number = self.server.connection_count

    def handle_any(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = self.read_body()
        if url.path == "/echo":
            self.send_json(200, {
                "method": self.command, "path": url.path, "query": url.query,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": base64.b64encode(body).decode(), "connection": self.connection_number,
            })
        elif url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self.send_bytes(code, b"status %d" % code, "text/plain")
        elif url.path == "/delay":
            with self.server.lock:
                self.server.in_flight += 1
                self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
            try:
                time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            finally:
                with self.server.lock:
                    self.server.in_flight -= 1
            self.send_json(200, {"delayed": True, "connection": self.connection_number})
        elif url.path == "/drop":
            self.drop_connection()
        elif url.path == "/big" and query.get("chunked") == ["1"]:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            left = int(query["bytes"][0])
            while left > 0:
                n = min(left, 1024)
                self.wfile.write(b"%x\r\n" % n + b"x" * n + b"\r\n")
                left -= n
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/big":
            self.send_bytes(200, b"x" * int(query["bytes"][0]), "application/octet-stream")
        elif url.path == "/stats":
            self.send_json(200, {"connections": self.server.connection_count, "max_in_flight": self.server.max_in_flight})
        elif url.path == "/stats/reset":
            with self.server.lock:
                self.server.max_in_flight = self.server.in_flight
            self.send_json(200, {})
        else:
            self.send_bytes(404, b"not found", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a fresh CA written to DIR")
    args = parser.parse_args()
    context, ca = (peerlib.make_tls_material(args.tls) if args.tls else (None, None))
    server = peerlib.LoopbackServer(Handler, context)
    server.in_flight = 0
    server.max_in_flight = 0
    peerlib.serve(server, {"ca_file": ca} if ca else {})


if __name__ == "__main__":
    main()
