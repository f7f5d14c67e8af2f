//! Splitting registry text into words.
//!
//! Schema names and property names are written `github-workflow`, `docker_compose`,
//! `package.json` or `containerPort`. The index splits on every character that is not a
//! letter or digit, lowercases, and for camel-case words also emits the parts beside the
//! whole word, so `containerPort` is found by `containerport`, `container` and `port`,
//! and `GitHub` by `github`.

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// The name the tokenizer is registered under in the index.
pub(super) const WORDS: &str = "ovsr_words";

/// Longer runs are identifiers, hashes or base64, not words anyone types.
const MAX_WORD_BYTES: usize = 64;

/// The analyzer for every searchable text field.
pub(super) fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(WordTokenizer)
}

/// The words of query text: the same splitting as the index, without camel-case parts,
/// so `dependsOn` asks for the word `dependson` and `depends on` for two words.
pub(super) fn query_words(text: &str) -> Vec<String> {
    alphanumeric_runs(text)
        .map(|(_, run)| run.to_lowercase())
        .filter(|word| word.len() <= MAX_WORD_BYTES)
        .collect()
}

/// Every token of `text` as the index sees it, in order.
pub(super) fn index_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (start, run) in alphanumeric_runs(text) {
        if run.len() > MAX_WORD_BYTES {
            continue;
        }
        let position = tokens.len();
        let parts = camel_case_parts(run);
        let mut push = |from: usize, to: usize| {
            tokens.push(Token {
                offset_from: start + from,
                offset_to: start + to,
                position,
                text: run[from..to].to_lowercase(),
                position_length: 1,
            });
        };
        push(0, run.len());
        if parts.len() > 1 {
            for (from, to) in parts {
                push(from, to);
            }
        }
    }
    tokens
}

/// Splits text into words at every character that is neither a letter nor a digit.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WordTokenizer;

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        WordStream {
            tokens: index_tokens(text),
            next: 0,
        }
    }
}

/// The words of one text, computed up front: field values are short.
#[derive(Debug)]
pub(super) struct WordStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Byte offset and text of each maximal run of letters and digits.
fn alphanumeric_runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                runs.push((from, &text[from..at]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        runs.push((from, &text[from..]));
    }
    runs.into_iter()
}

/// Byte ranges of the camel-case parts of a run: a new part starts at an uppercase
/// letter after a lowercase letter or digit, and before the last capital of an acronym
/// followed by lowercase (`HTTPServer` is `HTTP`, `Server`).
fn camel_case_parts(run: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = run.char_indices().collect();
    let mut parts = Vec::new();
    let mut from = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let before = chars[i - 1].1;
        let after = chars.get(i + 1).map(|(_, c)| *c);
        let lower_to_upper = c.is_uppercase() && !before.is_uppercase();
        let acronym_end =
            c.is_uppercase() && before.is_uppercase() && after.is_some_and(char::is_lowercase);
        if lower_to_upper || acronym_end {
            parts.push((from, at));
            from = at;
        }
    }
    parts.push((from, run.len()));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        index_tokens(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn separators_split_words() {
        assert_eq!(texts("github-workflow"), ["github", "workflow"]);
        assert_eq!(texts("docker_compose"), ["docker", "compose"]);
        assert_eq!(texts("package.json"), ["package", "json"]);
    }

    #[test]
    fn camel_case_words_keep_the_whole_and_add_the_parts() {
        assert_eq!(
            texts("containerPort"),
            ["containerport", "container", "port"]
        );
        assert_eq!(texts("GitHub"), ["github", "git", "hub"]);
        assert_eq!(texts("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(texts("kubernetes"), ["kubernetes"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "A fooBar";
        let tokens = index_tokens(text);
        let spans: Vec<&str> = tokens
            .iter()
            .map(|t| &text[t.offset_from..t.offset_to])
            .collect();
        assert_eq!(spans, ["A", "fooBar", "foo", "Bar"]);
    }

    #[test]
    fn query_words_are_not_split_at_case() {
        assert_eq!(
            query_words("dependsOn  Docker-Comp"),
            ["dependson", "docker", "comp"]
        );
    }
}
