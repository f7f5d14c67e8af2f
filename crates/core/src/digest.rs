//! Content digests: `sha256:<64 lowercase hex digits>` over the canonical form.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::InvalidArgument;

const PREFIX: &str = "sha256:";

/// The sha256 digest of a document's canonical form. It is the ETag, the cache key and
/// the proof that a client got exactly what was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// Digests canonical bytes. Callers pass the output of [`crate::canonical_json`].
    pub fn of_canonical(canonical: &[u8]) -> Self {
        Self(Sha256::digest(canonical).into())
    }

    /// Parses `sha256:<hex>`, reporting a violation under `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self, InvalidArgument> {
        let bad = |reason: &str| InvalidArgument::new(field, format!("{raw:?} {reason}"));
        let hex = raw
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("does not start with 'sha256:'"))?;
        if hex.len() != 64 {
            return Err(bad("must have 64 hex digits after 'sha256:'"));
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.as_bytes().chunks_exact(2).enumerate() {
            let high = hex_value(pair[0]).ok_or_else(|| bad("is not lowercase hex"))?;
            let low = hex_value(pair[1]).ok_or_else(|| bad("is not lowercase hex"))?;
            bytes[i] = high << 4 | low;
        }
        Ok(Self(bytes))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every validation answer carries a digest: one write, not 32 formatted ones.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        f.write_str(PREFIX)?;
        // Only ASCII hex digits were written.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_matches_sha256() {
        let digest = Digest::of_canonical(b"");
        let expected = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(digest.to_string(), expected);
        assert_eq!(Digest::parse(expected, "digest").unwrap(), digest);
    }

    #[test]
    fn malformed_digests_are_refused() {
        for raw in [
            "sha1:abc",
            "sha256:abc",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            let err = Digest::parse(raw, "digest").unwrap_err();
            assert_eq!(err.field, "digest");
        }
    }
}
