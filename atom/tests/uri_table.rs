//! Table test of atom URIs, aliases and set URLs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use atom::error::Classify as _;
use atom::uri::{Aliases, AtomUri, Error, MAX_ALIAS_DEPTH, Source, parse_set_url};

/// The expected source of a good row.
enum Src {
    Url(&'static str),
    Named(&'static str),
    Local,
}

/// What a row expects.
enum Expect {
    /// Good: source, label, requirement (as displayed), and the canonical display.
    Good(Src, &'static str, Option<&'static str>, &'static str),
    /// Bad: the error must satisfy this check.
    Bad(fn(&Error) -> bool),
}

use Expect::*;

fn aliases() -> Aliases {
    let mut aliases = Aliases::builtin();
    aliases.insert("work", "git@git.example.com:").unwrap();
    aliases.insert("mine", "gh:me/").unwrap();
    aliases.insert("deeper", "mine:nested-").unwrap();
    aliases.insert("loop-a", "loop-b:").unwrap();
    aliases.insert("loop-b", "loop-c:").unwrap();
    aliases.insert("loop-c", "loop-a:").unwrap();
    aliases.insert("self", "self:").unwrap();
    aliases
        .insert("gh", "https://github.example.com/")
        .unwrap_or(());
    aliases
}

fn rows() -> Vec<(&'static str, Expect)> {
    vec![
        // Aliases
        (
            "gh:owner/repo::label@^1",
            Good(
                Src::Url("https://github.example.com/owner/repo"),
                "label",
                Some("^1"),
                "https://github.example.com/owner/repo::label@^1",
            ),
        ),
        (
            "gl:group/proj::label",
            Good(
                Src::Url("https://gitlab.com/group/proj"),
                "label",
                None,
                "https://gitlab.com/group/proj::label",
            ),
        ),
        (
            "gl:group/sub/proj::label",
            Good(
                Src::Url("https://gitlab.com/group/sub/proj"),
                "label",
                None,
                "https://gitlab.com/group/sub/proj::label",
            ),
        ),
        (
            "cb:owner/repo::pkg@=1.0.0",
            Good(
                Src::Url("https://codeberg.org/owner/repo"),
                "pkg",
                Some("=1.0.0"),
                "https://codeberg.org/owner/repo::pkg@=1.0.0",
            ),
        ),
        (
            "sh:~user/repo::pkg",
            Good(
                Src::Url("https://git.sr.ht/~user/repo"),
                "pkg",
                None,
                "https://git.sr.ht/~user/repo::pkg",
            ),
        ),
        (
            "work:team/repo.git::tool",
            Good(
                Src::Url("git@git.example.com:team/repo.git"),
                "tool",
                None,
                "git@git.example.com:team/repo.git::tool",
            ),
        ),
        (
            "mine:repo::x",
            Good(
                Src::Url("https://github.example.com/me/repo"),
                "x",
                None,
                "https://github.example.com/me/repo::x",
            ),
        ),
        (
            "deeper:repo::x",
            Good(
                Src::Url("https://github.example.com/me/nested-repo"),
                "x",
                None,
                "https://github.example.com/me/nested-repo::x",
            ),
        ),
        // URLs
        (
            "https://host/x.git::label@~1.2",
            Good(
                Src::Url("https://host/x.git"),
                "label",
                Some("~1.2"),
                "https://host/x.git::label@~1.2",
            ),
        ),
        (
            "https://host:8443/x::label",
            Good(
                Src::Url("https://host:8443/x"),
                "label",
                None,
                "https://host:8443/x::label",
            ),
        ),
        (
            "http://localhost/x::label",
            Good(
                Src::Url("http://localhost/x"),
                "label",
                None,
                "http://localhost/x::label",
            ),
        ),
        (
            "git://host/x.git::label@>=1.0,<2.0",
            Good(
                Src::Url("git://host/x.git"),
                "label",
                Some(">=1.0,<2.0"),
                "git://host/x.git::label@>=1.0,<2.0",
            ),
        ),
        (
            "ssh://git@host/x::label",
            Good(
                Src::Url("ssh://git@host/x"),
                "label",
                None,
                "ssh://git@host/x::label",
            ),
        ),
        (
            "ssh://host:2222/x::label",
            Good(
                Src::Url("ssh://host:2222/x"),
                "label",
                None,
                "ssh://host:2222/x::label",
            ),
        ),
        (
            "ssh://git@[::1]/x::label",
            Good(
                Src::Url("ssh://git@[::1]/x"),
                "label",
                None,
                "ssh://git@[::1]/x::label",
            ),
        ),
        (
            "git@host:x::label",
            Good(Src::Url("git@host:x"), "label", None, "git@host:x::label"),
        ),
        (
            "git@host.example:owner/x.git::label@1.2.3",
            Good(
                Src::Url("git@host.example:owner/x.git"),
                "label",
                Some("^1.2.3"),
                "git@host.example:owner/x.git::label@^1.2.3",
            ),
        ),
        (
            "host.example:x::label",
            Good(
                Src::Url("host.example:x"),
                "label",
                None,
                "host.example:x::label",
            ),
        ),
        (
            "file:///abs/path::label",
            Good(
                Src::Url("file:///abs/path"),
                "label",
                None,
                "file:///abs/path::label",
            ),
        ),
        // Set names and the local set
        (
            "company::label",
            Good(Src::Named("company"), "label", None, "company::label"),
        ),
        (
            "gh::label",
            Good(Src::Named("gh"), "label", None, "gh::label"),
        ),
        (
            "\u{ff43}o::label",
            Good(Src::Named("co"), "label", None, "co::label"),
        ),
        ("::label", Good(Src::Local, "label", None, "::label")),
        (
            "::label@*",
            Good(Src::Local, "label", Some("*"), "::label@*"),
        ),
        ("::\u{fb01}le", Good(Src::Local, "file", None, "::file")),
        (
            "::\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}@^0.1",
            Good(
                Src::Local,
                "\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}",
                Some("^0.1"),
                "::\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}@^0.1",
            ),
        ),
        // Credentials
        (
            "https://user:pass@host/x::label",
            Bad(|e| matches!(e, Error::Credentials { .. })),
        ),
        (
            "https://token@host/x::label",
            Bad(|e| matches!(e, Error::Credentials { .. })),
        ),
        (
            "ssh://git:pw@host/x::label",
            Bad(|e| matches!(e, Error::Credentials { .. })),
        ),
        // Unsupported schemes and transports
        (
            "ext::sh -c touch% /tmp/pwned::label",
            Bad(|e| matches!(e, Error::ForbiddenChar { found: ' ', .. })),
        ),
        (
            "ext::evil::label",
            Bad(|e| matches!(e, Error::UnsupportedScheme { scheme, .. } if scheme == "ext")),
        ),
        (
            "fd::17::label",
            Bad(|e| matches!(e, Error::UnsupportedScheme { scheme, .. } if scheme == "fd")),
        ),
        (
            "ftp://host/x::label",
            Bad(|e| matches!(e, Error::UnsupportedScheme { scheme, .. } if scheme == "ftp")),
        ),
        (
            "HTTPS://host/x::label",
            Bad(|e| matches!(e, Error::UnsupportedScheme { scheme, .. } if scheme == "HTTPS")),
        ),
        (
            "https:host/x::label",
            Bad(|e| matches!(e, Error::InvalidUrl { reason, .. } if reason.contains("//"))),
        ),
        // Option injection
        (
            "-uhttps://host/x::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
        (
            "ssh://-oProxyCommand=touch%20x/y::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
        (
            "ssh://-oProxyCommand=x@host/y::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
        (
            "git@-oProxyCommand=x:y::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
        (
            "git@host:-x::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
        // Whitespace and control characters
        (
            "https://host/x ::label",
            Bad(|e| matches!(e, Error::ForbiddenChar { found: ' ', .. })),
        ),
        (
            "https://host/x\n::label",
            Bad(|e| matches!(e, Error::ForbiddenChar { found: '\n', .. })),
        ),
        (
            "https://host/x\u{7}::label",
            Bad(|e| matches!(e, Error::ForbiddenChar { code: 7, .. })),
        ),
        (
            "::label@^1, <2",
            Bad(|e| matches!(e, Error::ForbiddenChar { found: ' ', .. })),
        ),
        // File URLs and paths
        (
            "file://relative/path::label",
            Bad(|e| matches!(e, Error::RelativeFilePath { .. })),
        ),
        (
            "file:relative::label",
            Bad(|e| matches!(e, Error::RelativeFilePath { .. })),
        ),
        (
            "file:///::label",
            Bad(|e| matches!(e, Error::EmptyPath { .. })),
        ),
        (
            "/abs/path::label",
            Bad(|e| matches!(e, Error::BarePath { .. })),
        ),
        ("./rel::label", Bad(|e| matches!(e, Error::BarePath { .. }))),
        // Empty host or path
        (
            "https:///x::label",
            Bad(|e| matches!(e, Error::EmptyHost { .. })),
        ),
        (
            "ssh://git@/x::label",
            Bad(|e| matches!(e, Error::EmptyHost { .. })),
        ),
        (
            "git@:x::label",
            Bad(|e| matches!(e, Error::EmptyHost { .. })),
        ),
        (
            "https://host::label",
            Bad(|e| matches!(e, Error::EmptyPath { .. })),
        ),
        (
            "https://host/::label",
            Bad(|e| matches!(e, Error::EmptyPath { .. })),
        ),
        ("gh:::label", Bad(|e| matches!(e, Error::EmptyPath { .. }))),
        (
            "https://host/x?ref=main::label",
            Bad(|e| matches!(e, Error::InvalidUrl { .. })),
        ),
        (
            "https://host/x#frag::label",
            Bad(|e| matches!(e, Error::InvalidUrl { .. })),
        ),
        (
            "https://ho st/x::label",
            Bad(|e| matches!(e, Error::ForbiddenChar { .. })),
        ),
        (
            "https://host:notaport/x::label",
            Bad(|e| matches!(e, Error::InvalidUrl { .. })),
        ),
        // Labels
        (
            "gh:owner/repo::",
            Bad(|e| matches!(e, Error::EmptyLabel { .. })),
        ),
        ("::", Bad(|e| matches!(e, Error::EmptyLabel { .. }))),
        ("::@^1", Bad(|e| matches!(e, Error::EmptyLabel { .. }))),
        (
            "::-bad",
            Bad(|e| {
                matches!(
                    e,
                    Error::InvalidLabel {
                        reason: atom::label::Error::InvalidStart { found: '-', .. },
                        ..
                    }
                )
            }),
        ),
        (
            "::a\u{200b}b",
            Bad(|e| {
                matches!(
                    e,
                    Error::InvalidLabel {
                        reason: atom::label::Error::InvalidChar { .. },
                        ..
                    }
                )
            }),
        ),
        ("::a/b", Bad(|e| matches!(e, Error::InvalidLabel { .. }))),
        // Requirements
        (
            "::label@",
            Bad(
                |e| matches!(e, Error::InvalidRequirement { requirement, .. } if requirement.is_empty()),
            ),
        ),
        (
            "::label@^x",
            Bad(
                |e| matches!(e, Error::InvalidRequirement { requirement, .. } if requirement == "^x"),
            ),
        ),
        (
            "::label@1@2",
            Bad(|e| matches!(e, Error::InvalidRequirement { .. })),
        ),
        // Aliases
        (
            "nope:owner/repo::label",
            Bad(
                |e| matches!(e, Error::UnknownAlias { alias, known, .. } if alias == "nope" && known.iter().any(|k| k == "gh")),
            ),
        ),
        (
            "GH:owner/repo::label",
            Bad(|e| matches!(e, Error::UnknownAlias { alias, .. } if alias == "GH")),
        ),
        (
            "loop-a:x::label",
            Bad(
                |e| matches!(e, Error::AliasCycle { chain } if chain == &["loop-a", "loop-b", "loop-c", "loop-a"]),
            ),
        ),
        (
            "self:x::label",
            Bad(|e| matches!(e, Error::AliasCycle { chain } if chain == &["self", "self"])),
        ),
        // Missing label, bad set names
        (
            "gh:owner/repo",
            Bad(|e| matches!(e, Error::MissingLabel { .. })),
        ),
        ("", Bad(|e| matches!(e, Error::MissingLabel { .. }))),
        ("label", Bad(|e| matches!(e, Error::MissingLabel { .. }))),
        (
            "1set::label",
            Bad(|e| matches!(e, Error::InvalidSetName { name, .. } if name == "1set")),
        ),
        (
            "-set::label",
            Bad(|e| matches!(e, Error::LeadingDash { .. })),
        ),
    ]
}

#[test]
fn uri_table() {
    let aliases = aliases();
    let rows = rows();
    assert!(rows.len() >= 40, "{}", rows.len());
    for (input, expect) in rows {
        let parsed = AtomUri::parse(input, &aliases);
        match (expect, parsed) {
            (Good(source, label, requirement, display), Ok(uri)) => {
                match (source, &uri.source) {
                    (Src::Url(want), Source::Url(url)) => {
                        assert_eq!(url.as_str(), want, "{input}");
                        // What eka hands to gix must parse there too.
                        let parsed = gix::url::parse(gix::bstr::BStr::new(url.as_str()));
                        assert!(parsed.is_ok(), "{input}: gix refuses {want}: {parsed:?}");
                    }
                    (Src::Named(want), Source::Named(name)) => assert_eq!(name, want, "{input}"),
                    (Src::Local, Source::Local) => {}
                    (_, got) => panic!("{input}: unexpected source {got:?}"),
                }
                assert_eq!(uri.label.as_str(), label, "{input}");
                let shown = uri
                    .requirement
                    .as_ref()
                    .map(|r| r.to_string().replace(", ", ","));
                assert_eq!(shown.as_deref(), requirement, "{input}");
                assert_eq!(uri.to_string(), display, "{input}");
                // Display round-trips, even without the alias table.
                assert_eq!(
                    AtomUri::parse(display, &Aliases::empty()).unwrap(),
                    uri,
                    "{input}"
                );
            }
            (Bad(check), Err(error)) => {
                assert!(check(&error), "{input:?}: wrong error {error:?}");
                assert!(!error.to_string().is_empty());
            }
            (Good(..), Err(error)) => panic!("{input:?}: refused: {error:?}"),
            (Bad(_), Ok(uri)) => panic!("{input:?}: accepted as {uri:?}"),
        }
    }
}

#[test]
fn alias_depth_is_limited() {
    let mut aliases = Aliases::empty();
    for i in 0..=MAX_ALIAS_DEPTH {
        aliases
            .insert(&format!("d{i}"), &format!("d{}:", i + 1))
            .unwrap();
    }
    aliases
        .insert(&format!("d{}", MAX_ALIAS_DEPTH + 1), "https://host/")
        .unwrap();
    let error = AtomUri::parse("d0:x::label", &aliases).unwrap_err();
    assert!(
        matches!(&error, Error::AliasTooDeep { chain, .. } if chain.len() == MAX_ALIAS_DEPTH),
        "{error:?}"
    );
    // A chain within the limit expands.
    let uri = AtomUri::parse("d2:x::label", &aliases).unwrap();
    assert_eq!(uri.to_string(), "https://host/x::label");
}

#[test]
fn cycle_error_names_the_cycle() {
    let error = AtomUri::parse("loop-a:x::label", &aliases()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "alias cycle: `loop-a` -> `loop-b` -> `loop-c` -> `loop-a`"
    );
    assert!(error.hint().unwrap().contains("[aliases]"));
}

#[test]
fn alias_definitions_are_validated() {
    let mut aliases = Aliases::builtin();
    for (name, check) in [
        ("", "empty"),
        ("Gh", "lowercase"),
        ("1x", "lowercase"),
        ("a.b", "only"),
        ("https", "scheme"),
        ("ext", "scheme"),
    ] {
        let error = aliases.insert(name, "https://host/").unwrap_err();
        assert!(
            matches!(&error, Error::InvalidAliasName { reason, .. } if reason.contains(check)),
            "{name}: {error:?}"
        );
    }
    for expansion in [
        "",
        "-x",
        "ext::x",
        "ftp://host/",
        "https://host/ x",
        "/local/path",
    ] {
        let error = aliases.insert("ok", expansion).unwrap_err();
        assert!(
            matches!(error, Error::InvalidAliasExpansion { .. }),
            "{expansion}: {error:?}"
        );
    }
    assert!(aliases.get("ok").is_none());
    // Overriding a built-in is allowed.
    aliases.insert("gh", "https://mirror.example/gh/").unwrap();
    assert_eq!(
        aliases.expand("gh:a/b").unwrap(),
        "https://mirror.example/gh/a/b"
    );
}

#[test]
fn set_urls_are_kept_as_typed() {
    for url in [
        "https://Host.Example/A%20b/x.git",
        "git@host:x",
        "file:///tmp/set",
        "ssh://git@host:22/~user/x",
    ] {
        assert_eq!(parse_set_url(url).unwrap().as_str(), url);
        assert_eq!(url.parse::<atom::uri::SetUrl>().unwrap().to_string(), url);
    }
    assert_eq!(parse_set_url(""), Err(Error::EmptyUrl));
    assert!(matches!(
        parse_set_url("name"),
        Err(Error::InvalidUrl { .. })
    ));
    assert!(matches!(
        parse_set_url("gh:owner/repo"),
        Err(Error::UnsupportedScheme { .. })
    ));
}

#[test]
fn hints_say_how_to_fix() {
    let error = AtomUri::parse("https://u:p@host/x::label", &aliases()).unwrap_err();
    assert!(error.hint().unwrap().contains("credential helper"));
    let error = AtomUri::parse("gh:owner/repo", &aliases()).unwrap_err();
    assert!(error.hint().unwrap().contains("::label"));
}

#[test]
fn from_str_uses_builtin_aliases() {
    let uri: AtomUri = "gh:o/r::l".parse().unwrap();
    assert_eq!(uri.to_string(), "https://github.com/o/r::l");
}
