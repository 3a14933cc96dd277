//! Finding the byte span of a key or value in a TOML text, for located errors.
//!
//! The typed parsers deserialise with `toml`; when a check that serde cannot express
//! fails (an undeclared set, a duplicate entry), they look the offending key up here
//! with a path such as `["deps", "from", "company"]` and point the error at it.

use std::ops::Range;

use toml_edit::{Item, Table, TableLike, Value};

/// One step of a path into a TOML document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// A key of a table (standard, inline or dotted).
    Key(&'a str),
    /// An index into an array or an array of tables.
    Index(usize),
}

/// A parsed document kept only to look spans up.
pub(crate) struct Spans<'a> {
    document: Option<toml_edit::Document<&'a str>>,
}

#[derive(Clone, Copy)]
enum Node<'d> {
    Item(&'d Item),
    Value(&'d Value),
    Table(&'d Table),
}

impl<'d> Node<'d> {
    fn table_like(self) -> Option<&'d dyn TableLike> {
        match self {
            Node::Item(item) => item.as_table_like(),
            Node::Value(value) => value.as_inline_table().map(|t| t as &dyn TableLike),
            Node::Table(table) => Some(table),
        }
    }

    fn index(self, index: usize) -> Option<(Node<'d>, Option<Range<usize>>)> {
        match self {
            Node::Item(Item::ArrayOfTables(array)) => {
                let table = array.get(index)?;
                Some((Node::Table(table), table.span()))
            }
            Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)) => {
                let value = array.get(index)?;
                Some((Node::Value(value), value.span()))
            }
            _ => None,
        }
    }
}

impl<'a> Spans<'a> {
    /// Parse `text`; a text that does not parse gives no spans at all.
    pub(crate) fn new(text: &'a str) -> Self {
        Spans {
            document: toml_edit::Document::parse(text).ok(),
        }
    }

    /// The span of the value at `path`, or of the closest enclosing thing found.
    pub(crate) fn value(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        self.walk(path, false)
    }

    /// The span of the last key of `path` (falling back like [`Spans::value`]).
    pub(crate) fn key(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        self.walk(path, true)
    }

    fn walk(&self, path: &[Seg<'_>], want_key: bool) -> Option<Range<usize>> {
        let document = self.document.as_ref()?;
        let mut node = Node::Item(document.as_item());
        let mut best = None;
        for (position, segment) in path.iter().enumerate() {
            let last = position + 1 == path.len();
            match *segment {
                Seg::Key(name) => {
                    let Some((key, child)) = node.table_like().and_then(|t| t.get_key_value(name))
                    else {
                        break;
                    };
                    if last && want_key {
                        return key.span().or(best);
                    }
                    best = child.span().or_else(|| key.span()).or(best);
                    node = Node::Item(child);
                }
                Seg::Index(index) => {
                    let Some((child, span)) = node.index(index) else {
                        break;
                    };
                    best = span.or(best);
                    node = child;
                }
            }
        }
        best
    }
}

/// Separates a message from its hint inside a serde error message.
///
/// Serde errors carry only text, so custom deserialisers append the hint after this
/// marker and [`located_from_toml`] splits it off again.
pub(crate) const HINT_MARK: &str = "\u{1f}hint\u{1f}";

/// A serde error message with a hint attached (see [`HINT_MARK`]).
pub(crate) fn with_hint(message: impl std::fmt::Display, hint: &str) -> String {
    format!("{message}{HINT_MARK}{hint}")
}

/// Turn a `toml` deserialisation error into a [`Located`](crate::diagnostic::Located).
pub(crate) fn located_from_toml(
    path: &std::path::Path,
    text: &str,
    error: &toml::de::Error,
) -> crate::diagnostic::Located {
    let raw = error.message().trim_end();
    let (message, hint) = match raw.split_once(HINT_MARK) {
        Some((message, hint)) => (message.to_owned(), Some(hint.to_owned())),
        None => (raw.to_owned(), default_hint(raw)),
    };
    crate::diagnostic::Located::new(path, text, error.span(), message, hint)
}

fn default_hint(message: &str) -> Option<String> {
    if message.starts_with("unknown field") {
        Some("remove the field or fix its spelling".to_owned())
    } else if message.starts_with("missing field") {
        Some("add the field".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_values_and_array_entries() {
        let text = "[a]\nb = { c = [1, 22] }\n[[d]]\ne = 1\n[[d]]\ne = 333\n";
        let spans = Spans::new(text);
        let span = spans.value(&[Seg::Key("a"), Seg::Key("b"), Seg::Key("c"), Seg::Index(1)]);
        assert_eq!(span.map(|r| &text[r]), Some("22"));
        let span = spans.key(&[Seg::Key("a"), Seg::Key("b"), Seg::Key("c")]);
        assert_eq!(span.map(|r| &text[r]), Some("c"));
        let span = spans.value(&[Seg::Key("d"), Seg::Index(1), Seg::Key("e")]);
        assert_eq!(span.map(|r| &text[r]), Some("333"));
        // A missing leaf falls back to its closest parent.
        let span = spans.value(&[Seg::Key("a"), Seg::Key("b"), Seg::Key("zzz")]);
        assert_eq!(span.map(|r| &text[r]), Some("{ c = [1, 22] }"));
    }
}
