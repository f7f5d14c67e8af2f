//! Proving content is what was published: its digest, recomputed here.

use ovsr_core::CanonicalDocument;

use crate::Error;

/// Fails with [`Error::DigestMismatch`] unless `content` hashes to `expected`
/// (`sha256:<hex>` of its RFC 8785 canonical form). `label` names the schema.
pub fn verify(label: &str, content: &str, expected: &str) -> Result<(), Error> {
    let actual = match CanonicalDocument::from_slice(content.as_bytes(), usize::MAX) {
        Ok(document) => document.digest().to_string(),
        Err(err) => format!("(content is not JSON: {err})"),
    };
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            schema: label.to_owned(),
            expected: expected.to_owned(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_is_hashed_not_the_text() {
        let digest = CanonicalDocument::from_slice(br#"{"b":1,"a":1.0}"#, 1024)
            .unwrap()
            .digest()
            .to_string();
        assert!(verify("acme/order@1", "{ \"a\": 1, \"b\": 1 }", &digest).is_ok());
        let err = verify("acme/order@1", r#"{"a":2,"b":1}"#, &digest).unwrap_err();
        assert!(
            matches!(&err, Error::DigestMismatch { schema, .. } if schema == "acme/order@1"),
            "{err}"
        );
        assert!(err.to_string().contains(&digest));
    }
}
