#!/usr/bin/env python3
"""moto's server on a free loopback port, with request signature checking ON.

Before turning authentication on it creates, through moto's own IAM API:
  - user kmesh-admin with a policy allowing everything, and an access key  -> access_key_id / secret_access_key
  - user kmesh-limited allowed only ecs:ListClusters                       -> limited_access_key_id / ...
  - user kmesh-nobatch allowed everything but secretsmanager:BatchGetSecretValue -> nobatch_access_key_id / ...
  - role kmesh-web-identity (trusting any web identity) with full access   -> role_arn
ECS task state transitions are set to manual, so DescribeTasks does not advance task status.
Prints one JSON line with the port and those values; exits when stdin closes.

    python3 moto_peer.py
"""
import json
import logging
import os
import urllib.request

os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
logging.disable(logging.CRITICAL)

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

import peerlib  # noqa: E402

def fix_moto_bodyless_signature_check():
    """moto bug: its verifier builds botocore's request with `data=self._body or self._data`, and for
    Route 53 GETs `self._data` holds the request headers or the parsed query, so the payload hash it
    recomputes is never the empty-body hash the client signed and every GET fails. Verify body-less
    requests against the empty body they actually carried; the signature is still checked in full
    by botocore's own canonicalisation."""
    from moto.iam import access_control

    original = access_control.IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = original(self)
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            request.data = b""
        return request

    access_control.IAMRequestBase._create_aws_request = create_aws_request


def allow_unsigned_federation_calls():
    """AWS defines AssumeRoleWithWebIdentity and AssumeRoleWithSAML as unsigned (the identity token
    is the proof; botocore sends them without Authorization). moto with auth on demands a
    signature and crashes with a 500 without one; let them through unsigned, as AWS does."""
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if "Authorization" not in self.headers and self._get_action() in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
            return
        return original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate


ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
NO_BATCH_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "secretsmanager:BatchGetSecretValue", "Resource": "*"}]}
LIMITED_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}
TRUST_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "*"},
                                                          "Action": "sts:AssumeRoleWithWebIdentity"}]}


def post(base, path, body, content_type="application/json"):
    request = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                     headers={"Content-Type": content_type})
    urllib.request.urlopen(request).read()


def start():
    """Starts moto on a free loopback port with auth on; returns (server, info)."""
    fix_moto_bodyless_signature_check()
    allow_unsigned_federation_calls()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    base = f"http://127.0.0.1:{port}"

    iam = boto3.client("iam", endpoint_url=base, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    keys = {}
    for user, policy, prefix in (("kmesh-admin", ADMIN_POLICY, ""), ("kmesh-limited", LIMITED_POLICY, "limited_"),
                                 ("kmesh-nobatch", NO_BATCH_POLICY, "nobatch_")):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[prefix + "access_key_id"] = key["AccessKeyId"]
        keys[prefix + "secret_access_key"] = key["SecretAccessKey"]
        peerlib.record_secret(key["SecretAccessKey"])
    role = iam.create_role(RoleName="kmesh-web-identity", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))["Role"]
    iam.put_role_policy(RoleName="kmesh-web-identity", PolicyName="p", PolicyDocument=json.dumps(ADMIN_POLICY))

    post(base, "/moto-api/state-manager/set-transition",
         json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}))
    # From here on every request must carry a valid signature by a known key.
    post(base, "/moto-api/reset-auth", "0", "text/plain")

    info = {"port": port, "pid": os.getpid(), "role_arn": role["Arn"], "base_url": base}
    info.update(keys)
    return server, info


def main():
    _, info = start()
    print(json.dumps(info), flush=True)
    peerlib.wait_for_parent()
    os._exit(0)


if __name__ == "__main__":
    main()
