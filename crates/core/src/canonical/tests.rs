use serde_json::json;

use super::*;

/// RFC 8785 appendix B: IEEE-754 bit patterns and their expected serialization.
const NUMBER_VECTORS: &[(u64, &str)] = &[
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"),
    (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"),
    (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
    (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"),
    (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"),
    (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
];

#[test]
fn numbers_follow_the_rfc_8785_vectors() {
    for (bits, expected) in NUMBER_VECTORS {
        let value = f64::from_bits(*bits);
        assert_eq!(es_number_to_string(value), *expected, "bits {bits:#018x}");
    }
}

#[test]
fn members_sort_by_utf16_code_units() {
    // RFC 8785 section 3.2.3: the surrogate pair of U+1F600 sorts before U+FB33 in
    // UTF-16 although it follows it as a code point.
    let body = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = concat!(
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",",
        "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",",
        "\"\u{1f600}\":\"Emoji: Grinning Face\",",
        "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
    );
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    assert_eq!(doc.canonical(), expected);
}

#[test]
fn the_rfc_8785_sample_canonicalizes_exactly() {
    // RFC 8785 section 3.2.2, the input with numbers, escapes and literals.
    let body = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = concat!(
        r#"{"literals":[null,true,false],"#,
        r#""numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
        r#""string":"€$\u000f\nA'B\"\\\\\"/"}"#,
    );
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    assert_eq!(doc.canonical(), expected);
}

#[test]
fn strings_escape_only_what_ecmascript_escapes() {
    let value = json!({"s": "tab\t nul\u{0} del\u{7f} line\u{2028} quote\" slash/"});
    let expected = "{\"s\":\"tab\\t nul\\u0000 del\u{7f} line\u{2028} quote\\\" slash/\"}";
    assert_eq!(canonical_json(&value), expected);
}

#[test]
fn integers_are_read_as_doubles() {
    let doc = CanonicalDocument::from_slice(b"[1.0, -0, 18446744073709551615]", 64).unwrap();
    assert_eq!(doc.canonical(), "[1,0,18446744073709552000]");
}

#[test]
fn equal_documents_share_a_digest_whatever_their_layout() {
    let a = CanonicalDocument::from_slice(br#"{"b": 1, "a": [true]}"#, 64).unwrap();
    let b = CanonicalDocument::from_slice(br#"{"a":[true],"b":1.0}"#, 64).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.canonical(), r#"{"a":[true],"b":1}"#);
}

#[test]
fn duplicate_member_names_are_refused() {
    let err = CanonicalDocument::from_slice(br#"{"a": 1, "a": 2}"#, 64).unwrap_err();
    assert!(
        err.to_string().contains("duplicate member name \"a\""),
        "{err}"
    );
}

#[test]
fn oversized_and_broken_bodies_are_refused() {
    let err = CanonicalDocument::from_slice(b"[1,2,3]", 4).unwrap_err();
    assert_eq!(err, DocumentError::TooLarge { size: 7, limit: 4 });
    let err = CanonicalDocument::from_slice(b"{\"a\":", 64).unwrap_err();
    assert!(matches!(err, DocumentError::NotJson(_)));
}

#[test]
fn nesting_beyond_the_parser_limit_is_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = CanonicalDocument::from_slice(deep.as_bytes(), 1 << 20).unwrap_err();
    assert!(matches!(err, DocumentError::NotJson(_)));
}
