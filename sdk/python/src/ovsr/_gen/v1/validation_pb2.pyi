from ovsr._gen.v1 import schema_pb2 as _schema_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutputFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_FORMAT_UNSPECIFIED: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_FLAG: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_BASIC: _ClassVar[OutputFormat]

class Compatibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPATIBILITY_UNSPECIFIED: _ClassVar[Compatibility]
    COMPATIBILITY_BACKWARD: _ClassVar[Compatibility]
    COMPATIBILITY_FORWARD: _ClassVar[Compatibility]
    COMPATIBILITY_FULL: _ClassVar[Compatibility]
    COMPATIBILITY_NONE: _ClassVar[Compatibility]
OUTPUT_FORMAT_UNSPECIFIED: OutputFormat
OUTPUT_FORMAT_FLAG: OutputFormat
OUTPUT_FORMAT_BASIC: OutputFormat
COMPATIBILITY_UNSPECIFIED: Compatibility
COMPATIBILITY_BACKWARD: Compatibility
COMPATIBILITY_FORWARD: Compatibility
COMPATIBILITY_FULL: Compatibility
COMPATIBILITY_NONE: Compatibility

class ValidationError(_message.Message):
    __slots__ = ("instance_location", "keyword_location", "absolute_keyword_location", "message")
    INSTANCE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    KEYWORD_LOCATION_FIELD_NUMBER: _ClassVar[int]
    ABSOLUTE_KEYWORD_LOCATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    instance_location: str
    keyword_location: str
    absolute_keyword_location: str
    message: str
    def __init__(self, instance_location: _Optional[str] = ..., keyword_location: _Optional[str] = ..., absolute_keyword_location: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ValidationResult(_message.Message):
    __slots__ = ("valid", "errors", "schema_digest")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_DIGEST_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[ValidationError]
    schema_digest: str
    def __init__(self, valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[ValidationError, _Mapping]]] = ..., schema_digest: _Optional[str] = ...) -> None: ...

class ValidateRequest(_message.Message):
    __slots__ = ("schema", "document", "output_format", "assert_formats")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ASSERT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    schema: _schema_pb2.SchemaSelector
    document: str
    output_format: OutputFormat
    assert_formats: bool
    def __init__(self, schema: _Optional[_Union[_schema_pb2.SchemaSelector, _Mapping]] = ..., document: _Optional[str] = ..., output_format: _Optional[_Union[OutputFormat, str]] = ..., assert_formats: _Optional[bool] = ...) -> None: ...

class ValidateResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ValidationResult
    def __init__(self, result: _Optional[_Union[ValidationResult, _Mapping]] = ...) -> None: ...

class ValidateBatchRequest(_message.Message):
    __slots__ = ("schema", "documents", "output_format", "assert_formats")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ASSERT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    schema: _schema_pb2.SchemaSelector
    documents: _containers.RepeatedScalarFieldContainer[str]
    output_format: OutputFormat
    assert_formats: bool
    def __init__(self, schema: _Optional[_Union[_schema_pb2.SchemaSelector, _Mapping]] = ..., documents: _Optional[_Iterable[str]] = ..., output_format: _Optional[_Union[OutputFormat, str]] = ..., assert_formats: _Optional[bool] = ...) -> None: ...

class BatchValidationOutcome(_message.Message):
    __slots__ = ("result", "error")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    result: ValidationResult
    error: _schema_pb2.ItemError
    def __init__(self, result: _Optional[_Union[ValidationResult, _Mapping]] = ..., error: _Optional[_Union[_schema_pb2.ItemError, _Mapping]] = ...) -> None: ...

class ValidateBatchResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[BatchValidationOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[BatchValidationOutcome, _Mapping]]] = ...) -> None: ...

class ValidateStreamOpen(_message.Message):
    __slots__ = ("default_schema", "output_format", "assert_formats")
    DEFAULT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ASSERT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    default_schema: _schema_pb2.SchemaSelector
    output_format: OutputFormat
    assert_formats: bool
    def __init__(self, default_schema: _Optional[_Union[_schema_pb2.SchemaSelector, _Mapping]] = ..., output_format: _Optional[_Union[OutputFormat, str]] = ..., assert_formats: _Optional[bool] = ...) -> None: ...

class StreamDocument(_message.Message):
    __slots__ = ("sequence", "schema", "document")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    schema: _schema_pb2.SchemaSelector
    document: str
    def __init__(self, sequence: _Optional[int] = ..., schema: _Optional[_Union[_schema_pb2.SchemaSelector, _Mapping]] = ..., document: _Optional[str] = ...) -> None: ...

class ValidateStreamRequest(_message.Message):
    __slots__ = ("open", "document")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    open: ValidateStreamOpen
    document: StreamDocument
    def __init__(self, open: _Optional[_Union[ValidateStreamOpen, _Mapping]] = ..., document: _Optional[_Union[StreamDocument, _Mapping]] = ...) -> None: ...

class ValidateStreamResponse(_message.Message):
    __slots__ = ("sequence", "result", "error")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    result: ValidationResult
    error: _schema_pb2.ItemError
    def __init__(self, sequence: _Optional[int] = ..., result: _Optional[_Union[ValidationResult, _Mapping]] = ..., error: _Optional[_Union[_schema_pb2.ItemError, _Mapping]] = ...) -> None: ...

class ValidateSchemaRequest(_message.Message):
    __slots__ = ("content", "namespace", "name")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    content: str
    namespace: str
    name: str
    def __init__(self, content: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ValidateSchemaResponse(_message.Message):
    __slots__ = ("valid", "errors", "digest")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[ValidationError]
    digest: str
    def __init__(self, valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[ValidationError, _Mapping]]] = ..., digest: _Optional[str] = ...) -> None: ...

class CheckCompatibilityRequest(_message.Message):
    __slots__ = ("base", "candidate")
    BASE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    base: _schema_pb2.SchemaSelector
    candidate: str
    def __init__(self, base: _Optional[_Union[_schema_pb2.SchemaSelector, _Mapping]] = ..., candidate: _Optional[str] = ...) -> None: ...

class CheckCompatibilityResponse(_message.Message):
    __slots__ = ("compatibility", "reasons")
    COMPATIBILITY_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    compatibility: Compatibility
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, compatibility: _Optional[_Union[Compatibility, str]] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...
