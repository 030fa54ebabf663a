#!/usr/bin/env python3
"""Independent RFC 8785 reference for crates/jcs/tests/cross_impl.rs: PyPI `rfc8785` (Trail of Bits).

Usage: python3 canon.py VALUES.json

VALUES.json holds a JSON array; prints a JSON array with, for each element, the hex of its
canonical bytes. Python's json module reads numbers with a fraction or exponent as floats
(doubles) and the rest as ints; the Rust side keeps integers within +-(2^53 - 1) and writes floats
in shortest round-trip form, so both mean the same double as in JavaScript.
"""

import json
import sys

import rfc8785


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python3 canon.py VALUES.json", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        values = json.load(f)
    if not isinstance(values, list):
        print(f"{sys.argv[1]}: expected a JSON array of test values", file=sys.stderr)
        return 2
    out = [rfc8785.dumps(v).hex() for v in values]
    sys.stdout.write(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
