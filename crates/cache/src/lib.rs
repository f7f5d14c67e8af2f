//! Caching for OVSR: reads that never reach the database once they are hot.
//!
//! Two layers sit in front of the store. **L1** is in process ([`MemoryCache`], on
//! moka), bounded by bytes. **L2** is Redis or Redis Cluster ([`RedisCache`], on
//! fred), shared by every server process. [`CachingSchemaStore`] wraps any
//! [`ovsr_store::SchemaStore`] and reads through both.
//!
//! Two kinds of entries, with different rules:
//!
//! - **Content by digest** never changes: it is kept for a long time and never
//!   invalidated, only evicted for room.
//! - **Pointers** move: `namespace/name` to its latest version, a version to its
//!   digest and state, a digest to the version that holds it, list pages. They are
//!   read cache-aside, written through when a version is published, and dropped on
//!   every change that moves them. Each process announces its changes on a Redis
//!   channel and drops what others announce ([`invalidation`]); a time to live bounds
//!   how stale a pointer can be when an announcement is lost, and a shorter one
//!   applies while announcements cannot be received at all.
//!
//! Not-found answers are cached briefly too, and dropped by the change that would
//! make them found. Losing Redis costs latency, never correctness: every Redis call
//! has a short timeout and falls back to the layer below.

mod codec;
mod config;
mod error;
pub mod invalidation;
mod layer;
mod memory;
mod metrics;
mod popularity;
mod redis;
mod store;

pub use config::CacheConfig;
pub use error::CacheError;
pub use layer::CacheLayer;
pub use memory::{MemoryCache, Weigh};
pub use metrics::CacheMetrics;
pub use popularity::{Popularity, SAMPLE_EVERY};
pub use redis::{RedisCache, RedisConfig};
pub use store::CachingSchemaStore;
