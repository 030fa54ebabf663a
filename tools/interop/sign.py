#!/usr/bin/env python3
"""A second non-Rust corridor signer (PyPI `cryptography` + `rfc8785`), for the round-trip test.

Usage: python3 sign.py SEED_HEX ORIGIN COMMAND_JSON_FILE

  SEED_HEX           the 32-byte Ed25519 secret seed, as 64 hex digits
  ORIGIN             the log's origin, e.g. corridor.example/test
  COMMAND_JSON_FILE  the command object WITHOUT "key"; the script sets "key" to the standard
                     base64 (padded) of the seed's public key

The signature covers the UTF-8 bytes of "corridor/v1\\n" + ORIGIN + "\\n" followed by the
RFC 8785 canonical bytes of the command. Prints the canonical envelope
{"command":...,"signature":"<base64>"} to stdout, without a trailing newline.
"""

import base64
import json
import re
import sys

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def die(message: str) -> "None":
    print(f"sign.py: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    if len(sys.argv) != 4:
        die("usage: python3 sign.py SEED_HEX ORIGIN COMMAND_JSON_FILE")
    seed_hex, origin, path = sys.argv[1:]
    if not re.fullmatch(r"[0-9a-fA-F]{64}", seed_hex):
        die("SEED_HEX must be exactly 64 hex digits (a 32-byte Ed25519 seed)")

    with open(path, encoding="utf-8") as f:
        command = json.load(f)
    if not isinstance(command, dict):
        die(f"{path}: the command must be a JSON object")

    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    key = base64.b64encode(public_key).decode("ascii")
    if "key" in command and command["key"] != key:
        print(
            "sign.py: warning: replacing the \"key\" in the command with the seed's public key",
            file=sys.stderr,
        )
    command["key"] = key

    message = f"corridor/v1\n{origin}\n".encode("utf-8") + rfc8785.dumps(command)
    signature = private_key.sign(message)

    envelope = {"command": command, "signature": base64.b64encode(signature).decode("ascii")}
    sys.stdout.buffer.write(rfc8785.dumps(envelope))
    return 0


if __name__ == "__main__":
    sys.exit(main())
