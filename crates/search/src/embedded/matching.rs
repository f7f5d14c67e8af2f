//! Turning query text and filters into a tantivy query, and deciding which words of a
//! field a query matched (for highlights).
//!
//! Ranking, in the order common search engines apply it:
//! 1. Schemas matching more of the query's words come first: each matched word earns
//!    [`WORD_MATCH_SCORE`], more than any field score can add up to, so a schema missing
//!    a word still shows (after those that have it) instead of vanishing.
//! 2. Within that, each word scores in the field where it matches best, plus a fraction
//!    for the other fields (a disjunction-max with tie-breaker), so a word that appears
//!    in a name, a title and a description does not outrank a rarer word.
//! 3. In one field, how a word matched sets a constant score (exact above prefix above
//!    typo) times the field's boost, so the field matters more than the kind of match: a
//!    prefix of a name outranks an exact property name. BM25 adds a bounded share on top,
//!    to prefer rare words and short fields among equal matches.

// TODO: no proximity ranking: words adjacent in a title score as if far apart; ranking
// by it needs positions indexed and phrase-scored clauses per field.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery,
    Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::fields::Fields;
use crate::SearchQuery;

/// How much more a word counts in each field. Names and titles say what a schema is;
/// tags, property names and `$id` say what it holds; descriptions are long prose where
/// any word may appear.
const NAME_BOOST: f32 = 4.0;
const TITLE_BOOST: f32 = 4.0;
const TAGS_BOOST: f32 = 2.0;
const PROPERTIES_BOOST: f32 = 1.5;
const ID_BOOST: f32 = 1.5;
const NAMESPACE_BOOST: f32 = 1.5;
const DESCRIPTION_BOOST: f32 = 1.0;

/// What a match in a field earns by kind, as multiples of the field's boost.
const EXACT_SCORE: f32 = 10.0;
const PREFIX_SCORE: f32 = 9.0;
const FUZZY_SCORE: f32 = 8.0;

/// The share of BM25 added to an exact match. BM25 of one word rarely exceeds 10, so
/// this stays below the gap between one field's boost and the next.
const BM25_SHARE: f32 = 0.3;

/// What each matched query word adds, above any sum of field scores.
const WORD_MATCH_SCORE: f32 = 1_000.0;

/// What other fields add beyond the best-matching field for one word.
const TIE_BREAKER: f32 = 0.2;

/// Words shorter than this are not prefix-expanded: `a` would match half the index.
const MIN_PREFIX_CHARS: usize = 2;

/// The edit distance a word tolerates: none below 5 characters, 1 up to 8, 2 from 9,
/// as common search engines do.
pub(super) fn typo_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The query for `words` and the filters of `query`: a hit matches at least one word
/// (every schema when there are none) and every filter.
pub(super) fn build_query(
    fields: &Fields,
    words: &[String],
    query: &SearchQuery,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut any_word: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (at, word) in words.iter().enumerate() {
        let is_last = at + 1 == words.len();
        let scored = word_query(fields, word, is_last);
        let counted = ConstScoreQuery::new(scored.box_clone(), WORD_MATCH_SCORE);
        let either: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, scored), (Occur::Should, Box::new(counted))];
        any_word.push((Occur::Should, Box::new(BooleanQuery::new(either))));
    }
    if any_word.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    } else {
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_word))));
    }
    for filter in filters(fields, query) {
        // Filters select; they must not change the ranking.
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
    }
    for hidden in hidden_states(query) {
        let term = Term::from_field_text(fields.state, hidden);
        clauses.push((Occur::MustNot, term_query(term)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Whether the indexed word `candidate` matches the query word `word` as the query
/// built by [`build_query`] does: exactly, within the typo distance, or (for the last
/// word) as a prefix within that distance.
pub(super) fn word_matches(candidate: &str, word: &str, is_last: bool) -> bool {
    if candidate == word {
        return true;
    }
    let distance = usize::from(typo_distance(word));
    let candidate: Vec<char> = candidate.chars().collect();
    let word: Vec<char> = word.chars().collect();
    if edit_distance(&candidate, &word) <= distance {
        return true;
    }
    if !is_last || word.len() < MIN_PREFIX_CHARS {
        return false;
    }
    let shortest = word.len().saturating_sub(distance);
    let longest = (word.len() + distance).min(candidate.len());
    (shortest..=longest).any(|len| edit_distance(&candidate[..len], &word) <= distance)
}

fn word_query(fields: &Fields, word: &str, is_last: bool) -> Box<dyn Query> {
    let text = &fields.text;
    let boosted = [
        (text.name, NAME_BOOST),
        (text.title, TITLE_BOOST),
        (text.tags, TAGS_BOOST),
        (text.properties, PROPERTIES_BOOST),
        (text.id, ID_BOOST),
        (text.namespace, NAMESPACE_BOOST),
        (text.description, DESCRIPTION_BOOST),
    ];
    let per_field = boosted
        .into_iter()
        .map(|(field, boost)| field_query(field, boost, word, is_last))
        .collect();
    Box::new(DisjunctionMaxQuery::with_tie_breaker(
        per_field,
        TIE_BREAKER,
    ))
}

fn field_query(field: Field, boost: f32, word: &str, is_last: bool) -> Box<dyn Query> {
    let term = Term::from_field_text(field, word);
    let distance = typo_distance(word);
    let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
    let mut kinds: Vec<Box<dyn Query>> = vec![constant(exact.clone(), EXACT_SCORE)];
    if distance > 0 {
        let fuzzy = FuzzyTermQuery::new(term.clone(), distance, true);
        kinds.push(constant(fuzzy, FUZZY_SCORE));
    }
    if is_last && word.chars().count() >= MIN_PREFIX_CHARS {
        let prefix = FuzzyTermQuery::new_prefix(term, distance, true);
        kinds.push(constant(prefix, PREFIX_SCORE));
    }
    let bm25 = BoostQuery::new(Box::new(exact), BM25_SHARE);
    let ways: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Should, Box::new(DisjunctionMaxQuery::new(kinds))),
        (Occur::Should, Box::new(bm25)),
    ];
    Box::new(BoostQuery::new(Box::new(BooleanQuery::new(ways)), boost))
}

fn constant(query: impl Query, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(Box::new(query), score))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Every filter the query asks for, each a query a hit must match.
fn filters(fields: &Fields, query: &SearchQuery) -> Vec<Box<dyn Query>> {
    let mut filters = Vec::new();
    let namespaces = query.namespaces.iter().map(|namespace| namespace.as_str());
    if let Some(any) = any_of(fields.namespace, namespaces) {
        filters.push(any);
    }
    for tag in &query.tags {
        filters.push(term_query(Term::from_field_text(fields.tag, tag)));
    }
    if let Some(any) = any_of(fields.dialect, query.dialects.iter().map(String::as_str)) {
        filters.push(any);
    }
    filters
}

/// Matches any of `values` in `field`; `None` when there are none (no filter).
fn any_of<'a>(field: Field, values: impl Iterator<Item = &'a str>) -> Option<Box<dyn Query>> {
    let clauses: Vec<(Occur, Box<dyn Query>)> = values
        .map(|value| {
            (
                Occur::Should,
                term_query(Term::from_field_text(field, value)),
            )
        })
        .collect();
    (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
}

fn hidden_states(query: &SearchQuery) -> Vec<&'static str> {
    let mut hidden = Vec::new();
    if !query.include_deprecated {
        hidden.push("deprecated");
    }
    if !query.include_deleted {
        hidden.push("deleted");
    }
    hidden
}

/// Optimal-string-alignment distance: edits with adjacent transpositions counting one,
/// as the index's typo matching counts them.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        rows[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        rows[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[at(i - 1, j)] + 1)
                .min(rows[at(i, j - 1)] + 1)
                .min(rows[at(i - 1, j - 1)] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[at(i - 2, j - 2)] + 1);
            }
            rows[at(i, j)] = best;
        }
    }
    rows[at(a.len(), b.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_distance_grows_with_word_length() {
        assert_eq!(typo_distance("yaml"), 0);
        assert_eq!(typo_distance("docker"), 1);
        assert_eq!(typo_distance("kubernetes"), 2);
    }

    #[test]
    fn matching_follows_the_query_rules() {
        assert!(word_matches("kubernetes", "kubernets", false));
        assert!(word_matches("workflow", "workflw", false));
        assert!(!word_matches("yams", "yaml", false));
        assert!(word_matches("compose", "comp", true));
        assert!(!word_matches("compose", "comp", false));
        assert!(word_matches("configuration", "confi", true));
        assert!(!word_matches("c", "cx", true));
    }

    #[test]
    fn transpositions_count_one_edit() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("dcoker"), &chars("docker")), 1);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
    }
}
