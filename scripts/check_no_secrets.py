#!/usr/bin/env python3
"""Reads every stdout and stderr that the test suite's runs of the executables produced
($KMESH_TEST_OUTPUT_DIR, written by TestSupport) and fails on any secret in them: any token or secret
access key the peers handed out ($KMESH_TEST_SECRETS_FILE, written by scripts/peers), any 20-character
window of a token's signature or of a secret key, and any JWT-shaped string at all. Prints what it
scanned; names where a finding is without printing it.

    python3 scripts/check_no_secrets.py OUTPUT_DIR SECRETS_FILE
"""
import os
import re
import sys

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
WINDOW = 20


def windows(value):
    return {value[i:i + WINDOW] for i in range(0, max(0, len(value) - WINDOW + 1))}


def main():
    out_dir, secrets_file = sys.argv[1], sys.argv[2]
    secrets = []
    if os.path.exists(secrets_file):
        secrets = [line.strip() for line in open(secrets_file) if line.strip()]
    needles = set()
    for s in secrets:
        part = s.split(".")[-1] if s.count(".") == 2 else s  # a JWT's signature, or the whole key
        needles |= windows(part)
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".log")) if os.path.isdir(out_dir) else []
    if not files:
        raise SystemExit(f"check-no-secrets: no outputs in {out_dir}: did the tests run with KMESH_TEST_OUTPUT_DIR set?")
    findings, scanned = [], 0
    for name in files:
        text = open(os.path.join(out_dir, name), encoding="utf-8", errors="replace").read()
        scanned += len(text)
        if JWT.search(text):
            findings.append(f"{name}: a JWT-shaped string")
            continue
        for i in range(0, len(text) - WINDOW + 1):
            if text[i:i + WINDOW] in needles:
                findings.append(f"{name}: 20 characters of a secret the peers handed out, at offset {i}")
                break
    print(f"check-no-secrets: {len(files)} outputs ({scanned / 1e6:.1f} MB) of the executables scanned against "
          f"{len(secrets)} secrets the peers handed out ({len(needles)} windows) and the JWT shape: {len(findings)} findings")
    if findings:
        for f in findings[:20]:
            print("  " + f)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
