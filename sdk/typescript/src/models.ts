/**
 * The values the client returns: plain objects over the ovsr.v1 messages.
 *
 * @module
 */

import { Code } from "@connectrpc/connect";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";

import {
  type ItemError as ItemErrorMessage,
  type SchemaSummary as SchemaSummaryMessage,
  type SchemaVersion,
  VersionState as VersionStateMessage,
} from "./gen/ovsr/v1/schema_pb.js";
import type { SearchResponse } from "./gen/ovsr/v1/search_pb.js";
import type {
  ValidateStreamResponse,
  ValidationResult as ValidationResultMessage,
} from "./gen/ovsr/v1/validation_pb.js";

/**
 * The lifecycle state of a version: `active` is served and recommended,
 * `deprecated` is served but readers should move on, `deleted` is hidden
 * unless asked for. `unspecified` is never sent for a served version.
 */
export type VersionState = "unspecified" | "active" | "deprecated" | "deleted";

/** The fields of a `Schema`; those left out take empty values. */
export interface SchemaFields {
  namespace: string;
  name: string;
  version: number;
  digest: string;
  content: string;
  state?: VersionState;
  title?: string;
  description?: string;
  dialect?: string;
  tags?: readonly string[];
  sizeBytes?: number;
  createdAt?: Date | undefined;
  url?: string;
  aliases?: readonly string[];
  references?: Readonly<Record<string, string>>;
}

/**
 * One version of a schema, with its canonical content.
 *
 * `content` is the RFC 8785 canonical JSON text, whose sha256 is `digest`.
 * `state` is as of when the version was fetched: content never changes, but
 * a version may be deprecated later. Instances are frozen.
 */
export class Schema {
  readonly namespace: string;
  readonly name: string;
  /** The version number, from 1. */
  readonly version: number;
  /** `sha256:<hex>` of the canonical content. */
  readonly digest: string;
  /** The canonical JSON text. */
  readonly content: string;
  readonly state: VersionState;
  /** The document's top-level `title`, if any. */
  readonly title: string;
  /** The document's top-level `description`, if any. */
  readonly description: string;
  /** The `$schema` the document declares, or the registry's default. */
  readonly dialect: string;
  readonly tags: readonly string[];
  readonly sizeBytes: number;
  /** When the version was registered; undefined when not known. */
  readonly createdAt: Date | undefined;
  /** The stable URL of this version. */
  readonly url: string;
  /** The aliases the schema held when this version was registered. */
  readonly aliases: readonly string[];
  /** Referenced URL to the digest it was pinned to at registration. */
  readonly references: Readonly<Record<string, string>>;

  constructor(fields: SchemaFields) {
    this.namespace = fields.namespace;
    this.name = fields.name;
    this.version = fields.version;
    this.digest = fields.digest;
    this.content = fields.content;
    this.state = fields.state ?? "active";
    this.title = fields.title ?? "";
    this.description = fields.description ?? "";
    this.dialect = fields.dialect ?? "";
    this.tags = Object.freeze([...(fields.tags ?? [])]);
    this.sizeBytes = fields.sizeBytes ?? 0;
    this.createdAt = fields.createdAt;
    this.url = fields.url ?? "";
    this.aliases = Object.freeze([...(fields.aliases ?? [])]);
    this.references = Object.freeze({ ...fields.references });
    // The cache hands the same instance to every reader.
    Object.freeze(this);
  }

  /** `namespace/name@version`, for messages. */
  get label(): string {
    return `${this.namespace}/${this.name}@${this.version}`;
  }

  /** The content parsed as JSON. */
  document(): unknown {
    return JSON.parse(this.content);
  }
}

/** The outcome of a registration. */
export interface Registration {
  readonly schema: Schema;
  /** False when an existing version with identical content was returned. */
  readonly created: boolean;
}

/** A schema with its newest version, as listed. */
export interface SchemaSummary {
  readonly namespace: string;
  readonly name: string;
  /** The latest version that is not deleted; 0 when every one is deleted. */
  readonly latestVersion: number;
  readonly latestDigest: string;
  readonly latestState: VersionState;
  readonly title: string;
  readonly description: string;
  readonly updatedAt: Date | undefined;
}

/** One page of `OvsrClient.listSchemas`. */
export interface SchemaPage {
  readonly schemas: readonly SchemaSummary[];
  /** Pass to the next call for the next page; empty on the last page. */
  readonly nextPageToken: string;
}

/** A matched fragment of a searchable field. */
export interface Highlight {
  readonly field: string;
  /** The fragment, with matches wrapped in `<em>` and `</em>`. */
  readonly snippet: string;
}

/** One search hit: the latest matching version of a schema. */
export interface SearchHit {
  readonly namespace: string;
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly state: VersionState;
  readonly createdAt: Date | undefined;
  readonly highlights: readonly Highlight[];
}

/** The hit count of one value of a facet. */
export interface FacetCount {
  readonly value: string;
  readonly count: number;
}

/** One page of `OvsrClient.search`. */
export interface SearchPage {
  readonly hits: readonly SearchHit[];
  /** Pass to the next call for the next page; empty on the last page. */
  readonly nextPageToken: string;
  /** Estimated number of hits over all pages. */
  readonly estimatedTotalHits: number;
  /**
   * Per facet field (`namespace`, `tags`): values with their hit counts,
   * the most frequent first.
   */
  readonly facets: Readonly<Record<string, readonly FacetCount[]>>;
}

/** One reason a document failed validation. */
export interface ValidationError {
  /** JSON Pointer to the failing part of the document. */
  readonly instanceLocation: string;
  /** JSON Pointer to the failing keyword, through the references followed. */
  readonly keywordLocation: string;
  /** Absolute URI of the failing keyword. */
  readonly absoluteKeywordLocation: string;
  readonly message: string;
}

/** The result of validating one document. */
export interface ValidationResult {
  readonly valid: boolean;
  readonly errors: readonly ValidationError[];
  /** Digest of the schema version the document was validated against. */
  readonly schemaDigest: string;
}

/** Why one item of a stream failed, without failing the rest. */
export interface ItemError {
  /**
   * `Code.InvalidArgument` for a document that is not JSON or too large,
   * `Code.NotFound` for an unknown schema, ...
   */
  readonly code: Code;
  /** What went wrong, naming the field at fault. */
  readonly message: string;
}

/**
 * The result for one document of `OvsrClient.validateStream`.
 *
 * Exactly one of `result` and `error` is set: `error` when the document
 * could not be validated at all (not JSON, too large, unknown schema).
 */
export interface StreamResult {
  /** The position of the document in the input, from 0. */
  readonly sequence: number;
  readonly result: ValidationResult | undefined;
  readonly error: ItemError | undefined;
  /** True when the document was validated and is valid. */
  readonly valid: boolean;
}

const STATES: Readonly<Record<VersionStateMessage, VersionState>> = {
  [VersionStateMessage.UNSPECIFIED]: "unspecified",
  [VersionStateMessage.ACTIVE]: "active",
  [VersionStateMessage.DEPRECATED]: "deprecated",
  [VersionStateMessage.DELETED]: "deleted",
};

/** A `VersionState` from its ovsr.v1 enum value. */
export function stateFromProto(state: VersionStateMessage): VersionState {
  return STATES[state] ?? "unspecified";
}

/** A protobuf timestamp as a `Date`; undefined when unset. */
export function dateFromProto(timestamp: Timestamp | undefined): Date | undefined {
  if (timestamp === undefined) {
    return undefined;
  }
  if (timestamp.seconds === 0n && timestamp.nanos === 0) {
    return undefined;
  }
  return timestampDate(timestamp);
}

/** A `Schema` from its ovsr.v1 message, content as sent. */
export function schemaFromProto(message: SchemaVersion): Schema {
  return new Schema({
    namespace: message.namespace,
    name: message.name,
    version: message.version,
    digest: message.digest,
    content: message.content,
    state: stateFromProto(message.state),
    title: message.title,
    description: message.description,
    dialect: message.dialect,
    tags: [...message.tags],
    sizeBytes: Number(message.sizeBytes),
    createdAt: dateFromProto(message.createdAt),
    url: message.url,
    aliases: [...message.aliases],
    references: { ...message.references },
  });
}

/** A `SchemaSummary` from its ovsr.v1 message. */
export function summaryFromProto(message: SchemaSummaryMessage): SchemaSummary {
  return {
    namespace: message.namespace,
    name: message.name,
    latestVersion: message.latestVersion,
    latestDigest: message.latestDigest,
    latestState: stateFromProto(message.latestState),
    title: message.title,
    description: message.description,
    updatedAt: dateFromProto(message.updatedAt),
  };
}

/** A `SearchPage` from its ovsr.v1 message. */
export function searchPageFromProto(message: SearchResponse): SearchPage {
  const hits = message.hits.map((hit): SearchHit => ({
    namespace: hit.namespace,
    name: hit.name,
    version: hit.version,
    digest: hit.digest,
    title: hit.title,
    description: hit.description,
    tags: [...hit.tags],
    state: stateFromProto(hit.state),
    createdAt: dateFromProto(hit.createdAt),
    highlights: hit.highlights.map(({ field, snippet }) => ({ field, snippet })),
  }));
  const facets: Record<string, FacetCount[]> = {};
  for (const facet of message.facets) {
    facets[facet.field] = facet.values.map(({ value, count }) => ({
      value,
      count: Number(count),
    }));
  }
  return {
    hits,
    nextPageToken: message.nextPageToken,
    estimatedTotalHits: Number(message.estimatedTotalHits),
    facets,
  };
}

/** A `ValidationResult` from its ovsr.v1 message. */
export function validationResultFromProto(
  message: ValidationResultMessage | undefined,
): ValidationResult {
  const errors = (message?.errors ?? []).map((error): ValidationError => ({
    instanceLocation: error.instanceLocation,
    keywordLocation: error.keywordLocation,
    absoluteKeywordLocation: error.absoluteKeywordLocation,
    message: error.message,
  }));
  return {
    valid: message?.valid ?? false,
    errors,
    schemaDigest: message?.schemaDigest ?? "",
  };
}

/** An `ItemError` from its ovsr.v1 message. */
export function itemErrorFromProto(message: ItemErrorMessage): ItemError {
  return { code: message.code as Code, message: message.message };
}

/** A `StreamResult` from one response of a validation stream. */
export function streamResultFromProto(message: ValidateStreamResponse): StreamResult {
  const sequence = Number(message.sequence);
  const { outcome } = message;
  if (outcome.case === "error") {
    const error = itemErrorFromProto(outcome.value);
    return { sequence, result: undefined, error, valid: false };
  }
  if (outcome.case === undefined) {
    const error = { code: Code.Internal, message: "the registry sent no outcome" };
    return { sequence, result: undefined, error, valid: false };
  }
  const result = validationResultFromProto(outcome.value);
  return { sequence, result, error: undefined, valid: result.valid };
}
