//! Table test of `Label::parse` over scripts, invisible characters, confusables and limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use atom::{Label, label::Error};

/// What a table row expects.
enum Expect {
    /// Valid, normalising to this text.
    Ok(&'static str),
    Empty,
    TooLong(usize),
    InvalidStart(char),
    InvalidChar(char, usize),
}

use Expect::*;

#[test]
fn label_table() {
    let max = "a".repeat(128);
    let over = "a".repeat(129);
    // 42 × 3-byte CJK = 126 bytes, plus `ab` = 128.
    let cjk_max = format!("{}ab", "\u{6f22}".repeat(42));
    let cjk_over = format!("{}abc", "\u{6f22}".repeat(42));
    let rows: Vec<(&str, Expect)> = vec![
        // Latin
        ("hello", Ok("hello")),
        ("hello-world", Ok("hello-world")),
        ("snake_case", Ok("snake_case")),
        ("a1", Ok("a1")),
        ("Mixed-Case", Ok("Mixed-Case")),
        ("trailing-", Ok("trailing-")),
        ("caf\u{e9}", Ok("caf\u{e9}")),
        // Greek
        (
            "\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}",
            Ok("\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}"),
        ),
        // CJK
        ("\u{6f22}\u{5b57}", Ok("\u{6f22}\u{5b57}")),
        // Hangul, precomposed and as jamo (NFKC composes)
        ("\u{d55c}\u{ad6d}\u{c5b4}", Ok("\u{d55c}\u{ad6d}\u{c5b4}")),
        ("\u{1112}\u{1161}\u{11ab}", Ok("\u{d55c}")),
        // Combining marks: allowed after a letter and composed, refused at the start
        ("cafe\u{301}", Ok("caf\u{e9}")),
        ("a\u{308}\u{323}", Ok("\u{1ea1}\u{308}")),
        ("\u{301}a", InvalidStart('\u{301}')),
        // Zero-width characters
        ("a\u{200b}b", InvalidChar('\u{200b}', 1)),
        ("a\u{200d}b", InvalidChar('\u{200d}', 1)),
        ("a\u{200c}b", InvalidChar('\u{200c}', 1)),
        ("a\u{feff}b", InvalidChar('\u{feff}', 1)),
        ("\u{feff}ab", InvalidStart('\u{feff}')),
        ("\u{200b}", InvalidStart('\u{200b}')),
        // Other invisible characters that XID_Continue admits
        ("a\u{fe0f}", InvalidChar('\u{fe0f}', 1)),
        ("a\u{34f}b", InvalidChar('\u{34f}', 1)),
        ("\u{115f}a", InvalidStart('\u{115f}')),
        ("a\u{e0101}", InvalidChar('\u{e0101}', 1)),
        // Confusables: Cyrillic `а` (U+0430) stays a different label from Latin `a`
        ("\u{430}pple", Ok("\u{430}pple")),
        // NFKC folds fullwidth letters and ligatures
        ("\u{ff41}\u{ff42}\u{ff43}", Ok("abc")),
        ("\u{fb01}le", Ok("file")),
        ("\u{2160}", Ok("I")),
        ("x\u{2082}", Ok("x2")),
        // Punctuation
        ("a.b", InvalidChar('.', 1)),
        ("a/b", InvalidChar('/', 1)),
        ("a b", InvalidChar(' ', 1)),
        ("a@b", InvalidChar('@', 1)),
        ("a:b", InvalidChar(':', 1)),
        ("ab!", InvalidChar('!', 2)),
        (".hidden", InvalidStart('.')),
        ("a\nb", InvalidChar('\n', 1)),
        // Empty
        ("", Empty),
        // Length, in bytes after normalisation
        (max.as_str(), Ok("")),
        (over.as_str(), TooLong(129)),
        (cjk_max.as_str(), Ok("")),
        (cjk_over.as_str(), TooLong(129)),
        // Leading digit, dash, underscore
        ("1abc", InvalidStart('1')),
        ("-abc", InvalidStart('-')),
        ("_abc", InvalidStart('_')),
        ("\u{ff11}abc", InvalidStart('1')),
        // Emoji
        ("\u{1f600}", InvalidStart('\u{1f600}')),
        ("ok\u{1f44d}", InvalidChar('\u{1f44d}', 2)),
        ("a\u{2764}\u{fe0f}", InvalidChar('\u{2764}', 1)),
        ("\u{1f1fa}\u{1f1f8}", InvalidStart('\u{1f1fa}')),
    ];
    assert!(rows.len() >= 40);
    for (input, expect) in rows {
        let got = Label::parse(input);
        match (expect, got) {
            (Ok(text), Result::Ok(label)) => {
                let text = if text.is_empty() { input } else { text };
                assert_eq!(label.as_str(), text, "{input:?}");
            }
            (Empty, Err(Error::Empty)) => {}
            (TooLong(want), Err(Error::TooLong { len, .. })) => assert_eq!(len, want, "{input:?}"),
            (InvalidStart(want), Err(Error::InvalidStart { found, .. })) => {
                assert_eq!(found, want, "{input:?}")
            }
            (
                InvalidChar(want, at),
                Err(Error::InvalidChar {
                    found, index, code, ..
                }),
            ) => {
                assert_eq!((found, index, code), (want, at, want as u32), "{input:?}")
            }
            (_, got) => panic!("{input:?}: unexpected {got:?}"),
        }
    }
}

#[test]
fn ligatures_count_after_normalisation() {
    // 43 × U+FB01 is 129 bytes typed but 86 bytes of `fi` once normalised: allowed.
    let label = Label::parse(&"\u{fb01}".repeat(43)).unwrap();
    assert_eq!(label.as_str().len(), 86);
    // 65 × U+FB01 is 130 bytes of `fi`: refused.
    assert!(matches!(
        Label::parse(&"\u{fb01}".repeat(65)),
        Err(Error::TooLong { len: 130, .. })
    ));
}

#[test]
fn confusables_are_distinct_labels() {
    let cyrillic = Label::parse("\u{430}pple").unwrap();
    let latin = Label::parse("apple").unwrap();
    assert_ne!(cyrillic, latin);
}

#[test]
fn nfkc_equal_inputs_are_equal_labels() {
    assert_eq!(
        Label::parse("\u{fb01}le").unwrap(),
        Label::parse("file").unwrap()
    );
    assert_eq!(
        Label::parse("cafe\u{301}").unwrap(),
        Label::parse("caf\u{e9}").unwrap()
    );
}

#[test]
fn errors_read_well() {
    let error = Label::parse("a\u{200b}b").unwrap_err();
    assert_eq!(
        error.to_string(),
        "label `a\u{200b}b` contains '\\u{200b}' (U+200B) at byte 1; only letters, digits, `_` and `-` are allowed"
    );
}
