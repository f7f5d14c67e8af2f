//! Invalidation messages: what a write moved, announced to every server process.
//!
//! The writer drops the Redis entries its change made stale, writes through what it
//! knows is fresh, then publishes one message per call. Each process, on receiving
//! it, drops the in-process entries it names. Messages are an optimisation over the
//! pointers' time to live, not the only guard: a lost one costs staleness bounded by
//! that time, never a wrong answer forever.

use ovsr_core::{Digest, SchemaName, Version};
use serde::{Deserialize, Serialize};

use crate::CacheError;

/// The pointers one change moved: a schema's latest, some of its versions, and the
/// digests those versions hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The schema changed.
    pub schema: SchemaName,
    /// Versions whose record changed (registered, deprecated, deleted).
    pub versions: Vec<Version>,
    /// Digests whose owning version may have changed.
    pub digests: Vec<Digest>,
}

/// One published message: which process sent it and what moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// The sender, so a process skips its own echo.
    pub origin: String,
    /// Every change of one write call.
    pub moved: Vec<Moved>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    origin: String,
    moved: Vec<WireMoved>,
}

#[derive(Serialize, Deserialize)]
struct WireMoved {
    schema: String,
    versions: Vec<u32>,
    digests: Vec<String>,
}

impl Invalidation {
    /// The message as published.
    pub fn encode(&self) -> Vec<u8> {
        let wire = Wire {
            origin: self.origin.clone(),
            moved: self
                .moved
                .iter()
                .map(|moved| WireMoved {
                    schema: moved.schema.to_string(),
                    versions: moved.versions.iter().map(|v| v.get()).collect(),
                    digests: moved.digests.iter().map(Digest::to_string).collect(),
                })
                .collect(),
        };
        // Strings and numbers always serialize.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Reads a published message.
    pub fn decode(bytes: &[u8]) -> Result<Self, CacheError> {
        let corrupt = |err: &dyn std::fmt::Display| CacheError::Corrupt(err.to_string());
        let wire: Wire = serde_json::from_slice(bytes).map_err(|err| corrupt(&err))?;
        let mut moved = Vec::with_capacity(wire.moved.len());
        for item in wire.moved {
            let schema = SchemaName::parse(&item.schema, "schema").map_err(|e| corrupt(&e))?;
            let versions = item
                .versions
                .into_iter()
                .map(|v| Version::new(v, "version").map_err(|e| corrupt(&e)))
                .collect::<Result<_, _>>()?;
            let digests = item
                .digests
                .iter()
                .map(|d| Digest::parse(d, "digest").map_err(|e| corrupt(&e)))
                .collect::<Result<_, _>>()?;
            moved.push(Moved {
                schema,
                versions,
                digests,
            });
        }
        Ok(Self {
            origin: wire.origin,
            moved,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_message_round_trips() {
        let message = Invalidation {
            origin: "host-1".to_owned(),
            moved: vec![Moved {
                schema: SchemaName::new("acme", "order", "schema").unwrap(),
                versions: vec![Version::new(2, "version").unwrap()],
                digests: vec![Digest::of_canonical(b"{}")],
            }],
        };
        assert_eq!(Invalidation::decode(&message.encode()).unwrap(), message);
    }

    #[test]
    fn a_garbled_message_is_corrupt() {
        let err = Invalidation::decode(b"{\"origin\":1}").unwrap_err();
        assert!(matches!(err, CacheError::Corrupt(_)));
    }
}
