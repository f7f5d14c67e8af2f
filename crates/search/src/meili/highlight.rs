//! Highlights from Meilisearch's `_formatted` hit, written as the embedded index
//! writes them: HTML-escaped, matches in `<em>`, a prefix match marking its whole word.

use serde_json::{Map, Value};

use crate::Highlight;

/// Marks Meilisearch puts around matches. Private-use characters, so no schema text
/// is mistaken for a mark and the marks survive HTML escaping.
pub(super) const PRE: &str = "\u{e000}";
pub(super) const POST: &str = "\u{e001}";

/// The fields highlighted, in the order hits list them.
pub(super) const FIELDS: [&str; 3] = ["title", "description", "properties"];

/// Most characters of a property list shown in its highlight.
const PROPERTIES_CHARS: usize = 160;

/// The highlights of one hit: a snippet per field with a match.
pub(super) fn highlights(formatted: Option<&Map<String, Value>>) -> Vec<Highlight> {
    let Some(formatted) = formatted else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter_map(|field| {
            let text = match formatted.get(*field)? {
                Value::String(text) => text.clone(),
                Value::Array(items) => properties_window(items),
                _ => return None,
            };
            text.contains(PRE).then(|| Highlight {
                field: (*field).to_owned(),
                snippet: snippet(&text),
            })
        })
        .collect()
}

/// Property names joined by spaces, from the first that matched, within
/// [`PROPERTIES_CHARS`].
fn properties_window(items: &[Value]) -> String {
    let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
    let first = names
        .iter()
        .position(|name| name.contains(PRE))
        .unwrap_or(0);
    let mut out = String::new();
    for name in &names[first..] {
        if !out.is_empty() && out.chars().count() + 1 + name.chars().count() > PROPERTIES_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(name);
    }
    // Earlier names fit in front while room is left, so short lists show whole.
    for name in names[..first].iter().rev() {
        if out.chars().count() + name.chars().count() + 1 > PROPERTIES_CHARS {
            break;
        }
        out.insert(0, ' ');
        out.insert_str(0, name);
    }
    out
}

/// Escapes `text` for HTML and turns the marks into `<em>` tags, moving each closing
/// mark to the end of its word.
fn snippet(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut open = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{e000}' => {
                if !open {
                    out.push_str("<em>");
                    open = true;
                }
            }
            '\u{e001}' => {
                while let Some(&next) = chars.peek() {
                    if !next.is_alphanumeric() {
                        break;
                    }
                    push_escaped(&mut out, next);
                    chars.next();
                }
                if open {
                    out.push_str("</em>");
                    open = false;
                }
            }
            c => push_escaped(&mut out, c),
        }
    }
    if open {
        out.push_str("</em>");
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn marks_become_em_and_text_is_escaped() {
        let text = format!("Runs <{PRE}pods{POST}> & more");
        assert_eq!(snippet(&text), "Runs &lt;<em>pods</em>&gt; &amp; more");
    }

    #[test]
    fn a_prefix_match_marks_its_whole_word() {
        let text = format!("replicas {PRE}container{POST}Port");
        assert_eq!(snippet(&text), "replicas <em>containerPort</em>");
    }

    #[test]
    fn only_fields_with_a_match_are_highlighted() {
        let formatted = json!({
            "title": format!("{PRE}Kubernetes{POST} Deployment"),
            "description": "Pods",
            "properties": ["replicas", format!("{PRE}port{POST}")],
        });
        let found = highlights(formatted.as_object());
        let fields: Vec<&str> = found.iter().map(|h| h.field.as_str()).collect();
        assert_eq!(fields, ["title", "properties"]);
        assert_eq!(found[1].snippet, "replicas <em>port</em>");
    }

    #[test]
    fn a_long_property_list_shows_a_window_around_the_match() {
        let mut names: Vec<Value> = (0..100).map(|i| json!(format!("field{i:03}"))).collect();
        names[80] = json!(format!("{PRE}target{POST}"));
        let window = properties_window(&names);
        assert!(window.chars().count() <= PROPERTIES_CHARS);
        assert!(window.contains(PRE));
    }
}
