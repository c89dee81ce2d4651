#!/usr/bin/env python3
"""Stand-in for the credential endpoints AWS runs beside workloads.

  ECS container endpoint: GET /v2/credentials/<anything> (the RELATIVE_URI form) and GET /full/<anything>
    (the FULL_URI form; with --auth-token the Authorization header must equal it, else 401)
  EC2 IMDSv2: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds), then
    GET /latest/meta-data/iam/security-credentials/ and .../<role> with X-aws-ec2-metadata-token
    (a missing or wrong token gets 401, as IMDSv2 does)
  GET /__stats -> requests per endpoint

Each credentials answer is {AccessKeyId, SecretAccessKey, Token, Expiration} with a new session
token (`session-<n>`) and Expiration = now + --expires-in seconds.

    python3 aws_metadata_standin.py --access-key-id AKID --secret-access-key SECRET [--auth-token T]
"""
import argparse
import datetime
import threading
import uuid

import peerlib

ROLE = "kmesh-instance-role"


class Handler(peerlib.QuietHandler):
    def count(self, key):
        with self.server.lock:
            self.server.stats[key] = self.server.stats.get(key, 0) + 1

    def credentials(self, key):
        self.count(key)
        with self.server.lock:
            self.server.issued += 1
            n = self.server.issued
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.server.args.expires_in)
        self.send_json(200, {
            "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": self.server.args.access_key_id,
            "SecretAccessKey": self.server.args.secret_access_key, "Token": f"session-{n}",
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })

    def do_GET(self):
        args = self.server.args
        if self.path == "/__stats":
            with self.server.lock:
                return self.send_json(200, dict(self.server.stats))
        if self.path.startswith("/v2/credentials/"):
            return self.credentials("container-relative")
        if self.path.startswith("/full/"):
            if args.auth_token and self.headers.get("Authorization") != args.auth_token:
                self.count("container-full-unauthorized")
                return self.send_json(401, {"message": "bad authorization token"})
            return self.credentials("container-full")
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in self.server.imds_tokens:
                self.count("imds-unauthorized")
                return self.send_bytes(401, b"", "text/plain")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if role == "":
                self.count("imds-role")
                return self.send_bytes(200, ROLE.encode(), "text/plain")
            if role == ROLE:
                return self.credentials("imds-credentials")
        self.send_bytes(404, b"not found", "text/plain")

    def do_PUT(self):
        self.read_body()
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            token = uuid.uuid4().hex
            with self.server.lock:
                self.server.imds_tokens.add(token)
            self.count("imds-token")
            return self.send_bytes(200, token.encode(), "text/plain")
        self.send_bytes(400, b"missing ttl", "text/plain")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret-access-key", required=True)
    parser.add_argument("--auth-token")
    parser.add_argument("--expires-in", type=int, default=3600)
    args = parser.parse_args()
    server = peerlib.LoopbackServer(Handler)
    server.args = args
    server.stats = {}
    server.issued = 0
    server.imds_tokens = set()
    peerlib.serve(server, {})


if __name__ == "__main__":
    main()
