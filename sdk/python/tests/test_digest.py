"""Digests: the SDK's canonical form against the registry's, and tampered answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from grpc import aio

import ovsr
from conftest import Registry
from ovsr._gen.v1 import schema_pb2, schema_pb2_grpc

# Each text is sent as written: numbers with exponents and trailing zeros,
# integers past 2^53, escapes, characters outside the BMP, and keys whose
# order differs between UTF-16 code units (what RFC 8785 sorts by) and code
# points.
TRICKY_SCHEMAS = [
    '{"const": 1.0, "default": 1e21, "examples": [1e-7, -0.0, 0.1, 100, 1.5e+3]}',
    '{"examples": [9007199254740993, 123456789012345678901234567890, 1e300, 5e-324]}',
    '{"const": "caf\\u00e9 \\ud83d\\ude00 \u2028 \\" \\\\ \\/ \\u0000\\u001f \u00e9\u0301"}',
    '{"properties": {"\ufb01": {"type": "string"}, "\U0001f600": {"type": "number"},'
    ' "b": {"properties": {"z": {}, "a": {"type": "null"}}}, "a": {}, "A": {}}}',
    '{"type":"object","required":["id"],"properties":{"id":{"type":"integer",'
    '"minimum":0E0,"maximum":4.50E2}},"additionalProperties":false}',
]


@pytest.mark.parametrize("text", TRICKY_SCHEMAS)
async def test_local_digest_matches_the_registry(
    registry: Registry, namespace: str, text: str
) -> None:
    async with ovsr.Client(registry.address, cache=None) as client:
        registered = await client.register(namespace, "tricky", text)
        fetched = await client.get_by_digest(registered.schema.digest)

    assert ovsr.compute_digest(text) == registered.schema.digest
    assert ovsr.canonical_json(text) == fetched.content.encode()


def test_canonical_json_rejects_what_is_not_json() -> None:
    for text in ["NaN", '{"a": Infinity}', "[1e400]", "{", ""]:
        with pytest.raises(ValueError):
            ovsr.canonical_json(text)


class TamperingSchemaService(schema_pb2_grpc.SchemaServiceServicer):
    """Answers every GetSchema with content that is not what its digest says."""

    def __init__(self) -> None:
        self.calls = 0
        self.authorization: list[str] = []

    async def GetSchema(  # noqa: N802 (the gRPC method name)
        self, request: schema_pb2.GetSchemaRequest, context: aio.ServicerContext[object, object]
    ) -> schema_pb2.GetSchemaResponse:
        self.calls += 1
        metadata = dict(context.invocation_metadata() or ())
        self.authorization.append(str(metadata.get("authorization", "")))
        version = schema_pb2.SchemaVersion(
            namespace="acme",
            name="order",
            version=3,
            digest=ovsr.compute_digest('{"type":"object"}'),
            content='{"type":"string"}',
        )
        return schema_pb2.GetSchemaResponse(schema_version=version)


@pytest.fixture
async def tampering_server() -> AsyncIterator[tuple[str, TamperingSchemaService]]:
    server = aio.server()
    # Serves GetSchema alone; every other method answers UNIMPLEMENTED.
    service = TamperingSchemaService()  # type: ignore[abstract]
    schema_pb2_grpc.add_SchemaServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", service
    await server.stop(grace=None)


async def test_content_not_matching_its_digest_raises_and_is_not_cached(
    tampering_server: tuple[str, TamperingSchemaService],
) -> None:
    address, service = tampering_server
    async with ovsr.Client(address, token="s3cret") as client:
        with pytest.raises(ovsr.DigestMismatch) as raised:
            await client.get("acme", "order", 3)
        with pytest.raises(ovsr.DigestMismatch):
            await client.get("acme", "order", 3)

    error = raised.value
    assert error.schema == "acme/order@3"
    assert error.expected == ovsr.compute_digest('{"type":"object"}')
    assert error.actual == ovsr.compute_digest('{"type":"string"}')
    assert "acme/order@3" in str(error) and error.expected in str(error)
    assert service.calls == 2
    assert service.authorization == ["Bearer s3cret", "Bearer s3cret"]


def test_verify_digest_names_content_that_is_not_json() -> None:
    with pytest.raises(ovsr.DigestMismatch, match="not valid JSON"):
        ovsr.verify_digest("acme/order@1", "{", ovsr.compute_digest("{}"))

