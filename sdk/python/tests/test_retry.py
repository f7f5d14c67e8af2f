"""Retries: UNAVAILABLE is tried again with backoff, other codes are not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

import ovsr
from conftest import CallRecorder, Registry, free_port
from ovsr._gen.v1 import schema_pb2, schema_pb2_grpc


async def test_unavailable_is_retried_until_the_server_comes_up(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    recorder = CallRecorder()
    policy = ovsr.RetryPolicy(max_attempts=100, initial_backoff=0.05, max_backoff=0.2)
    late: list[Registry] = []

    async def start_later() -> None:
        await asyncio.sleep(0.5)
        late.append(Registry(address, tmp_path / "late"))

    starter = asyncio.create_task(start_later())
    try:
        async with ovsr.Client(
            address, retry=policy, timeout=60, interceptors=[recorder]
        ) as client:
            page = await client.list_schemas()
    finally:
        await starter
        for server in late:
            server.stop()

    assert page.schemas == []
    attempts = recorder.attempts("ListSchemas")
    assert len(attempts) > 1
    assert all(a.code == grpc.StatusCode.UNAVAILABLE for a in attempts[:-1])
    assert attempts[-1].code == grpc.StatusCode.OK


async def test_not_found_is_raised_without_a_retry(registry: Registry, namespace: str) -> None:
    recorder = CallRecorder()
    async with ovsr.Client(registry.address, interceptors=[recorder]) as client:
        with pytest.raises(ovsr.NotFound) as raised:
            await client.get(namespace, "missing")

    assert raised.value.code == grpc.StatusCode.NOT_FOUND
    assert len(recorder.attempts("GetSchema")) == 1
    assert client.cache_stats.misses == 1


class UnavailableSchemaService(schema_pb2_grpc.SchemaServiceServicer):
    """Answers every call UNAVAILABLE, noting when each attempt came."""

    def __init__(self) -> None:
        self.attempt_times: list[float] = []

    async def ListSchemas(  # noqa: N802 (the gRPC method name)
        self, request: schema_pb2.ListSchemasRequest, context: aio.ServicerContext[object, object]
    ) -> schema_pb2.ListSchemasResponse:
        self.attempt_times.append(time.monotonic())
        await context.abort(grpc.StatusCode.UNAVAILABLE, "draining")


@pytest.fixture
async def unavailable_server() -> AsyncIterator[tuple[str, UnavailableSchemaService]]:
    server = aio.server()
    # Serves ListSchemas alone; every other method answers UNIMPLEMENTED.
    service = UnavailableSchemaService()  # type: ignore[abstract]
    schema_pb2_grpc.add_SchemaServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", service
    await server.stop(grace=None)


async def test_retries_back_off_exponentially_and_stop_at_max_attempts(
    unavailable_server: tuple[str, UnavailableSchemaService],
) -> None:
    address, service = unavailable_server
    policy = ovsr.RetryPolicy(max_attempts=4, initial_backoff=0.1, multiplier=2.0, jitter=0.0)
    async with ovsr.Client(address, retry=policy) as client:
        with pytest.raises(ovsr.RpcError) as raised:
            await client.list_schemas()

    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    times = service.attempt_times
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    for gap, backoff in zip(gaps, [0.1, 0.2, 0.4]):
        assert backoff <= gap < backoff + 1.0


async def test_retries_stop_at_the_deadline(
    unavailable_server: tuple[str, UnavailableSchemaService],
) -> None:
    address, service = unavailable_server
    policy = ovsr.RetryPolicy(max_attempts=50, initial_backoff=0.2, jitter=0.0)
    started = time.monotonic()
    async with ovsr.Client(address, retry=policy, timeout=0.5) as client:
        with pytest.raises(ovsr.RpcError):
            await client.list_schemas()

    assert time.monotonic() - started < 1.5
    assert 2 <= len(service.attempt_times) <= 3
