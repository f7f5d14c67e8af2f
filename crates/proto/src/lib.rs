//! The `ovsr.v1` API as Rust types, client stubs and server traits, generated from
//! `proto/ovsr/v1` at build time.

/// Messages and services of package `ovsr.v1`.
pub mod v1 {
    #![allow(missing_docs, missing_debug_implementations, clippy::all)]
    tonic::include_proto!("ovsr.v1");

    /// The encoded file descriptor set of the API, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("ovsr_descriptor");
}
