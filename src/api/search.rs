//! The search query language of `GET /v1/Search/Messages` (an extension), parsed
//! once for the server and the client: words, prefixes (`quok*`), "phrases", all required.
//!
//! Operators of the engines (`AND OR NOT ( ) * " ^ : -` and the like) are never
//! passed through: text is cut into words of letters and digits, the same cut
//! both stores' tokenizers make, and the store quotes each word for its engine,
//! so no query can be a syntax error there.

use serde::{Deserialize, Serialize};

/// The query parameters of `GET /v1/Search/Messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchParams {
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;
/// Most terms one query may hold; the rest are ignored (a page of search
/// results never needs more, and each term is an index probe).
const MAX_TERMS: usize = 16;
/// Longest word kept (longer ones are cut: no tokenizer keeps more).
const MAX_WORD_CHARS: usize = 64;

/// One required term: consecutive words (a phrase of one or more), the last
/// matched as a prefix when `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub words: Vec<String>,
    pub prefix: bool,
}

/// Parses a query into its terms; none when it holds no word at all.
pub fn parse(query: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    // Outside quotes (even chunks): each space-separated piece is a term; a
    // piece such as `foo-bar` is the phrase "foo bar", as the index saw it.
    // Inside quotes (odd chunks): the whole chunk is one phrase.
    let mut quoted = false;
    for chunk in query.split('"') {
        if quoted {
            let prefix = chunk.trim_end().ends_with('*');
            push(&mut terms, words_of(chunk), prefix);
        } else {
            for piece in chunk.split_whitespace() {
                push(&mut terms, words_of(piece), piece.ends_with('*'));
            }
        }
        quoted = !quoted;
        if terms.len() >= MAX_TERMS {
            break;
        }
    }
    terms.truncate(MAX_TERMS);
    terms
}

fn push(terms: &mut Vec<Term>, words: Vec<String>, prefix: bool) {
    if !words.is_empty() {
        terms.push(Term { words, prefix });
    }
}

/// The words of some text, lowercased: runs of letters and digits.
pub fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).flat_map(char::to_lowercase).collect())
        .collect()
}

/// Where the terms occur in `text` (to mark the match in results): the byte
/// ranges of the words that match a word of any term.
pub fn highlights(text: &str, terms: &[Term]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let ends = text.char_indices().map(|(i, c)| (i, Some(c))).chain(std::iter::once((text.len(), None)));
    for (i, c) in ends {
        match (c.is_some_and(char::is_alphanumeric), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word: String = text[s..i].chars().flat_map(char::to_lowercase).collect();
                let hit = terms.iter().any(|t| {
                    t.words.iter().enumerate().any(|(n, w)| {
                        if t.prefix && n + 1 == t.words.len() { word.starts_with(w.as_str()) } else { word == *w }
                    })
                });
                if hit {
                    out.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(words: &[&str], prefix: bool) -> Term {
        Term { words: words.iter().map(|w| (*w).to_owned()).collect(), prefix }
    }

    #[test]
    fn words_prefixes_and_phrases() {
        assert_eq!(parse("Hello quok*"), [t(&["hello"], false), t(&["quok"], true)]);
        assert_eq!(
            parse("say \"release at Noon\" now"),
            [t(&["say"], false), t(&["release", "at", "noon"], false), t(&["now"], false)]
        );
        assert_eq!(parse("foo-bar"), [t(&["foo", "bar"], false)]);
        assert_eq!(parse("\"half open"), [t(&["half", "open"], false)]);
    }

    #[test]
    fn operators_alone_make_no_terms() {
        for q in ["", "   ", "AND", "* ( ) \" ^ : -", "\"\"", "((((", "NOT:^*"] {
            let terms = parse(q);
            assert!(terms.iter().all(|t| t.words.iter().all(|w| w.chars().all(char::is_alphanumeric))), "{q}");
        }
        assert!(parse("( ) * ^ :").is_empty());
        // Words spelled like operators are plain words.
        assert_eq!(parse("NOT or"), [t(&["not"], false), t(&["or"], false)]);
    }

    #[test]
    fn terms_are_bounded() {
        let q = "w ".repeat(100);
        assert_eq!(parse(&q).len(), MAX_TERMS);
        let long = "x".repeat(500);
        assert_eq!(parse(&long)[0].words[0].len(), MAX_WORD_CHARS);
    }

    #[test]
    fn highlights_mark_whole_words_and_prefixes() {
        let text = "Quokkas and a quok, not quick";
        let r = highlights(text, &parse("quok*"));
        assert_eq!(r.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>(), ["Quokkas", "quok"]);
        let r = highlights(text, &parse("and"));
        assert_eq!(r.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>(), ["and"]);
    }
}
