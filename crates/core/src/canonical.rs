//! RFC 8785 (JSON Canonicalization Scheme) and the documents built on it.
//!
//! The canonical form is what the registry stores, serves and digests: object members
//! sorted by their UTF-16 code units, no insignificant whitespace, strings escaped the
//! way ECMAScript's `JSON.stringify` escapes them, and numbers written as ECMAScript
//! writes an IEEE-754 double. Serving exactly these bytes lets a client check the digest
//! of what it received with nothing but sha256.

mod strict;

use std::fmt::Write as _;

use serde_json::Value;

use crate::Digest;

/// Why a body could not become a canonical document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The body is larger than the configured limit.
    #[error("document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The body is not JSON, or is JSON that cannot be canonicalized (a duplicate
    /// member name, nesting deeper than the parser allows).
    #[error("not valid JSON: {0}")]
    NotJson(String),
}

/// A parsed JSON document with its canonical text and digest, computed once.
#[derive(Debug, Clone)]
pub struct CanonicalDocument {
    value: Value,
    canonical: String,
    digest: Digest,
}

impl CanonicalDocument {
    /// Parses a body of at most `limit` bytes. Duplicate member names are refused:
    /// they make a document's meaning depend on the parser that reads it.
    pub fn from_slice(body: &[u8], limit: usize) -> Result<Self, DocumentError> {
        if body.len() > limit {
            return Err(DocumentError::TooLarge {
                size: body.len(),
                limit,
            });
        }
        let value = strict::parse(body).map_err(|err| DocumentError::NotJson(err.to_string()))?;
        Ok(Self::from_value(value))
    }

    /// Canonicalizes an already parsed value.
    pub fn from_value(value: Value) -> Self {
        let canonical = canonical_json(&value);
        let digest = Digest::of_canonical(canonical.as_bytes());
        Self {
            value,
            canonical,
            digest,
        }
    }

    /// The parsed document.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The RFC 8785 canonical text.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// `sha256` of the canonical text.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Splits into the parsed value and the canonical text.
    pub fn into_parts(self) -> (Value, String, Digest) {
        (self.value, self.canonical, self.digest)
    }
}

/// Writes `value` in RFC 8785 canonical form.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            // serde_json only holds finite numbers; every JSON number is read as the
            // nearest double, as RFC 8785 requires.
            let double = number.as_f64().unwrap_or(0.0);
            out.push_str(&es_number_to_string(double));
        }
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, member);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a finite double the way ECMAScript's `Number.prototype.toString` does
/// (ECMA-262, Number::toString), which RFC 8785 adopts for numbers.
pub fn es_number_to_string(value: f64) -> String {
    if value == 0.0 {
        // Both zeros are written "0".
        return "0".to_owned();
    }

    // Rust's `{:e}` yields the shortest digit string that reads back as the same
    // double, picking the closest when several qualify: the digits ECMAScript wants.
    let (digits, exponent) = shortest_digits(value.abs());

    let k = digits.len() as i32;
    let n = exponent + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if value < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if n > 0 { '+' } else { '-' };
        let _ = write!(out, "e{sign}{}", (n - 1).abs());
    }
    out
}

/// The shortest digits (and decimal exponent of the first digit) that read back as
/// `value`, breaking a tie between two equally close candidates towards the even one
/// as ECMA-262 asks. Rust's shortest formatting already picks the closest candidate,
/// but settles exact ties (such as 1424953923781206.25) upwards.
fn shortest_digits(value: f64) -> (String, i32) {
    let (digits, exponent) = split_scientific(&format!("{value:e}"));
    let last = digits.as_bytes()[digits.len() - 1] - b'0';
    if digits.len() < 2 || last.is_multiple_of(2) {
        return (digits, exponent);
    }

    // A double has at most 767 significant decimal digits, so this is exact.
    let (exact, exact_exponent) = split_scientific(&format!("{value:.767e}"));
    if exact_exponent != exponent {
        return (digits, exponent);
    }
    let head = &digits[..digits.len() - 1];
    let below = format!("{head}{}", last - 1);
    if exact == format!("{below}5") {
        return (below, exponent);
    }
    if exact == format!("{digits}5") && last != 9 {
        return (format!("{head}{}", last + 1), exponent);
    }
    (digits, exponent)
}

/// Splits `d.ddde±x` into its significant digits (trailing zeros dropped) and `x`.
fn split_scientific(scientific: &str) -> (String, i32) {
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let trimmed = digits.trim_end_matches('0');
    let digits = if trimmed.is_empty() { "0" } else { trimmed };
    (digits.to_owned(), exponent.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests;
