#!/usr/bin/env python3
"""Writes Tests/SigV4Tests/Vectors/botocore-vectors.json: SigV4 signatures made by botocore's
SigV4Auth (an independent implementation) for the requests this project sends. Run it once, commit
the JSON; the Swift tests must reproduce every canonical request, string to sign and header.

    python3 scripts/make-sigv4-vectors.py   # needs `pip install boto3`
"""
import datetime
import json
import os
import sys
from unittest import mock

import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STAMP = datetime.datetime(2026, 11, 22, 5, 43, 21, tzinfo=datetime.timezone.utc)
KEY_ID = "AKIAKMESHEXAMPLE0001"
SECRET = "kmesh/Vectors+Secret/Key0000000000000000"
TOKEN = "IQoJb3JpZ2luX2VjEKMESH//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/session+token=="

ECS = "AmazonEC2ContainerServiceV20141113"
R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"

CASES = [
    dict(name="ecs-list-clusters", service="ecs", region="eu-west-1", token=False, method="POST",
         url="https://ecs.eu-west-1.amazonaws.com/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{ECS}.ListClusters"},
         body='{"maxResults":100}'),
    dict(name="ecs-list-tasks-session-token", service="ecs", region="eu-west-1", token=True, method="POST",
         url="https://ecs.eu-west-1.amazonaws.com/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{ECS}.ListTasks"},
         body='{"cluster":"prod","desiredStatus":"RUNNING","maxResults":100,"nextToken":"eyJ0b2tlbiI6ICJhYmMifQ=="}'),
    dict(name="ecs-describe-tasks-loopback-port", service="ecs", region="us-east-1", token=False, method="POST",
         url="http://127.0.0.1:50123/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{ECS}.DescribeTasks"},
         body='{"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","include":["TAGS"],"tasks":["arn:aws:ecs:us-east-1:123456789012:task/prod/0f1e2d3c"]}'),
    dict(name="secretsmanager-get-secret-value-session-token", service="secretsmanager", region="us-west-2",
         token=True, method="POST", url="https://secretsmanager.us-west-2.amazonaws.com/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
         body='{"SecretId":"kong-mesh-ecs/demo-app"}'),
    dict(name="secretsmanager-put-secret-value-session-token", service="secretsmanager", region="us-west-2",
         token=True, method="POST", url="https://secretsmanager.us-west-2.amazonaws.com/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.PutSecretValue"},
         body='{"ClientRequestToken":"kmesh-0123456789abcdef0123456789abcdef","SecretId":"kong-mesh-ecs/demo-app","SecretString":"{\\"token\\":\\"x.y.z\\"}"}'),
    dict(name="secretsmanager-batch-get-loopback", service="secretsmanager", region="us-east-1", token=False,
         method="POST", url="http://127.0.0.1:50123/",
         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.BatchGetSecretValue"},
         body='{"SecretIdList":["kong-mesh-ecs/a","kong-mesh-ecs/b c"]}'),
    dict(name="route53-list-rrsets-query", service="route53", region="us-east-1", token=False, method="GET",
         url="https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123456789ABC/rrset?name=api.svc.mesh.local.&type=TXT&identifier=a%20b&maxitems=300",
         headers={}, body=""),
    dict(name="route53-get-hosted-zone-session-token", service="route53", region="us-east-1", token=True,
         method="GET", url="https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123456789ABC",
         headers={}, body=""),
    dict(name="route53-change-rrsets", service="route53", region="us-east-1", token=True, method="POST",
         url="https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123456789ABC/rrset/",
         headers={"Content-Type": "text/xml"},
         body=f'<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="{R53_NS}"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>redis.svc.mesh.local.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>127.4.0.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>'),
    dict(name="sts-assume-role-with-web-identity", service="sts", region="us-east-1", token=False, method="POST",
         url="https://sts.amazonaws.com/",
         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
         body="Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fkmesh&RoleSessionName=kmesh&Version=2011-06-15&WebIdentityToken=eyJhbGciOi.x.y"),
]


class CapturingSigV4Auth(SigV4Auth):
    """Records the canonical request and string to sign as botocore computes them."""

    def string_to_sign(self, request, canonical_request):
        self.captured_canonical_request = canonical_request
        self.captured_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.captured_string_to_sign


def main():
    out = []
    for case in CASES:
        creds = Credentials(KEY_ID, SECRET, TOKEN if case["token"] else None)
        url = case["url"]
        host = url.split("/")[2]
        headers = dict(case["headers"])
        headers["Host"] = host
        request = AWSRequest(method=case["method"], url=url, headers=headers, data=case["body"].encode())
        auth = CapturingSigV4Auth(creds, case["service"], case["region"])
        with mock.patch("botocore.auth.get_current_datetime", return_value=STAMP.replace(tzinfo=None)):
            auth.add_auth(request)
        canonical = auth.captured_canonical_request
        string_to_sign = auth.captured_string_to_sign
        path, _, query = url.split(host, 1)[1].partition("?")
        out.append({
            "name": case["name"], "service": case["service"], "region": case["region"],
            "accessKeyId": KEY_ID, "secretAccessKey": SECRET,
            "sessionToken": TOKEN if case["token"] else None,
            "timestamp": STAMP.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": case["method"], "path": path or "/", "query": query,
            "headers": [[k, v] for k, v in headers.items()], "body": case["body"],
            "expected": {
                "canonicalRequest": canonical,
                "stringToSign": string_to_sign,
                "authorization": request.headers["Authorization"],
                "amzDate": request.headers["X-Amz-Date"],
                "securityToken": request.headers.get("X-Amz-Security-Token"),
            },
        })
    target = os.path.join(os.path.dirname(__file__), "..", "Tests", "SigV4Tests", "Vectors", "botocore-vectors.json")
    with open(target, "w") as f:
        json.dump({"generator": f"botocore {botocore.__version__} SigV4Auth", "cases": out}, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(out)} vectors to {os.path.normpath(target)}", file=sys.stderr)


if __name__ == "__main__":
    main()
