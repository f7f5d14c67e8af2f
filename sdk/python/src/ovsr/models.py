"""The values the client returns: plain dataclasses over the ovsr.v1 messages."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from ovsr._gen.v1 import schema_pb2, search_pb2, validation_pb2


class VersionState(enum.Enum):
    """The lifecycle state of a version."""

    #: Not known (never sent by the registry for a served version).
    UNSPECIFIED = "unspecified"
    #: Served and recommended.
    ACTIVE = "active"
    #: Served, but readers should move to a newer version.
    DEPRECATED = "deprecated"
    #: Soft-deleted: hidden unless asked for; the number stays taken.
    DELETED = "deleted"


_STATE_FROM_PROTO = {
    schema_pb2.VERSION_STATE_UNSPECIFIED: VersionState.UNSPECIFIED,
    schema_pb2.VERSION_STATE_ACTIVE: VersionState.ACTIVE,
    schema_pb2.VERSION_STATE_DEPRECATED: VersionState.DEPRECATED,
    schema_pb2.VERSION_STATE_DELETED: VersionState.DELETED,
}


@dataclass(frozen=True)
class Schema:
    """One version of a schema, with its canonical content.

    `content` is the RFC 8785 canonical JSON text, whose sha256 is `digest`.
    `state` is as of when the version was fetched: content never changes,
    but a version may be deprecated later.
    """

    namespace: str
    name: str
    version: int
    digest: str
    content: str
    state: VersionState = VersionState.ACTIVE
    title: str = ""
    description: str = ""
    dialect: str = ""
    tags: tuple[str, ...] = ()
    size_bytes: int = 0
    created_at: datetime | None = None
    url: str = ""
    aliases: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """`namespace/name@version`, for messages."""
        return f"{self.namespace}/{self.name}@{self.version}"

    def document(self) -> Any:
        """The content parsed as JSON."""
        return json.loads(self.content)


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration."""

    schema: Schema
    #: False when an existing version with identical content was returned.
    created: bool


@dataclass(frozen=True)
class SchemaSummary:
    """A schema with its newest version, as listed."""

    namespace: str
    name: str
    #: The latest version that is not deleted; 0 when every one is deleted.
    latest_version: int
    latest_digest: str
    latest_state: VersionState
    title: str
    description: str
    updated_at: datetime | None


@dataclass(frozen=True)
class SchemaPage:
    """One page of `Client.list_schemas`."""

    schemas: list[SchemaSummary]
    #: Pass to the next call for the next page; empty on the last page.
    next_page_token: str


@dataclass(frozen=True)
class Highlight:
    """A matched fragment of a searchable field."""

    field: str
    #: The fragment, with matches wrapped in `<em>` and `</em>`.
    snippet: str


@dataclass(frozen=True)
class SearchHit:
    """One search hit: the latest matching version of a schema."""

    namespace: str
    name: str
    version: int
    digest: str
    title: str
    description: str
    tags: tuple[str, ...]
    state: VersionState
    created_at: datetime | None
    highlights: tuple[Highlight, ...]


@dataclass(frozen=True)
class SearchPage:
    """One page of `Client.search`."""

    hits: list[SearchHit]
    #: Pass to the next call for the next page; empty on the last page.
    next_page_token: str
    #: Estimated number of hits over all pages.
    estimated_total_hits: int
    #: Per facet field (`namespace`, `tags`): values with their hit counts,
    #: the most frequent first.
    facets: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class ValidationError:
    """One reason a document failed validation."""

    #: JSON Pointer to the failing part of the document.
    instance_location: str
    #: JSON Pointer to the failing keyword, through the references followed.
    keyword_location: str
    #: Absolute URI of the failing keyword.
    absolute_keyword_location: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """The result of validating one document."""

    valid: bool
    errors: tuple[ValidationError, ...]
    #: Digest of the schema version the document was validated against.
    schema_digest: str


@dataclass(frozen=True)
class ItemError:
    """Why one item of a stream or batch failed, without failing the rest."""

    #: INVALID_ARGUMENT for a document that is not JSON or too large,
    #: NOT_FOUND for an unknown schema, ...
    code: grpc.StatusCode
    #: What went wrong, naming the field at fault.
    message: str


@dataclass(frozen=True)
class StreamResult:
    """The result for one document of `Client.validate_stream`.

    Exactly one of `result` and `error` is set: `error` when the document
    could not be validated at all (not JSON, too large, unknown schema).
    """

    #: The position of the document in the input, from 0.
    sequence: int
    result: ValidationResult | None
    error: ItemError | None

    @property
    def valid(self) -> bool:
        """True when the document was validated and is valid."""
        return self.result is not None and self.result.valid


_STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}


def item_error_from_proto(message: schema_pb2.ItemError) -> ItemError:
    """An `ItemError` from its ovsr.v1 message."""
    code = _STATUS_CODES.get(message.code, grpc.StatusCode.UNKNOWN)
    return ItemError(code=code, message=message.message)


def timestamp_to_datetime(timestamp: Timestamp) -> datetime | None:
    """A protobuf timestamp as an aware UTC datetime, None when unset."""
    if timestamp.seconds == 0 and timestamp.nanos == 0:
        return None
    return timestamp.ToDatetime(tzinfo=timezone.utc)


def schema_from_proto(message: schema_pb2.SchemaVersion) -> Schema:
    """A `Schema` from its ovsr.v1 message."""
    return Schema(
        namespace=message.namespace,
        name=message.name,
        version=message.version,
        digest=message.digest,
        content=message.content,
        state=_STATE_FROM_PROTO.get(message.state, VersionState.UNSPECIFIED),
        title=message.title,
        description=message.description,
        dialect=message.dialect,
        tags=tuple(message.tags),
        size_bytes=message.size_bytes,
        created_at=timestamp_to_datetime(message.created_at),
        url=message.url,
        aliases=tuple(message.aliases),
        references=dict(message.references),
    )


def summary_from_proto(message: schema_pb2.SchemaSummary) -> SchemaSummary:
    """A `SchemaSummary` from its ovsr.v1 message."""
    return SchemaSummary(
        namespace=message.namespace,
        name=message.name,
        latest_version=message.latest_version,
        latest_digest=message.latest_digest,
        latest_state=_STATE_FROM_PROTO.get(message.latest_state, VersionState.UNSPECIFIED),
        title=message.title,
        description=message.description,
        updated_at=timestamp_to_datetime(message.updated_at),
    )


def search_page_from_proto(message: search_pb2.SearchResponse) -> SearchPage:
    """A `SearchPage` from its ovsr.v1 message."""
    hits = [
        SearchHit(
            namespace=hit.namespace,
            name=hit.name,
            version=hit.version,
            digest=hit.digest,
            title=hit.title,
            description=hit.description,
            tags=tuple(hit.tags),
            state=_STATE_FROM_PROTO.get(hit.state, VersionState.UNSPECIFIED),
            created_at=timestamp_to_datetime(hit.created_at),
            highlights=tuple(Highlight(h.field, h.snippet) for h in hit.highlights),
        )
        for hit in message.hits
    ]
    facets = {
        facet.field: [(value.value, value.count) for value in facet.values]
        for facet in message.facets
    }
    return SearchPage(
        hits=hits,
        next_page_token=message.next_page_token,
        estimated_total_hits=message.estimated_total_hits,
        facets=facets,
    )


def validation_result_from_proto(
    message: validation_pb2.ValidationResult,
) -> ValidationResult:
    """A `ValidationResult` from its ovsr.v1 message."""
    errors = tuple(
        ValidationError(
            instance_location=error.instance_location,
            keyword_location=error.keyword_location,
            absolute_keyword_location=error.absolute_keyword_location,
            message=error.message,
        )
        for error in message.errors
    )
    return ValidationResult(
        valid=message.valid,
        errors=errors,
        schema_digest=message.schema_digest,
    )
