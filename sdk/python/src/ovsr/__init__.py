"""Python client of OVSR, the open schema registry.

`Client` talks to a registry over gRPC, verifies every schema it receives
against its digest, and keeps a local cache of versions.
"""

from ovsr.cache import CacheOptions, CacheStats, SchemaCache
from ovsr.client import Client, OutputFormat, SearchSort
from ovsr.digest import canonical_json, compute_digest, verify_digest
from ovsr.errors import CorruptCacheFile, DigestMismatch, NotFound, OvsrError, RpcError
from ovsr.models import (
    Highlight,
    ItemError,
    Registration,
    Schema,
    SchemaPage,
    SchemaSummary,
    SearchHit,
    SearchPage,
    StreamResult,
    ValidationError,
    ValidationResult,
    VersionState,
)
from ovsr.retry import RetryPolicy

__all__ = [
    "CacheOptions",
    "CacheStats",
    "Client",
    "CorruptCacheFile",
    "DigestMismatch",
    "Highlight",
    "ItemError",
    "NotFound",
    "OutputFormat",
    "OvsrError",
    "Registration",
    "RetryPolicy",
    "RpcError",
    "Schema",
    "SchemaCache",
    "SchemaPage",
    "SchemaSummary",
    "SearchHit",
    "SearchPage",
    "SearchSort",
    "StreamResult",
    "ValidationError",
    "ValidationResult",
    "VersionState",
    "canonical_json",
    "compute_digest",
    "verify_digest",
]
