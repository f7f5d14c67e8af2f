"""The exceptions the SDK raises; every one is an `OvsrError`."""

from __future__ import annotations

from pathlib import Path

import grpc


class OvsrError(Exception):
    """Base class of every error the SDK raises."""


class RpcError(OvsrError):
    """A call the registry answered with an error status.

    `code` is the gRPC status (`INVALID_ARGUMENT` for bad input, naming the
    field; `UNAVAILABLE` once retries are spent; ...) and `details` the
    server's message.
    """

    def __init__(self, code: grpc.StatusCode, details: str, method: str) -> None:
        super().__init__(f"{method}: {code.name}: {details}")
        self.code = code
        self.details = details
        self.method = method


class NotFound(RpcError):
    """The schema, version or digest asked for does not exist (or is deleted)."""


class DigestMismatch(OvsrError):
    """Content whose digest is not the one it came with.

    Raised when the server (or something between it and the client) sends
    content that does not hash to the digest given alongside it; the content
    is never returned or cached.
    """

    def __init__(self, schema: str, expected: str, actual: str) -> None:
        super().__init__(
            f"schema {schema}: content hashes to {actual}, "
            f"but the registry gave its digest as {expected}"
        )
        self.schema = schema
        self.expected = expected
        self.actual = actual


class CorruptCacheFile(OvsrError):
    """A persisted cache file that failed verification when loaded.

    The file has already been removed when this is raised; the client logs it,
    counts it in `CacheStats.rejected_files` and fetches from the server.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cache file {path} rejected and removed: {reason}")
        self.path = path
        self.reason = reason
