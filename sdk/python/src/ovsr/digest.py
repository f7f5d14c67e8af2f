"""Content digests: sha256 over the RFC 8785 (JCS) canonical form of JSON.

The registry names every version by `sha256:<hex>` of its canonical form;
these functions compute the same digest locally, so content can be checked
whatever path it came by.
"""

from __future__ import annotations

import hashlib
import json
from typing import NoReturn

import rfc8785

from ovsr.errors import DigestMismatch

#: Largest integer an IEEE 754 double holds exactly.
_MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(text: str | bytes) -> bytes:
    """The RFC 8785 canonical form of a JSON text, as UTF-8 bytes.

    Raises `ValueError` for text that is not JSON or holds a number no
    double can represent.
    """
    value = json.loads(text, parse_int=_parse_int, parse_constant=_reject_constant)
    # rfc8785's errors (a float out of range, say) are ValueErrors too.
    return rfc8785.dumps(value)


def compute_digest(text: str | bytes) -> str:
    """`sha256:<hex>` of the canonical form of a JSON text.

    Raises `ValueError` for text that is not JSON.
    """
    return "sha256:" + hashlib.sha256(canonical_json(text)).hexdigest()


def verify_digest(schema: str, content: str, expected: str) -> None:
    """Raises `DigestMismatch` unless `content` hashes to `expected`.

    `schema` names the content in the message (`namespace/name@version`).
    Content that is not JSON at all is reported with the sha256 of its raw
    bytes.
    """
    try:
        actual = compute_digest(content)
    except ValueError:
        raw = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
        actual = f"sha256:{raw} (of bytes that are not valid JSON)"
    if actual != expected:
        raise DigestMismatch(schema, expected, actual)


def _parse_int(literal: str) -> int | float:
    number = int(literal)
    if abs(number) <= _MAX_SAFE_INTEGER:
        return number
    # JCS reads every number as a double, as the registry does: an integer
    # beyond 2^53 is rounded to its nearest double, not kept exact.
    try:
        return float(number)
    except OverflowError as error:
        raise ValueError(f"number {literal[:20]}... is out of range") from error


def _reject_constant(literal: str) -> NoReturn:
    raise ValueError(f"{literal} is not JSON")

