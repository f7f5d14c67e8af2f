"""The asynchronous client of an OVSR registry."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Literal, TypeVar

import grpc
from grpc import aio

from ovsr._gen.v1 import (
    schema_pb2,
    schema_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
    validation_pb2,
    validation_pb2_grpc,
)
from ovsr.cache import CacheOptions, CacheStats, SchemaCache
from ovsr.digest import verify_digest
from ovsr.errors import OvsrError
from ovsr.models import (
    Registration,
    Schema,
    SchemaPage,
    SearchPage,
    StreamResult,
    ValidationResult,
    item_error_from_proto,
    schema_from_proto,
    search_page_from_proto,
    summary_from_proto,
    validation_result_from_proto,
)
from ovsr.retry import RetryPolicy, call_unary, rpc_error

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")

#: How much detail validation results carry: `flag` is `valid` alone,
#: `basic` adds the list of errors.
OutputFormat = Literal["flag", "basic"]

#: The order of search hits.
SearchSort = Literal["relevance", "recency", "popularity"]

_OUTPUT_FORMATS = {
    "flag": validation_pb2.OUTPUT_FORMAT_FLAG,
    "basic": validation_pb2.OUTPUT_FORMAT_BASIC,
}

_SEARCH_SORTS = {
    "relevance": search_pb2.SEARCH_SORT_RELEVANCE,
    "recency": search_pb2.SEARCH_SORT_RECENCY,
    "popularity": search_pb2.SEARCH_SORT_POPULARITY,
}


class Client:
    """A connection to an OVSR registry, with a local cache of schemas.

    Documents and schema contents are JSON: a `str` or `bytes` is taken as
    JSON text as it is, anything else is encoded with `json.dumps` (so to
    send the JSON string "x", pass `'"x"'`).

    Create it inside a running event loop and close it when done, best with
    `async with Client(...) as client:`.
    """

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        timeout: float | None = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        cache: CacheOptions | SchemaCache | None = CacheOptions(),
        credentials: grpc.ChannelCredentials | None = None,
        interceptors: Sequence[aio.ClientInterceptor] = (),
        stream_window: int = 64,
    ) -> None:
        """Connects (lazily) to `target`, a `host:port`.

        `token` is sent as `authorization: Bearer <token>` on every call.
        `timeout` is the deadline in seconds of each unary call, retries
        included (None: no deadline). `cache` is None for no cache, options
        for a new cache, or a cache to use. `credentials` turns TLS on.

        `stream_window` is the most documents sent ahead of their results,
        over all the validation streams of this client. The server stops
        reading a stream whose results are not taken, and its HTTP/2 layer
        closes a connection that holds too many small frames unread (GOAWAY,
        ENHANCE_YOUR_CALM), so an unbounded sender of small documents would
        lose the connection; 64 stays well within that limit and still
        keeps the server's result batches full.
        """
        if stream_window < 1:
            raise ValueError("stream_window must be at least 1")
        backoff_ms = max(1, int(retry.initial_backoff * 1000))
        options = [
            # A connection of its own, so that `stream_window` bounds what it
            # carries (gRPC would otherwise share one between clients).
            ("grpc.use_local_subchannel_pool", 1),
            # Reconnecting as fast as the retries go, so a server that comes
            # back is reached by the next attempt, not after gRPC's own 1 s+.
            ("grpc.initial_reconnect_backoff_ms", backoff_ms),
            ("grpc.min_reconnect_backoff_ms", backoff_ms),
            ("grpc.max_reconnect_backoff_ms", max(1, int(retry.max_backoff * 1000))),
        ]
        if credentials is None:
            self._channel = aio.insecure_channel(target, options, interceptors=interceptors)
        else:
            self._channel = aio.secure_channel(
                target, credentials, options, interceptors=interceptors
            )
        self._schemas = schema_pb2_grpc.SchemaServiceStub(self._channel)
        self._validation = validation_pb2_grpc.ValidationServiceStub(self._channel)
        self._search = search_pb2_grpc.SearchServiceStub(self._channel)
        self._metadata = () if token is None else (("authorization", f"Bearer {token}"),)
        self._timeout = timeout
        self._retry = retry
        self._cache = SchemaCache(cache) if isinstance(cache, CacheOptions) else cache
        self._stream_window = asyncio.Semaphore(stream_window)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection; calls in flight are cancelled."""
        await self._channel.close()

    @property
    def cache_stats(self) -> CacheStats:
        """What the cache did so far (all zero without a cache)."""
        return CacheStats() if self._cache is None else self._cache.stats

    async def get(self, namespace: str, name: str, version: int | None = None) -> Schema:
        """Fetches one version of a schema; `version=None` is the latest.

        A pinned version is served from the cache once held. The latest is
        served from the cache for the cache's TTL, then revalidated.
        Raises `NotFound`, `DigestMismatch`, or `RpcError`.
        """
        if version is not None and version < 1:
            raise ValueError("version must be at least 1 (None for the latest)")
        if version is not None:
            return await self._get_pinned(namespace, name, version)
        return await self._get_latest(namespace, name)

    async def get_by_digest(self, digest: str) -> Schema:
        """Fetches content by its digest, `sha256:<64 hex digits>`.

        The result names one version holding that content.
        Raises `NotFound`, `DigestMismatch`, or `RpcError`.
        """
        if self._cache is not None:
            cached = self._cache.by_digest(digest)
            if cached is not None:
                return cached
        selector = schema_pb2.SchemaSelector(digest=digest)
        response = await self._get_schema(selector, if_none_match="")
        schema = _verified(response.schema_version)
        if schema.digest != digest:
            raise OvsrError(f"asked for {digest}, the registry answered {schema.digest}")
        if self._cache is not None:
            self._cache.store(schema, latest=False)
        return schema

    async def list_schemas(
        self,
        namespace: str | None = None,
        *,
        page_size: int = 0,
        page_token: str = "",
        include_deleted: bool = False,
    ) -> SchemaPage:
        """Lists schemas ordered by namespace then name, one page at a time.

        `namespace=None` lists every namespace; `page_size` 0 means 100.
        """
        request = schema_pb2.ListSchemasRequest(
            namespace=namespace or "",
            page_size=page_size,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        response = await self._call(self._schemas.ListSchemas, request, "ListSchemas")
        schemas = [summary_from_proto(summary) for summary in response.schemas]
        return SchemaPage(schemas=schemas, next_page_token=response.next_page_token)

    async def search(
        self,
        query: str,
        *,
        namespaces: Iterable[str] = (),
        tags: Iterable[str] = (),
        dialects: Iterable[str] = (),
        include_deprecated: bool = False,
        include_deleted: bool = False,
        sort: SearchSort = "relevance",
        page_size: int = 0,
        page_token: str = "",
    ) -> SearchPage:
        """Full-text search over names, titles, descriptions, tags and properties.

        Filters combine: `tags` must all be present; `namespaces` and
        `dialects` accept any listed value. `page_size` 0 means 20.
        """
        request = search_pb2.SearchRequest(
            query=query,
            namespaces=list(namespaces),
            tags=list(tags),
            dialects=list(dialects),
            include_deprecated=include_deprecated,
            include_deleted=include_deleted,
            sort=_SEARCH_SORTS[sort],
            page_size=page_size,
            page_token=page_token,
        )
        response = await self._call(self._search.Search, request, "Search")
        return search_page_from_proto(response)

    async def validate(
        self,
        namespace: str,
        name: str,
        document: object,
        version: int | None = None,
        *,
        output_format: OutputFormat = "basic",
        assert_formats: bool = False,
    ) -> ValidationResult:
        """Validates one document against a schema version (None: latest).

        An invalid document is a result with `valid=False`, not an error.
        Raises `NotFound` for an unknown schema, `RpcError` with
        INVALID_ARGUMENT for a document that is not JSON.
        """
        request = validation_pb2.ValidateRequest(
            schema=_selector(namespace, name, version),
            document=_json_text(document),
            output_format=_OUTPUT_FORMATS[output_format],
            assert_formats=assert_formats,
        )
        response = await self._call(self._validation.Validate, request, "Validate")
        return validation_result_from_proto(response.result)

    async def validate_stream(
        self,
        documents: AsyncIterable[object] | Iterable[object],
        *,
        namespace: str,
        name: str,
        version: int | None = None,
        output_format: OutputFormat = "basic",
        assert_formats: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamResult]:
        """Validates a stream of documents, yielding one result per document.

        Results come in input order; `sequence` is the document's position
        from 0. A document that cannot be validated yields a result with
        `error` set and the stream goes on. Documents are read as the server
        takes them, so a long input is never held in memory.

        The stream is not retried: its input cannot be replayed. `timeout`
        bounds the whole stream (None: no deadline).
        """
        permits = _StreamPermits(self._stream_window)
        sent = 0

        async def requests() -> AsyncIterator[validation_pb2.ValidateStreamRequest]:
            nonlocal sent
            yield validation_pb2.ValidateStreamRequest(
                open=validation_pb2.ValidateStreamOpen(
                    default_schema=_selector(namespace, name, version),
                    output_format=_OUTPUT_FORMATS[output_format],
                    assert_formats=assert_formats,
                )
            )
            async for document in _as_async(documents):
                text = _json_text(document)
                if not await permits.acquire():
                    return
                stream_document = validation_pb2.StreamDocument(sequence=sent, document=text)
                yield validation_pb2.ValidateStreamRequest(document=stream_document)
                sent += 1

        call = self._validation.ValidateStream(
            requests(), timeout=timeout, metadata=self._metadata
        )
        received = 0
        try:
            async for response in call:
                if response.sequence != received:
                    raise OvsrError(
                        f"validation stream out of order: result {response.sequence} "
                        f"where {received} was due"
                    )
                permits.release_one()
                yield _stream_result(response)
                received += 1
        except grpc.aio.AioRpcError as error:
            raise rpc_error(error, "ValidateStream") from error
        finally:
            # A caller that stops reading early ends the stream.
            permits.close()
            call.cancel()
        if received != sent:
            raise OvsrError(f"validation stream ended after {received} of {sent} results")

    async def register(
        self,
        namespace: str,
        name: str,
        content: object,
        *,
        tags: Iterable[str] = (),
        aliases: Iterable[str] = (),
        dialect: str = "",
    ) -> Registration:
        """Registers a new version of a schema, creating the schema if new.

        Content identical to a live version returns that version with
        `created=False`. Raises `RpcError` with INVALID_ARGUMENT for a bad
        name or document, ALREADY_EXISTS for an alias held by another schema.
        """
        request = schema_pb2.RegisterSchemaRequest(
            namespace=namespace,
            name=name,
            content=_json_text(content),
            tags=list(tags),
            aliases=list(aliases),
            dialect=dialect,
        )
        response = await self._call(self._schemas.RegisterSchema, request, "RegisterSchema")
        schema = _verified(response.schema_version)
        if self._cache is not None:
            self._cache.store(schema, latest=False)
            # This client reads its own writes: the next latest is fetched.
            self._cache.forget_latest(namespace, name)
        return Registration(schema=schema, created=response.created)

    async def _get_pinned(self, namespace: str, name: str, version: int) -> Schema:
        if self._cache is not None:
            cached = self._cache.pinned(namespace, name, version)
            if cached is not None:
                return cached
        selector = _selector(namespace, name, version)
        response = await self._get_schema(selector, if_none_match="")
        schema = _verified(response.schema_version)
        if self._cache is not None:
            self._cache.store(schema, latest=False)
        return schema

    async def _get_latest(self, namespace: str, name: str) -> Schema:
        entry = None if self._cache is None else self._cache.latest(namespace, name)
        if entry is not None and entry.fresh:
            return entry.schema
        selector = _selector(namespace, name, None)
        held = "" if entry is None else entry.schema.digest
        response = await self._get_schema(selector, if_none_match=held)
        if response.not_modified:
            if entry is None or self._cache is None:
                raise OvsrError(f"{namespace}/{name}: not-modified answer to a plain read")
            # The metadata is current (a deprecation shows); the content is
            # the one held, whose digest the server just matched.
            schema = dataclasses.replace(
                schema_from_proto(response.schema_version), content=entry.schema.content
            )
            if schema.version == 0:
                schema = entry.schema
            self._cache.refresh_latest(schema)
            return schema
        schema = _verified(response.schema_version)
        if self._cache is not None:
            self._cache.store(schema, latest=True)
        return schema

    async def _get_schema(
        self, selector: schema_pb2.SchemaSelector, *, if_none_match: str
    ) -> schema_pb2.GetSchemaResponse:
        request = schema_pb2.GetSchemaRequest(schema=selector, if_none_match=if_none_match)
        return await self._call(self._schemas.GetSchema, request, "GetSchema")

    async def _call(
        self,
        method: aio.UnaryUnaryMultiCallable[_Request, _Response],
        request: _Request,
        name: str,
    ) -> _Response:
        return await call_unary(
            method,
            request,
            name=name,
            policy=self._retry,
            timeout=self._timeout,
            metadata=self._metadata,
        )


class _StreamPermits:
    """The share of the client's stream window one stream holds.

    A permit is taken before a document is sent and given back when its
    result arrives; whatever the stream holds when it ends goes back at once.
    """

    def __init__(self, window: asyncio.Semaphore) -> None:
        self._window = window
        self._held = 0
        self._closed = False

    async def acquire(self) -> bool:
        """Waits for a permit; False once the stream has ended."""
        await self._window.acquire()
        if self._closed:
            self._window.release()
            return False
        self._held += 1
        return True

    def release_one(self) -> None:
        """Gives back the permit of a document whose result arrived."""
        if self._held > 0:
            self._held -= 1
            self._window.release()

    def close(self) -> None:
        """Gives back every permit still held; later acquires fail."""
        self._closed = True
        for _ in range(self._held):
            self._window.release()
        self._held = 0


def _selector(namespace: str, name: str, version: int | None) -> schema_pb2.SchemaSelector:
    ref = schema_pb2.VersionRef(namespace=namespace, name=name, version=version or 0)
    return schema_pb2.SchemaSelector(version_ref=ref)


def _verified(message: schema_pb2.SchemaVersion) -> Schema:
    schema = schema_from_proto(message)
    verify_digest(schema.label, schema.content, schema.digest)
    return schema


def _json_text(document: object) -> str:
    if isinstance(document, str):
        return document
    if isinstance(document, (bytes, bytearray)):
        return bytes(document).decode("utf-8")
    return json.dumps(document, ensure_ascii=False, allow_nan=False)


def _stream_result(response: validation_pb2.ValidateStreamResponse) -> StreamResult:
    if response.WhichOneof("outcome") == "error":
        error = item_error_from_proto(response.error)
        return StreamResult(sequence=response.sequence, result=None, error=error)
    result = validation_result_from_proto(response.result)
    return StreamResult(sequence=response.sequence, result=result, error=None)


async def _as_async(items: AsyncIterable[object] | Iterable[object]) -> AsyncIterator[object]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
