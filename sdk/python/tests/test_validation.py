"""Validation, one document and a long stream, against a live registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import grpc

import ovsr
from conftest import Registry

ORDER = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
STREAM_LENGTH = 10_000


def expected_outcome(index: int) -> str:
    if index % 1000 == 7:
        return "error"
    return "invalid" if index % 3 == 0 else "valid"


def stream_documents() -> Iterator[object]:
    for index in range(STREAM_LENGTH):
        outcome = expected_outcome(index)
        if outcome == "error":
            yield "{not json"
        elif outcome == "invalid":
            yield {"id": f"not a number {index}"}
        else:
            yield {"id": index}


async def test_validate_reports_valid_and_invalid_documents(
    registry: Registry, namespace: str
) -> None:
    async with ovsr.Client(registry.address) as client:
        registered = await client.register(namespace, "order", ORDER)
        valid = await client.validate(namespace, "order", {"id": 1})
        invalid = await client.validate(namespace, "order", '{"id": "x"}', version=1)
        flag = await client.validate(namespace, "order", {}, output_format="flag")

    assert valid.valid and valid.errors == ()
    assert valid.schema_digest == registered.schema.digest
    assert not invalid.valid
    assert [error.instance_location for error in invalid.errors] == ["/id"]
    assert not flag.valid and flag.errors == ()


async def test_stream_of_ten_thousand_documents_returns_every_result_in_order(
    registry: Registry, namespace: str
) -> None:
    async with ovsr.Client(registry.address) as client:
        await client.register(namespace, "order", ORDER)
        results = [
            result
            async for result in client.validate_stream(
                stream_documents(), namespace=namespace, name="order", timeout=300
            )
        ]

    assert len(results) == STREAM_LENGTH
    assert [result.sequence for result in results] == list(range(STREAM_LENGTH))
    outcomes = [
        "error" if r.error is not None else ("valid" if r.valid else "invalid") for r in results
    ]
    assert outcomes == [expected_outcome(index) for index in range(STREAM_LENGTH)]
    assert outcomes.count("error") == 10
    errors = [result.error for result in results if result.error is not None]
    assert all(error.code == grpc.StatusCode.INVALID_ARGUMENT for error in errors)


async def test_stream_reads_an_async_iterable_and_pinned_versions(
    registry: Registry, namespace: str
) -> None:
    async def documents() -> AsyncIterator[object]:
        for value in ("a", 1, None):
            yield {"id": value}

    async with ovsr.Client(registry.address) as client:
        await client.register(namespace, "order", ORDER)
        await client.register(namespace, "order", {"type": "object"})
        results = [
            result.valid
            async for result in client.validate_stream(
                documents(), namespace=namespace, name="order", version=1
            )
        ]
        latest = [
            result.valid
            async for result in client.validate_stream(
                documents(), namespace=namespace, name="order"
            )
        ]

    assert results == [False, True, False]
    assert latest == [True, True, True]


async def test_stream_against_an_unknown_schema_fails_each_document(
    registry: Registry, namespace: str
) -> None:
    async with ovsr.Client(registry.address) as client:
        results = [
            result
            async for result in client.validate_stream(
                ["{}", "{}"], namespace=namespace, name="missing"
            )
        ]

    assert [result.sequence for result in results] == [0, 1]
    assert all(
        result.error is not None and result.error.code == grpc.StatusCode.NOT_FOUND
        for result in results
    )
