#!/usr/bin/env python3
"""Verifies a sessiontrail pack's manifest.dsse.json with securesystemslib, independently of the
TypeScript code: the envelope's signature over the DSSE PAE with the given public key, then (as
cosign verify-blob-attestation does for a blob) every in-toto subject's sha256 against the files
of the pack folder.

usage: dsse-verify.py <pack-dir> <trusted-key.pem>
exit 0 and "OK ..." when everything checks; exit 1 naming the first failure.
"""
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main(pack_dir: str, key_path: str) -> int:
    with open(key_path, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = hashlib.sha256(der).hexdigest()
    key = SSlibKey.from_crypto(public_key, keyid=key_id, scheme="ecdsa-sha2-nistp256")
    with open(os.path.join(pack_dir, "manifest.dsse.json"), "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    if envelope.payload_type != "application/vnd.in-toto+json":
        print(f"FAIL payloadType {envelope.payload_type}")
        return 1
    try:
        envelope.verify([key], 1)
    except VerificationError as err:
        print(f"FAIL signature: {err}")
        return 1
    statement = json.loads(envelope.payload)
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        print(f"FAIL _type {statement.get('_type')}")
        return 1
    for subject in statement["subject"]:
        path = os.path.join(pack_dir, subject["name"])
        with open(path, "rb") as f:
            actual = hashlib.sha256(f.read()).hexdigest()
        if actual != subject["digest"]["sha256"]:
            print(f"FAIL subject {subject['name']}: sha256 {actual}, the statement says {subject['digest']['sha256']}")
            return 1
    print(f"OK signature by {key_id} and {len(statement['subject'])} subjects")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
