//! Errors that point into a file: path, line, column, the offending text and a hint.
//!
//! Every parser in this crate turns its failures into a [`Located`] so the binary can
//! show the user exactly where a file is wrong and how to fix it.
//!
//! ```
//! use atom::diagnostic::Located;
//!
//! let text = "[package]\nlabel = \"-bad\"\n";
//! let at = text.find("\"-bad\"").unwrap();
//! let error = Located::new("atom.toml", text, Some(at..at + 6), "invalid label", None);
//! assert_eq!((error.line, error.column), (2, 9));
//! assert!(error.to_string().starts_with("atom.toml:2:9: invalid label"));
//! ```

use std::{fmt, ops::Range, path::PathBuf};

/// A message about a span of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file the message is about.
    pub path: PathBuf,
    /// 1-based line of the span's start (0 when the file has no position for it).
    pub line: usize,
    /// 1-based column (in characters) of the span's start (0 when unknown).
    pub column: usize,
    /// Byte range of the offending text in the file, if known.
    pub span: Option<Range<usize>>,
    /// The whole line holding the span's start, without its line break.
    pub source_line: String,
    /// What is wrong, as a lowercase phrase.
    pub message: String,
    /// How to fix it, if there is something to say.
    pub hint: Option<String>,
}

impl Located {
    /// Locate `span` (a byte range into `content`) and build the message.
    ///
    /// A span past the end of `content` is clamped; `None` gives line and column 0.
    pub fn new(
        path: impl Into<PathBuf>,
        content: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let (line, column, source_line) = match &span {
            Some(range) => locate(content, range.start),
            None => (0, 0, String::new()),
        };
        Located {
            path: path.into(),
            line,
            column,
            span,
            source_line,
            message: message.into(),
            hint,
        }
    }

    /// The offending text, if the span is known and inside the line.
    pub fn snippet_width(&self) -> usize {
        match &self.span {
            Some(range) => {
                let on_line = self
                    .source_line
                    .chars()
                    .count()
                    .saturating_sub(self.column - 1);
                range.len().clamp(1, on_line.max(1))
            }
            None => 0,
        }
    }
}

fn locate(content: &str, offset: usize) -> (usize, usize, String) {
    let mut offset = offset.min(content.len());
    while !content.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &content[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = content[line_start..offset].chars().count() + 1;
    let line_end = content[offset..]
        .find('\n')
        .map_or(content.len(), |i| offset + i);
    // The line is shown back to the user: a URL's password in it (the very thing a
    // manifest is refused for) is redacted like in every other message.
    let source_line =
        crate::uri::redact_credentials(content[line_start..line_end].trim_end_matches('\r'));
    (line, column, source_line)
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )?;
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}",
                "", self.line, self.source_line
            )?;
            let pad = " ".repeat(self.column.saturating_sub(1));
            write!(
                f,
                "\n{:gutter$} | {pad}{}",
                "",
                "^".repeat(self.snippet_width())
            )?;
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Located {}

impl crate::error::Classify for Located {
    /// A diagnostic points into a file the user wrote: the input is refused.
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Input
    }

    /// `None`: the message already ends with its `hint:` line.
    fn hint(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_multibyte_columns() {
        let text = "a = 1\nλλ = \"x\"\n";
        let at = text.find('"').unwrap();
        let error = Located::new(
            "f.toml",
            text,
            Some(at..at + 3),
            "bad",
            Some("fix it".into()),
        );
        assert_eq!((error.line, error.column), (2, 6));
        assert_eq!(error.source_line, "λλ = \"x\"");
        assert_eq!(
            error.to_string(),
            "f.toml:2:6: bad\n  |\n2 | λλ = \"x\"\n  |      ^^^\nhint: fix it"
        );
    }

    #[test]
    fn a_password_on_the_shown_line_is_redacted() {
        let content = "[package.sets]\nc = \"https://me:secret@h/x.git\"\n";
        let start = content.find("\"https").unwrap_or_default();
        let error = Located::new("f.toml", content, Some(start..start + 28), "bad", None);
        assert_eq!(error.source_line, "c = \"https://me:***@h/x.git\"");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert_eq!(error.snippet_width(), error.source_line.chars().count() - 4);
    }

    #[test]
    fn unknown_position_has_no_snippet() {
        let error = Located::new("f.toml", "", None, "empty", None);
        assert_eq!(error.to_string(), "f.toml: empty");
    }

    #[test]
    fn span_past_end_is_clamped() {
        let error = Located::new("f.toml", "abc", Some(10..12), "eof", None);
        assert_eq!((error.line, error.column), (1, 4));
    }
}
