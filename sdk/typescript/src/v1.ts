/**
 * The ovsr.v1 messages and service descriptors, as generated from the
 * protos, for calls the client does not wrap (batch calls, API keys) made
 * with Connect directly: `createClient(SchemaService, transport)`.
 *
 * @module
 */

export * from "./gen/ovsr/v1/auth_pb.js";
export * from "./gen/ovsr/v1/schema_pb.js";
export * from "./gen/ovsr/v1/search_pb.js";
export * from "./gen/ovsr/v1/validation_pb.js";
