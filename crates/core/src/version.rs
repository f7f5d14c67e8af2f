//! Version numbers, version selectors and version states.

use std::fmt;

use crate::InvalidArgument;

/// A version number. Versions of a schema count up from 1 and are never reused, even
/// after a version is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u32);

impl Version {
    /// The first version of every schema.
    pub const FIRST: Version = Version(1);

    /// Checks that `number` is a version number (1 or more).
    pub fn new(number: u32, field: &str) -> Result<Self, InvalidArgument> {
        if number == 0 {
            return Err(InvalidArgument::new(field, "versions start at 1"));
        }
        Ok(Self(number))
    }

    /// The version number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The version after this one.
    pub fn next(self) -> Version {
        Version(self.0.saturating_add(1))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which version of a schema a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// The highest version that is not deleted. This pointer moves when a version is
    /// registered or deleted, so it is never cached as if it were immutable.
    Latest,
    /// One version, immutable.
    Exact(Version),
}

impl VersionSelector {
    /// Parses `latest` or a version number as written in a URL path.
    pub fn parse(raw: &str, field: &str) -> Result<Self, InvalidArgument> {
        if raw == "latest" {
            return Ok(Self::Latest);
        }
        let number = raw.parse::<u32>().map_err(|_| {
            let reason = format!("{raw:?} is neither 'latest' nor a version number");
            InvalidArgument::new(field, reason)
        })?;
        Version::new(number, field).map(Self::Exact)
    }
}

impl fmt::Display for VersionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Exact(version) => version.fmt(f),
        }
    }
}

/// The lifecycle state of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionState {
    /// Served and recommended.
    Active,
    /// Served, but clients are told to move on.
    Deprecated,
    /// Soft-deleted: not served unless asked for explicitly; the number stays taken.
    Deleted,
}

impl VersionState {
    /// The stable spelling stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deprecated => "deprecated",
            Self::Deleted => "deleted",
        }
    }

    /// Reads the stored spelling back; `None` for anything else.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "deprecated" => Some(Self::Deprecated),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

impl fmt::Display for VersionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_zero_is_refused() {
        let err = Version::new(0, "version").unwrap_err();
        assert_eq!(err.field, "version");
    }

    #[test]
    fn selector_parses_latest_and_numbers() {
        assert_eq!(
            VersionSelector::parse("latest", "v").unwrap(),
            VersionSelector::Latest
        );
        let exact = VersionSelector::parse("12", "v").unwrap();
        assert_eq!(exact.to_string(), "12");
        assert!(VersionSelector::parse("v1", "v").is_err());
        assert!(VersionSelector::parse("0", "v").is_err());
    }

    #[test]
    fn states_round_trip_through_storage() {
        for state in [
            VersionState::Active,
            VersionState::Deprecated,
            VersionState::Deleted,
        ] {
            assert_eq!(VersionState::from_stored(state.as_str()), Some(state));
        }
        assert_eq!(VersionState::from_stored("gone"), None);
    }
}
