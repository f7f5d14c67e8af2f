"""The local cache against a live registry: what reaches the server, and when."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import ovsr
from conftest import CallRecorder, ManualClock, Registry
from ovsr._gen.v1 import schema_pb2

TTL = 30.0


def order_schema(revision: int) -> dict[str, object]:
    return {"type": "object", "required": ["id"], "title": f"Order rev {revision}"}


def cached_client(
    registry: Registry,
    clock: ManualClock,
    *,
    directory: Path | None = None,
    recorder: CallRecorder | None = None,
) -> ovsr.Client:
    options = ovsr.CacheOptions(latest_ttl=TTL, directory=directory)
    return ovsr.Client(
        registry.address,
        cache=ovsr.SchemaCache(options, clock=clock),
        interceptors=[] if recorder is None else [recorder],
    )


async def register(registry: Registry, namespace: str, name: str, content: object) -> ovsr.Schema:
    """Registers through a client of its own, as another writer would."""
    async with ovsr.Client(registry.address, cache=None) as writer:
        return (await writer.register(namespace, name, content)).schema


async def test_second_read_of_pinned_version_sends_no_request(
    registry: Registry, namespace: str
) -> None:
    await register(registry, namespace, "order", order_schema(1))
    async with cached_client(registry, ManualClock()) as client:
        first = await client.get(namespace, "order", 1)
        reads_before = registry.memory_cache_reads()

        second = await client.get(namespace, "order", 1)
        by_digest = await client.get_by_digest(first.digest)

        assert registry.memory_cache_reads() == reads_before
        assert second == first
        assert by_digest.content == first.content
        assert client.cache_stats.hits == 2
        assert client.cache_stats.misses == 1


async def test_latest_past_ttl_is_revalidated_and_not_modified(
    registry: Registry, namespace: str
) -> None:
    await register(registry, namespace, "order", order_schema(1))
    clock = ManualClock()
    recorder = CallRecorder()
    async with cached_client(registry, clock, recorder=recorder) as client:
        first = await client.get(namespace, "order")

        reads_before = registry.memory_cache_reads()
        within_ttl = await client.get(namespace, "order")
        assert registry.memory_cache_reads() == reads_before

        clock.advance(TTL + 1)
        revalidated = await client.get(namespace, "order")
        revalidation_cost = registry.memory_cache_reads() - reads_before

    # One plain read of latest, for what a single GetSchema moves the counters by.
    async with ovsr.Client(registry.address, cache=None) as plain:
        reads_before = registry.memory_cache_reads()
        await plain.get(namespace, "order")
        one_read = registry.memory_cache_reads() - reads_before

    assert within_ttl == first
    assert revalidated.digest == first.digest
    assert revalidated.content == first.content
    stats = client.cache_stats
    assert (stats.revalidations, stats.not_modified) == (1, 1)
    assert one_read > 0
    assert revalidation_cost == one_read
    reads = recorder.attempts("GetSchema")
    assert len(reads) == 2
    conditional = reads[1]
    assert isinstance(conditional.request, schema_pb2.GetSchemaRequest)
    assert conditional.request.if_none_match == first.digest
    assert isinstance(conditional.response, schema_pb2.GetSchemaResponse)
    assert conditional.response.not_modified
    assert conditional.response.schema_version.content == ""


async def test_latest_past_ttl_returns_a_newly_registered_version(
    registry: Registry, namespace: str
) -> None:
    await register(registry, namespace, "order", order_schema(1))
    clock = ManualClock()
    async with cached_client(registry, clock) as client:
        first = await client.get(namespace, "order")
        second_version = await register(registry, namespace, "order", order_schema(2))

        still_cached = await client.get(namespace, "order")
        clock.advance(TTL + 1)
        refreshed = await client.get(namespace, "order")
        reads_before = registry.memory_cache_reads()
        pinned_new = await client.get(namespace, "order", 2)

        assert registry.memory_cache_reads() == reads_before
    assert (first.version, still_cached.version, refreshed.version) == (1, 1, 2)
    assert refreshed.digest == second_version.digest
    assert refreshed.document()["title"] == "Order rev 2"
    assert pinned_new == refreshed
    assert client.cache_stats.revalidations == 1
    assert client.cache_stats.not_modified == 0


async def test_persisted_cache_serves_a_new_client_without_requests(
    registry: Registry, namespace: str, tmp_path: Path
) -> None:
    await register(registry, namespace, "order", order_schema(1))
    async with cached_client(registry, ManualClock(), directory=tmp_path) as client:
        fetched = await client.get(namespace, "order", 1)

    reads_before = registry.memory_cache_reads()
    async with cached_client(registry, ManualClock(), directory=tmp_path) as restarted:
        pinned = await restarted.get(namespace, "order", 1)
        by_digest = await restarted.get_by_digest(fetched.digest)

        assert registry.memory_cache_reads() == reads_before
        assert pinned == fetched
        assert by_digest.content == fetched.content
        assert restarted.cache_stats.disk_hits == 2
        assert restarted.cache_stats.misses == 0


async def test_tampered_cache_file_is_rejected_removed_and_refetched(
    registry: Registry, namespace: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await register(registry, namespace, "order", order_schema(1))
    async with cached_client(registry, ManualClock(), directory=tmp_path) as client:
        fetched = await client.get(namespace, "order", 1)
    blob = tmp_path / "sha256" / f"{fetched.digest.removeprefix('sha256:')}.json"
    record = json.loads(blob.read_text())
    record["content"] = record["content"].replace('"object"', '"string"')
    blob.write_text(json.dumps(record))

    reads_before = registry.memory_cache_reads()
    with caplog.at_level(logging.WARNING, logger="ovsr.cache"):
        async with cached_client(registry, ManualClock(), directory=tmp_path) as restarted:
            refetched = await restarted.get(namespace, "order", 1)

    assert restarted.cache_stats.rejected_files == 1
    assert registry.memory_cache_reads() > reads_before
    assert refetched.content == fetched.content
    warnings = [r.getMessage() for r in caplog.records if r.name == "ovsr.cache"]
    assert len(warnings) == 1
    assert str(blob) in warnings[0]
    assert "rejected" in warnings[0] and fetched.digest in warnings[0]
    # The refetch wrote the file again, this time with the true content.
    assert json.loads(blob.read_text())["content"] == fetched.content


def test_cache_file_that_is_not_a_record_is_rejected(tmp_path: Path) -> None:
    content = '{"type":"object"}'
    digest = ovsr.compute_digest(content)
    blob = tmp_path / "sha256" / f"{digest.removeprefix('sha256:')}.json"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"\x00garbage")
    cache = ovsr.SchemaCache(ovsr.CacheOptions(directory=tmp_path))

    assert cache.by_digest(digest) is None
    assert cache.stats.rejected_files == 1
    assert not blob.exists()


def test_memory_cache_evicts_least_recently_used_within_its_bounds() -> None:
    cache = ovsr.SchemaCache(ovsr.CacheOptions(max_entries=4))
    schemas = [example_schema(version) for version in (1, 2, 3)]
    for schema in schemas:
        # Each version is held by digest and by number: two entries.
        cache.store(schema, latest=False)

    assert cache.pinned("acme", "order", 1) is None
    assert cache.pinned("acme", "order", 3) == schemas[2]
    assert cache.by_digest(schemas[1].digest) == schemas[1]
    assert cache.stats.evictions == 2


def test_memory_cache_never_holds_more_than_max_bytes() -> None:
    small = example_schema(1)
    cache = ovsr.SchemaCache(ovsr.CacheOptions(max_bytes=3 * len(small.content)))
    for version in range(1, 10):
        cache.store(example_schema(version), latest=False)

    # 11 bytes an entry, two entries a version: the newest three entries stay.
    held = [v for v in range(1, 10) if cache.pinned("acme", "order", v) is not None]
    assert held == [8, 9]
    assert cache.by_digest(example_schema(9).digest) is not None
    assert cache.by_digest(example_schema(8).digest) is None


def example_schema(version: int) -> ovsr.Schema:
    content = json.dumps({"const": version}, separators=(",", ":"))
    return ovsr.Schema(
        namespace="acme",
        name="order",
        version=version,
        digest=ovsr.compute_digest(content),
        content=content,
    )
