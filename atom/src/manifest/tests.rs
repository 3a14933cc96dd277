use super::*;

const BASE: &str = "[package]\nlabel = \"hello\"\nversion = \"0.1.0\"\n";

fn error(text: &str) -> Located {
    match Manifest::from_str(text, "atom.toml") {
        Err(Error::Invalid(located)) => *located,
        other => panic!("expected a located error, got {other:?}"),
    }
}

fn label(text: &str) -> Label {
    Label::parse(text).unwrap()
}

#[test]
fn parses_every_kind_of_input() {
    let text = format!(
        "{BASE}entry = \"./nix/default.nix\"\n[package.sets]\nc = \"https://h/c.git\"\nm = [\"https://a/x.git\", \"git://b/x.git\"]\nhere = \"::\"\n\
         [deps.from.c]\nother = \"^1.2\"\n[deps.direct.nix]\n\
         a = {{ git = \"https://h/a.git\", ref = \"refs/heads/main\", flake = true }}\n\
         b = {{ git = \"https://h/b.git\", version = \"^1\" }}\n\
         c = {{ url = \"https://h/f.txt\" }}\nd = {{ tar = \"https://h/s.tar.gz\" }}\ne = {{ build = \"https://h/b.bin\" }}\n"
    );
    let manifest = Manifest::from_str(&text, "atom.toml").unwrap();
    assert_eq!(
        manifest.package.entry.as_ref().map(RelativePath::as_str),
        Some("nix/default.nix")
    );
    assert_eq!(manifest.package.sets[&label("m")].urls().len(), 2);
    assert_eq!(manifest.package.sets[&label("here")], SetSource::Here);
    assert_eq!(
        manifest.deps.from[&label("c")][&label("other")],
        VersionReq::parse("^1.2").unwrap()
    );
    let nix = &manifest.deps.direct.nix;
    assert!(nix[&label("a")].flake);
    assert_eq!(nix[&label("b")].fetch.kind(), "git");
    assert_eq!(
        nix[&label("e")].fetch,
        NixFetch::Build("https://h/b.bin".into())
    );
    // Serialising the typed value gives an equal manifest.
    let again = Manifest::from_str(&toml::to_string(&manifest).unwrap(), "x").unwrap();
    assert_eq!(again, manifest);
}

#[test]
fn undeclared_set_points_at_the_key_with_a_hint() {
    let located = error(&format!("{BASE}[deps.from.x]\na = \"^1\"\n"));
    assert_eq!((located.line, located.column), (4, 12));
    assert_eq!(located.message, "undeclared set `x`");
    assert!(located.hint.unwrap().contains("[package.sets]"));
}

#[test]
fn self_dependency_is_refused() {
    let located = error(&format!(
        "{BASE}[package.sets]\nme = \"::\"\n[deps.from.me]\nhello = \"^1\"\n"
    ));
    assert_eq!(located.line, 7);
    assert!(located.message.contains("depends on itself"));
}

#[test]
fn hostile_urls_are_refused() {
    for url in ["https://u:secret@h/x", "-oProxyCommand=x", "https://h/x y"] {
        let text = format!("{BASE}[package.sets]\nc = {url:?}\n");
        assert_eq!(error(&text).line, 5, "{url}");
    }
    assert!(check_fetch_url("ftp://h/x", false).is_err());
    assert!(check_fetch_url("https://h/x", false).is_ok());
}

#[test]
fn edits_keep_comments_and_order() {
    let text = "# my atom\n[package]\nlabel = \"hello\"   # the name\nversion = \"0.1.0\"\n\n\
                [package.sets]\nc = \"::\" # here\n\n[deps.from.c]\n# pinned for a reason\nb = \"^1\" # keep\n";
    let mut document = ManifestDocument::parse(text, "atom.toml").unwrap();
    assert!(
        document
            .add_dependency(&label("c"), &label("a"), &"^2".parse().unwrap())
            .unwrap()
    );
    assert!(
        document
            .add_dependency(&label("c"), &label("b"), &"^3".parse().unwrap())
            .unwrap()
    );
    assert!(
        !document
            .add_dependency(&label("c"), &label("b"), &"^3".parse().unwrap())
            .unwrap()
    );
    let edited = document.to_string();
    assert_eq!(
        edited,
        "# my atom\n[package]\nlabel = \"hello\"   # the name\nversion = \"0.1.0\"\n\n\
         [package.sets]\nc = \"::\" # here\n\n[deps.from.c]\n# pinned for a reason\nb = \"^3\" # keep\na = \"^2\"\n"
    );
    assert!(document.remove_dependency(&label("a")));
    assert!(!document.remove_dependency(&label("a")));
    assert!(document.manifest().is_ok());
}

#[test]
fn adding_to_an_undeclared_set_is_refused() {
    let mut document = ManifestDocument::parse(BASE, "atom.toml").unwrap();
    let result = document.add_dependency(&label("x"), &label("a"), &"^1".parse().unwrap());
    assert!(matches!(result, Err(Error::UndeclaredSet { .. })));
    assert_eq!(document.to_string(), BASE);
}

#[test]
fn sets_and_nix_inputs_are_added_and_removed() {
    let mut document = ManifestDocument::parse(BASE, "atom.toml").unwrap();
    let url = crate::uri::parse_set_url("https://h/x.git").unwrap();
    assert!(document.add_set(&label("x"), &SetSource::Url(url)).unwrap());
    document
        .add_dependency(&label("x"), &label("a"), &"^1".parse().unwrap())
        .unwrap();
    let input = NixInput {
        fetch: NixFetch::Git {
            url: "https://h/nixpkgs.git".into(),
            selector: GitSelector::Ref("refs/heads/main".into()),
        },
        flake: true,
    };
    assert!(document.add_nix_input(&label("nixpkgs"), &input).unwrap());
    let edited = document.to_string();
    assert_eq!(
        edited,
        format!(
            "{BASE}\n[package.sets]\nx = \"https://h/x.git\"\n\n[deps.from.x]\na = \"^1\"\n\n\
             [deps.direct.nix]\nnixpkgs = {{ git = \"https://h/nixpkgs.git\", ref = \"refs/heads/main\", flake = true }}\n"
        )
    );
    let manifest = document.manifest().unwrap();
    assert_eq!(manifest.deps.direct.nix[&label("nixpkgs")], input);
    assert!(document.remove_nix_input(&label("nixpkgs")));
    assert!(!document.remove_nix_input(&label("nixpkgs")));
    assert!(document.manifest().unwrap().deps.direct.nix.is_empty());
}

#[test]
fn template_parses() {
    let text = Manifest::template(
        &label("new"),
        &Version::new(0, 1, 0),
        Some("a \"quoted\" thing"),
    );
    let manifest = Manifest::from_str(&text, "atom.toml").unwrap();
    assert_eq!(
        manifest.package.description.as_deref(),
        Some("a \"quoted\" thing")
    );
    assert_eq!(manifest.package.version, Version::new(0, 1, 0));
}

#[test]
fn invalid_utf8_is_located() {
    let error = text_from_bytes(b"[package]\nlabel = \"\xff\"".to_vec(), Path::new("a.toml"));
    let Err(Error::Invalid(located)) = error else {
        panic!("accepted")
    };
    assert_eq!((located.line, located.column), (2, 10));
}

#[test]
fn a_removal_leaves_no_empty_table_behind() {
    let text = "[package]\nlabel = \"hello\" # me\nversion = \"0.1.0\"\n\n\
                [package.sets]\nc = \"::\"\nd = \"::\"\n\n\
                [deps.from.c]\na = \"^1\"\n\n[deps.from.d]\nb = \"^2\" # keep\n";
    let mut document = ManifestDocument::parse(text, "atom.toml").unwrap();
    assert!(document.remove_dependency(&label("a")));
    assert_eq!(
        document.to_string(),
        "[package]\nlabel = \"hello\" # me\nversion = \"0.1.0\"\n\n\
         [package.sets]\nc = \"::\"\nd = \"::\"\n\n[deps.from.d]\nb = \"^2\" # keep\n"
    );
    assert!(document.remove_dependency(&label("b")));
    assert_eq!(
        document.to_string(),
        "[package]\nlabel = \"hello\" # me\nversion = \"0.1.0\"\n\n\
         [package.sets]\nc = \"::\"\nd = \"::\"\n"
    );
    assert!(document.manifest().is_ok());
}

#[test]
fn removing_the_last_nix_input_drops_an_inline_direct_table() {
    let text = "[package]\nlabel = \"hello\"\nversion = \"0.1.0\"\n\n\
                [deps]\ndirect = { nix = { pkgs = { url = \"https://h/p.tar.gz\" } } }\n";
    let mut document = ManifestDocument::parse(text, "atom.toml").unwrap();
    assert!(document.remove_nix_input(&label("pkgs")));
    assert_eq!(
        document.to_string(),
        "[package]\nlabel = \"hello\"\nversion = \"0.1.0\"\n"
    );
    assert!(document.manifest().is_ok());
}

/// A 13-line manifest (no `[deps.direct.nix]` yet).
const THIRTEEN_LINES: &str = "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\
    description = \"x\"\n\n[package.sets]\ncompany = \"https://h/set.git\"\n\n\
    [deps.from.company]\ntop = \"^1\"\n\n# pinned by hand\n# see the docs\n";

fn whole(error: &Error) -> String {
    match error.hint() {
        Some(hint) => format!("error: {error}\nhint: {hint}"),
        None => format!("error: {error}"),
    }
}

#[test]
fn a_refused_nix_input_names_the_entry_and_leaves_the_document_as_it_was() {
    assert_eq!(THIRTEEN_LINES.lines().count(), 13);
    let mut document = ManifestDocument::parse(THIRTEEN_LINES, "atom.toml").unwrap();
    let input = NixInput {
        fetch: NixFetch::Tar("gh:owner/repo".to_owned()),
        flake: false,
    };
    let error = document
        .add_nix_input(&label("src"), &input)
        .expect_err("an unsupported scheme is refused");
    // No line of a text that is not in the file: the entry is named instead.
    assert!(matches!(error, Error::InvalidEntry { .. }), "{error:?}");
    insta::assert_snapshot!(whole(&error), @r"
    error: cannot write `deps.direct.nix.src` into `atom.toml`: URL `gh:owner/repo` has unsupported scheme `gh`
    hint: use an `https://`, `http://` or `file://` URL
    ");
    assert_eq!(document.to_string(), THIRTEEN_LINES);
    let bad_ref = NixInput {
        fetch: NixFetch::Git {
            url: "https://h/a.git".to_owned(),
            selector: GitSelector::Ref("a..b".to_owned()),
        },
        flake: false,
    };
    let error = document.add_nix_input(&label("a"), &bad_ref).unwrap_err();
    assert!(matches!(error, Error::InvalidEntry { .. }), "{error:?}");
    assert_eq!(document.to_string(), THIRTEEN_LINES);
}

#[test]
fn a_bad_nix_input_in_the_file_points_at_its_own_line() {
    let text = format!(
        "{}[deps.direct.nix]\nsrc = {{ tar = \"gh:owner/repo\" }}\n",
        THIRTEEN_LINES
    );
    let located = error(&text);
    assert_eq!(located.line, 15);
    assert!(located.line <= text.lines().count());
    insta::assert_snapshot!(located.to_string(), @r#"
    atom.toml:15:7: URL `gh:owner/repo` has unsupported scheme `gh`
       |
    15 | src = { tar = "gh:owner/repo" }
       |       ^^^^^^^^^^^^^^^^^^^^^^^^^
    hint: use an `https://`, `http://` or `file://` URL
    "#);
}
