"""The client's local cache of schema versions.

A version's content never changes, so entries reached by digest or by a
pinned version number are kept without expiry, in memory in a bounded LRU
and, when a directory is given, on disk. `latest` is a moving pointer: it is
served from memory for `latest_ttl` seconds, then revalidated with
`if_none_match`, which costs a not-modified answer with no body while the
schema is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from ovsr.digest import compute_digest
from ovsr.errors import CorruptCacheFile
from ovsr.models import Schema, VersionState

_log = logging.getLogger("ovsr.cache")

_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
# Namespaces and names are validated by the registry; a cache directory
# still never takes a path segment it did not check itself.
_PATH_SEGMENT = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")

_Key = tuple[str, ...]


@dataclass
class CacheStats:
    """Counts of what the cache did since the client started."""

    #: Reads answered locally, with no request (memory or disk).
    hits: int = 0
    #: Reads the cache could not answer: fetched from the server in full.
    misses: int = 0
    #: `latest` pointers past their TTL, checked with the server.
    revalidations: int = 0
    #: Revalidations the server answered not-modified, with no body.
    not_modified: int = 0
    #: Hits served from the cache directory (also counted in `hits`).
    disk_hits: int = 0
    #: Entries dropped from memory to stay within the bounds.
    evictions: int = 0
    #: Cache files that failed verification when loaded, and were removed.
    rejected_files: int = 0


@dataclass(frozen=True)
class CacheOptions:
    """How much the cache holds and where it persists."""

    #: Bound on the content bytes held in memory, summed over entries (an
    #: entry reached by several keys counts once per key).
    max_bytes: int = 64 * 1024 * 1024
    #: Bound on the number of entries held in memory.
    max_entries: int = 10_000
    #: Seconds a `latest` answer is served before it is revalidated.
    latest_ttl: float = 30.0
    #: Directory that keeps immutable entries across restarts; None keeps
    #: them in memory only.
    directory: str | os.PathLike[str] | None = None


class LatestEntry(NamedTuple):
    """A cached `latest` answer and whether it is still within its TTL."""

    schema: Schema
    fresh: bool


@dataclass
class _Entry:
    schema: Schema
    size: int
    fetched_at: float


class SchemaCache:
    """Bounded LRU of schema versions, optionally persisted to a directory.

    Not thread-safe: one cache belongs to one client on one event loop.
    """

    def __init__(
        self,
        options: CacheOptions = CacheOptions(),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._options = options
        self._clock = clock
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._bytes = 0
        self._stats = CacheStats()
        directory = options.directory
        self._disk = None if directory is None else _DiskStore(Path(directory).expanduser())

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        return dataclasses.replace(self._stats)

    def pinned(self, namespace: str, name: str, version: int) -> Schema | None:
        """The cached version `namespace/name@version`, counting a hit or a miss."""
        key = ("version", namespace, name, str(version))
        schema = self._memory_get(key)
        disk = self._disk
        if schema is None and disk is not None:
            schema = self._disk_load(lambda: disk.load_version(namespace, name, version))
            if schema is not None:
                self._remember(key, schema)
        self._count(schema)
        return schema

    def by_digest(self, digest: str) -> Schema | None:
        """The cached content with this digest, counting a hit or a miss."""
        key = ("digest", digest)
        schema = self._memory_get(key)
        disk = self._disk
        if schema is None and disk is not None:
            schema = self._disk_load(lambda: disk.load_digest(digest))
            if schema is not None:
                self._remember(key, schema)
        self._count(schema)
        return schema

    def latest(self, namespace: str, name: str) -> LatestEntry | None:
        """The cached `latest` of a schema, if any.

        Counts a hit when it is fresh, a revalidation when it is stale (the
        caller is about to check it with the server), and a miss when absent.
        """
        entry = self._entries.get(("latest", namespace, name))
        if entry is None:
            self._stats.misses += 1
            return None
        self._entries.move_to_end(("latest", namespace, name))
        fresh = self._clock() - entry.fetched_at < self._options.latest_ttl
        if fresh:
            self._stats.hits += 1
        else:
            self._stats.revalidations += 1
        return LatestEntry(entry.schema, fresh)

    def store(self, schema: Schema, *, latest: bool) -> None:
        """Keeps a version fetched from the server, its digest checked.

        `latest` also records it as the schema's latest, fresh from now.
        """
        self._remember(("digest", schema.digest), schema)
        self._remember(("version", schema.namespace, schema.name, str(schema.version)), schema)
        if latest:
            self._remember(("latest", schema.namespace, schema.name), schema)
        if self._disk is not None:
            self._disk.save(schema)

    def refresh_latest(self, schema: Schema) -> None:
        """Keeps a `latest` the server answered not-modified, fresh from now.

        `schema` is the held content with the metadata of the answer.
        """
        self._stats.not_modified += 1
        self._remember(("latest", schema.namespace, schema.name), schema)

    def forget_latest(self, namespace: str, name: str) -> None:
        """Drops the cached `latest` of a schema, so the next read fetches it."""
        entry = self._entries.pop(("latest", namespace, name), None)
        if entry is not None:
            self._bytes -= entry.size

    def _memory_get(self, key: _Key) -> Schema | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.schema

    def _disk_load(self, load: Callable[[], Schema | None]) -> Schema | None:
        try:
            schema = load()
        except CorruptCacheFile as error:
            self._stats.rejected_files += 1
            _log.warning("%s", error)
            return None
        if schema is not None:
            self._stats.disk_hits += 1
        return schema

    def _count(self, schema: Schema | None) -> None:
        if schema is None:
            self._stats.misses += 1
        else:
            self._stats.hits += 1

    def _remember(self, key: _Key, schema: Schema) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= previous.size
        size = len(schema.content)
        if size > self._options.max_bytes:
            return
        self._entries[key] = _Entry(schema, size, self._clock())
        self._bytes += size
        while self._bytes > self._options.max_bytes or (
            len(self._entries) > self._options.max_entries
        ):
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
            self._stats.evictions += 1


class _DiskStore:
    """One file per digest holding the content, and one small file per
    pinned version pointing at its digest.

    Files are written atomically (a temporary file renamed into place) and
    content is re-verified against its digest every time it is loaded.
    """

    # TODO: the directory is never pruned; it grows by a small file per digest and version read.
    def __init__(self, root: Path) -> None:
        self._root = root

    def load_digest(self, digest: str) -> Schema | None:
        path = self._digest_path(digest)
        if path is None or not path.exists():
            return None
        record = self._read(path)
        content = record.get("content")
        if not isinstance(content, str):
            self._reject(path, "it holds no content")
        try:
            actual = compute_digest(content)
        except ValueError:
            self._reject(path, "its content is not JSON")
        if actual != digest:
            self._reject(path, f"content hashes to {actual}, not to {digest} as its name says")
        schema = _schema_from_record(path, record, content)
        # The name of the file is what was verified, not the digest inside.
        return dataclasses.replace(schema, digest=digest)

    def load_version(self, namespace: str, name: str, version: int) -> Schema | None:
        path = self._version_path(namespace, name, version)
        if path is None or not path.exists():
            return None
        record = self._read(path)
        digest = record.get("digest")
        if not isinstance(digest, str) or self._digest_path(digest) is None:
            self._reject(path, "it names no valid digest")
        stored = self.load_digest(digest)
        if stored is None:
            return None
        return _schema_from_record(path, record, stored.content)

    def save(self, schema: Schema) -> None:
        digest_path = self._digest_path(schema.digest)
        version_path = self._version_path(schema.namespace, schema.name, schema.version)
        if digest_path is None or version_path is None:
            return
        try:
            if not digest_path.exists():
                _write_atomically(digest_path, _record(schema, with_content=True))
            if not version_path.exists():
                _write_atomically(version_path, _record(schema, with_content=False))
        except OSError as error:
            # A cache that cannot write still serves from memory.
            _log.warning("cache directory not writable: %s", error)

    def _digest_path(self, digest: str) -> Path | None:
        match = _DIGEST.fullmatch(digest)
        if match is None:
            return None
        return self._root / "sha256" / f"{match.group(1)}.json"

    def _version_path(self, namespace: str, name: str, version: int) -> Path | None:
        if not (_PATH_SEGMENT.fullmatch(namespace) and _PATH_SEGMENT.fullmatch(name)):
            return None
        return self._root / "versions" / namespace / name / f"{version}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            record = json.loads(path.read_bytes())
        except (OSError, ValueError) as error:
            self._reject(path, f"it is not a cache record ({error})")
        if not isinstance(record, dict):
            self._reject(path, "it is not a cache record")
        return record

    def _reject(self, path: Path, reason: str) -> NoReturn:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        raise CorruptCacheFile(path, reason)


def _write_atomically(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _record(schema: Schema, *, with_content: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "namespace": schema.namespace,
        "name": schema.name,
        "version": schema.version,
        "digest": schema.digest,
        "state": schema.state.value,
        "title": schema.title,
        "description": schema.description,
        "dialect": schema.dialect,
        "tags": list(schema.tags),
        "size_bytes": schema.size_bytes,
        "created_at": None if schema.created_at is None else schema.created_at.isoformat(),
        "url": schema.url,
        "aliases": list(schema.aliases),
        "references": dict(schema.references),
    }
    if with_content:
        record["content"] = schema.content
    return record


def _schema_from_record(path: Path, record: dict[str, Any], content: str) -> Schema:
    try:
        created_at = record.get("created_at")
        return Schema(
            namespace=str(record["namespace"]),
            name=str(record["name"]),
            version=int(record["version"]),
            digest=str(record["digest"]),
            content=content,
            state=VersionState(record.get("state", "unspecified")),
            title=str(record.get("title", "")),
            description=str(record.get("description", "")),
            dialect=str(record.get("dialect", "")),
            tags=tuple(str(tag) for tag in record.get("tags", ())),
            size_bytes=int(record.get("size_bytes", 0)),
            created_at=None if created_at is None else datetime.fromisoformat(created_at),
            url=str(record.get("url", "")),
            aliases=tuple(str(alias) for alias in record.get("aliases", ())),
            references={str(k): str(v) for k, v in dict(record.get("references", {})).items()},
        )
    except (KeyError, TypeError, ValueError) as error:
        path.unlink(missing_ok=True)
        raise CorruptCacheFile(path, f"it is not a cache record ({error!r})") from error
