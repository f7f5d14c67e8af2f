import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VersionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERSION_STATE_UNSPECIFIED: _ClassVar[VersionState]
    VERSION_STATE_ACTIVE: _ClassVar[VersionState]
    VERSION_STATE_DEPRECATED: _ClassVar[VersionState]
    VERSION_STATE_DELETED: _ClassVar[VersionState]

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_REGISTERED: _ClassVar[ChangeKind]
    CHANGE_KIND_DEPRECATED: _ClassVar[ChangeKind]
    CHANGE_KIND_DELETED: _ClassVar[ChangeKind]
VERSION_STATE_UNSPECIFIED: VersionState
VERSION_STATE_ACTIVE: VersionState
VERSION_STATE_DEPRECATED: VersionState
VERSION_STATE_DELETED: VersionState
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_REGISTERED: ChangeKind
CHANGE_KIND_DEPRECATED: ChangeKind
CHANGE_KIND_DELETED: ChangeKind

class VersionRef(_message.Message):
    __slots__ = ("namespace", "name", "version")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    version: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SchemaSelector(_message.Message):
    __slots__ = ("version_ref", "digest")
    VERSION_REF_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    version_ref: VersionRef
    digest: str
    def __init__(self, version_ref: _Optional[_Union[VersionRef, _Mapping]] = ..., digest: _Optional[str] = ...) -> None: ...

class SchemaVersion(_message.Message):
    __slots__ = ("namespace", "name", "version", "digest", "state", "content", "title", "description", "dialect", "tags", "size_bytes", "created_at", "url", "aliases", "references")
    class ReferencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    version: int
    digest: str
    state: VersionState
    content: str
    title: str
    description: str
    dialect: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    size_bytes: int
    created_at: _timestamp_pb2.Timestamp
    url: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    references: _containers.ScalarMap[str, str]
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., state: _Optional[_Union[VersionState, str]] = ..., content: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., dialect: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., size_bytes: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., url: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., references: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SchemaSummary(_message.Message):
    __slots__ = ("namespace", "name", "latest_version", "latest_digest", "latest_state", "title", "description", "updated_at")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    LATEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    LATEST_STATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    latest_version: int
    latest_digest: str
    latest_state: VersionState
    title: str
    description: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., latest_version: _Optional[int] = ..., latest_digest: _Optional[str] = ..., latest_state: _Optional[_Union[VersionState, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class RegisterSchemaRequest(_message.Message):
    __slots__ = ("namespace", "name", "content", "tags", "aliases", "dialect")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    content: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    dialect: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., content: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Iterable[str]] = ..., dialect: _Optional[str] = ...) -> None: ...

class RegisterSchemaResponse(_message.Message):
    __slots__ = ("schema_version", "created")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    schema_version: SchemaVersion
    created: bool
    def __init__(self, schema_version: _Optional[_Union[SchemaVersion, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class BatchRegisterSchemasRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[RegisterSchemaRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[RegisterSchemaRequest, _Mapping]]] = ...) -> None: ...

class BatchRegisterSchemasResult(_message.Message):
    __slots__ = ("registered", "error")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    registered: RegisterSchemaResponse
    error: ItemError
    def __init__(self, registered: _Optional[_Union[RegisterSchemaResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class BatchRegisterSchemasResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchRegisterSchemasResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchRegisterSchemasResult, _Mapping]]] = ...) -> None: ...

class GetSchemaRequest(_message.Message):
    __slots__ = ("schema", "if_none_match", "include_deleted")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    IF_NONE_MATCH_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    schema: SchemaSelector
    if_none_match: str
    include_deleted: bool
    def __init__(self, schema: _Optional[_Union[SchemaSelector, _Mapping]] = ..., if_none_match: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class GetSchemaResponse(_message.Message):
    __slots__ = ("schema_version", "not_modified")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    NOT_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    schema_version: SchemaVersion
    not_modified: bool
    def __init__(self, schema_version: _Optional[_Union[SchemaVersion, _Mapping]] = ..., not_modified: _Optional[bool] = ...) -> None: ...

class BatchGetSchemasRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[GetSchemaRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[GetSchemaRequest, _Mapping]]] = ...) -> None: ...

class BatchGetSchemasResult(_message.Message):
    __slots__ = ("found", "error")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    found: GetSchemaResponse
    error: ItemError
    def __init__(self, found: _Optional[_Union[GetSchemaResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class BatchGetSchemasResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchGetSchemasResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchGetSchemasResult, _Mapping]]] = ...) -> None: ...

class ListSchemasRequest(_message.Message):
    __slots__ = ("namespace", "page_size", "page_token", "include_deleted")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    page_size: int
    page_token: str
    include_deleted: bool
    def __init__(self, namespace: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class ListSchemasResponse(_message.Message):
    __slots__ = ("schemas", "next_page_token")
    SCHEMAS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    schemas: _containers.RepeatedCompositeFieldContainer[SchemaSummary]
    next_page_token: str
    def __init__(self, schemas: _Optional[_Iterable[_Union[SchemaSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("namespace", "name", "page_size", "page_token", "include_deleted")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    page_size: int
    page_token: str
    include_deleted: bool
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[SchemaVersion]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[SchemaVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeprecateVersionRequest(_message.Message):
    __slots__ = ("version_ref",)
    VERSION_REF_FIELD_NUMBER: _ClassVar[int]
    version_ref: VersionRef
    def __init__(self, version_ref: _Optional[_Union[VersionRef, _Mapping]] = ...) -> None: ...

class DeprecateVersionResponse(_message.Message):
    __slots__ = ("schema_version",)
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    schema_version: SchemaVersion
    def __init__(self, schema_version: _Optional[_Union[SchemaVersion, _Mapping]] = ...) -> None: ...

class DeleteSchemaRequest(_message.Message):
    __slots__ = ("namespace", "name", "version")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    version: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DeleteSchemaResponse(_message.Message):
    __slots__ = ("deleted_versions",)
    DELETED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    deleted_versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, deleted_versions: _Optional[_Iterable[int]] = ...) -> None: ...

class WatchSchemasRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class WatchSchemasResponse(_message.Message):
    __slots__ = ("kind", "schema_version")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    kind: ChangeKind
    schema_version: SchemaVersion
    def __init__(self, kind: _Optional[_Union[ChangeKind, str]] = ..., schema_version: _Optional[_Union[SchemaVersion, _Mapping]] = ...) -> None: ...
