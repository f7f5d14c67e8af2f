"""Registering, listing and searching against a live registry."""

from __future__ import annotations

import asyncio

import ovsr
from conftest import Registry


async def test_registering_identical_content_returns_the_existing_version(
    registry: Registry, namespace: str
) -> None:
    async with ovsr.Client(registry.address) as client:
        first = await client.register(namespace, "order", {"type": "object"}, tags=["sales"])
        again = await client.register(namespace, "order", '{ "type" : "object" }')

    assert first.created and not again.created
    assert again.schema.version == first.schema.version == 1
    assert again.schema.digest == first.schema.digest
    assert first.schema.tags == ("sales",)


async def test_own_registration_is_seen_by_the_next_latest_read(
    registry: Registry, namespace: str
) -> None:
    options = ovsr.CacheOptions(latest_ttl=3600)
    async with ovsr.Client(registry.address, cache=options) as client:
        await client.register(namespace, "order", {"type": "object"})
        first = await client.get(namespace, "order")
        await client.register(namespace, "order", {"type": "array"})
        second = await client.get(namespace, "order")

    assert (first.version, second.version) == (1, 2)
    assert second.document() == {"type": "array"}


async def test_list_schemas_pages_through_a_namespace(
    registry: Registry, namespace: str
) -> None:
    async with ovsr.Client(registry.address) as client:
        for name in ("c", "a", "b"):
            await client.register(namespace, name, {"title": f"schema {name}"})
        first = await client.list_schemas(namespace, page_size=2)
        second = await client.list_schemas(namespace, page_size=2, page_token=first.next_page_token)

    assert [s.name for s in first.schemas] == ["a", "b"]
    assert [s.name for s in second.schemas] == ["c"]
    assert second.next_page_token == ""
    assert all(s.latest_version == 1 for s in first.schemas + second.schemas)
    assert first.schemas[0].title == "schema a"


async def test_search_finds_a_schema_by_its_title(registry: Registry, namespace: str) -> None:
    async with ovsr.Client(registry.address) as client:
        registered = await client.register(
            namespace, "invoice", {"title": "Quarterly invoice", "type": "object"}
        )
        # The index follows registrations asynchronously.
        for _ in range(100):
            page = await client.search("quarterly", namespaces=[namespace])
            if page.hits:
                break
            await asyncio.sleep(0.1)

    assert [(hit.name, hit.digest) for hit in page.hits] == [
        ("invoice", registered.schema.digest)
    ]
    assert page.estimated_total_hits == 1
    assert page.facets["namespace"] == [(namespace, 1)]
