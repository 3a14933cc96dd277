//! Loading `eka.toml`: precedence, paths, validation and located errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use atom::{
    config::{Config, Error, FileSource, RevokedKeys, Sources, check_one_entry_per_set},
    error::Classify as _,
};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn user(&self) -> PathBuf {
        self.dir.path().join("config/eka/eka.toml")
    }

    fn project(&self) -> PathBuf {
        self.dir.path().join("project/eka.toml")
    }

    fn write(&self, path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn load(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Error> {
        Config::load_from(&Sources {
            user_file: Some(FileSource {
                path: self.user(),
                required: false,
            }),
            project_file: Some(FileSource {
                path: self.project(),
                required: false,
            }),
            default_cache: "/default/cache/eka".into(),
            home: Some("/home/me".into()),
            env,
        })
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn located(result: Result<Config, Error>) -> atom::diagnostic::Located {
    match result {
        Err(Error::Invalid(located)) => *located,
        other => panic!("expected a located error, got {other:?}"),
    }
}

#[test]
fn built_ins_without_files() {
    let fixture = Fixture::new();
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(config.cache, Path::new("/default/cache/eka"));
    assert_eq!(config.aliases, atom::uri::Aliases::builtin());
    assert_eq!(config.signing, None);
    assert!(config.trust.is_empty());
}

#[test]
fn later_sources_win() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "cache = \"/user/cache\"\n[aliases]\nwork = \"git@work.example:\"\nmine = \"gh:me/\"\n[signing]\nkey = \"/user/key\"\n",
    );
    fixture.write(
        &fixture.project(),
        "cache = \"/project/cache\"\n[aliases]\nwork = \"https://work.example/\"\ngh = \"https://gh.mirror.example/\"\n",
    );
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(config.cache, Path::new("/project/cache"));
    assert_eq!(config.aliases.get("work"), Some("https://work.example/"));
    assert_eq!(config.aliases.get("gl"), Some("https://gitlab.com/"));
    // `mine` (user) goes through `gh`, which the project overrides.
    assert_eq!(
        config.aliases.expand("mine:repo").unwrap(),
        "https://gh.mirror.example/me/repo"
    );
    assert_eq!(config.signing.unwrap().key, Path::new("/user/key"));

    let env = |name: &str| match name {
        "EKA_CACHE_DIR" => Some("/env/cache".to_owned()),
        "EKA_SIGNING_KEY" => Some("/env/key".to_owned()),
        _ => None,
    };
    let config = fixture.load(&env).unwrap();
    assert_eq!(config.cache, Path::new("/env/cache"));
    assert_eq!(config.signing.unwrap().key, Path::new("/env/key"));
}

#[test]
fn empty_env_values_are_ignored_and_relative_cache_refused() {
    let fixture = Fixture::new();
    let empty = |_: &str| Some(String::new());
    assert_eq!(
        fixture.load(&empty).unwrap().cache,
        Path::new("/default/cache/eka")
    );
    let relative = |name: &str| (name == "EKA_CACHE_DIR").then(|| "rel/cache".to_owned());
    assert!(matches!(
        fixture.load(&relative),
        Err(Error::InvalidEnv { name, .. }) if name == "EKA_CACHE_DIR"
    ));
}

#[test]
fn paths_are_relative_to_their_file_or_home() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.project(),
        "cache = \".cache\"\n[signing]\nkey = \"~/.ssh/id_ed25519\"\n",
    );
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(config.cache, fixture.dir.path().join("project/.cache"));
    assert_eq!(
        config.signing.unwrap().key,
        Path::new("/home/me/.ssh/id_ed25519")
    );
}

#[test]
fn unknown_field_is_located_with_a_suggestion() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "cahce = \"/c\"\n");
    let error = located(fixture.load(&no_env));
    assert_eq!(error.path, fixture.user());
    assert_eq!((error.line, error.column), (1, 1));
    assert!(
        error.message.contains("unknown field `cahce`"),
        "{}",
        error.message
    );
    assert_eq!(
        error.hint.as_deref(),
        Some(
            "did you mean `cache`? allowed here: `aliases`, `cache`, `signing`, `trust`, `network`, \
             `mirrors`"
        )
    );
}

#[test]
fn unknown_nested_field_lists_allowed_ones() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.project(),
        "[signing]\nkey = \"/k\"\nformat = \"ssh\"\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!(error.line, 3);
    assert!(error.message.contains("`format`"), "{}", error.message);
    assert_eq!(error.hint.as_deref(), Some("allowed here: `key`"));
}

#[test]
fn syntax_errors_are_located() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "cache = \"/c\"\n[aliases\n");
    let error = located(fixture.load(&no_env));
    assert_eq!(error.line, 2);
    assert_eq!(error.source_line, "[aliases");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("{}:2:", fixture.user().display())),
        "{shown}"
    );
}

#[test]
fn wrong_type_is_located() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "cache = 3\n");
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (1, 9));
}

#[test]
fn bad_alias_name_points_at_the_name() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[aliases]\nok = \"gh:x/\"\nhttps = \"gh:y/\"\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (3, 1));
    assert!(
        error.message.contains("`https` is not a valid alias name"),
        "{}",
        error.message
    );
    assert!(error.hint.is_some());
}

#[test]
fn bad_alias_expansion_points_at_the_expansion() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "[aliases]\nbad = \"ext::sh\"\n");
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (2, 7));
    assert!(error.message.contains("`::`"), "{}", error.message);
}

#[test]
fn alias_cycle_across_files_is_located() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "[aliases]\na = \"b:\"\n");
    fixture.write(&fixture.project(), "[aliases]\nb = \"a:\"\n");
    let error = located(fixture.load(&no_env));
    assert!(
        error.message.starts_with("alias cycle: `a` -> `b` -> `a`"),
        "{}",
        error.message
    );
    assert_eq!(error.path, fixture.user());
    assert_eq!(error.line, 2);
}

#[test]
fn alias_may_use_one_from_a_later_file() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "[aliases]\nteam = \"corp:team/\"\n");
    fixture.write(
        &fixture.project(),
        "[aliases]\ncorp = \"git@corp.example:\"\n",
    );
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(
        config.aliases.expand("team:x").unwrap(),
        "git@corp.example:team/x"
    );
}

#[test]
fn unknown_alias_in_an_expansion_is_located() {
    let fixture = Fixture::new();
    fixture.write(&fixture.user(), "[aliases]\nteam = \"nowhere:team/\"\n");
    let error = located(fixture.load(&no_env));
    assert!(
        error.message.contains("unknown alias `nowhere`"),
        "{}",
        error.message
    );
    assert_eq!((error.line, error.column), (2, 8));
}

#[test]
fn trust_entries() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[trust.company]\nallowed_signers = [\"alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ\"]\n\
         [trust.\"https://host/set.git\"]\nallowed_signers = []\n",
    );
    fixture.write(
        &fixture.project(),
        "[trust.company]\nallowed_signers = [\"bob@example.com namespaces=\\\"git\\\" ssh-ed25519 AAAAC3Nz\"]\n",
    );
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(
        config.trust["company"].allowed_signers,
        ["bob@example.com namespaces=\"git\" ssh-ed25519 AAAAC3Nz"]
    );
    assert!(
        config.trust["https://host/set.git"]
            .allowed_signers
            .is_empty()
    );
}

#[test]
fn bad_trust_entries_are_located() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[trust.\"-not a set\"]\nallowed_signers = []\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!(error.line, 1);
    assert!(
        error.message.contains("neither a set name nor a set URL"),
        "{}",
        error.message
    );

    fixture.write(
        &fixture.user(),
        "[trust.company]\nallowed_signers = [\n  \"ssh-ed25519 AAAA\",\n]\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (3, 3));
    assert!(error.message.contains("no principals"), "{}", error.message);

    fixture.write(&fixture.user(), "[trust.company]\nsigners = []\n");
    let error = located(fixture.load(&no_env));
    assert!(
        error.message.contains("unknown field `signers`"),
        "{}",
        error.message
    );
    assert_eq!(
        error.hint.as_deref(),
        Some("allowed here: `allowed_signers`, `revoked_keys`")
    );
}

#[test]
fn explicit_user_file_must_exist() {
    let fixture = Fixture::new();
    let missing = fixture.dir.path().join("missing.toml");
    let missing_text = missing.display().to_string();
    let env = move |name: &str| (name == "EKA_CONFIG").then(|| missing_text.clone());
    let sources = Sources::from_environment(Some(fixture.dir.path()), &env).unwrap();
    assert_eq!(sources.user_file.as_ref().unwrap().path, missing);
    assert!(sources.user_file.as_ref().unwrap().required);
    assert_eq!(
        sources.project_file.as_ref().unwrap().path,
        fixture.dir.path().join("eka.toml")
    );
    assert!(matches!(
        Config::load_from(&sources),
        Err(Error::Io(error)) if error.to_string().contains(&*missing.to_string_lossy())
    ));
}

#[test]
fn revoked_keys_are_key_lines_or_files() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.project(),
        "[trust.company]\nallowed_signers = []\nrevoked_keys = [\n  \"ssh-ed25519 AAAAC3Nz old laptop\",\n  \"revoked.keys\",\n  \"~/keys/revoked\",\n  \"/etc/eka/revoked\",\n]\n",
    );
    let config = fixture.load(&no_env).unwrap();
    let project = fixture.project();
    let dir = project.parent().unwrap();
    assert_eq!(
        config.trust["company"].revoked_keys,
        [
            RevokedKeys::Line("ssh-ed25519 AAAAC3Nz old laptop".to_owned()),
            RevokedKeys::File(dir.join("revoked.keys")),
            RevokedKeys::File(PathBuf::from("/home/me/keys/revoked")),
            RevokedKeys::File(PathBuf::from("/etc/eka/revoked")),
        ]
    );
    assert_eq!(config.trust["company"].origin.path, project);
    assert_eq!(config.trust["company"].origin.line, 1);

    // Without `revoked_keys`, nothing is revoked.
    fixture.write(
        &fixture.project(),
        "[trust.company]\nallowed_signers = []\n",
    );
    let config = fixture.load(&no_env).unwrap();
    assert!(config.trust["company"].revoked_keys.is_empty());
}

#[test]
fn bad_revoked_keys_are_located() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[trust.company]\nallowed_signers = []\nrevoked_keys = [\"ssh-ed25519 not*base64\"]\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (3, 17));
    assert!(
        error.message.contains("invalid `revoked_keys` entry"),
        "{}",
        error.message
    );
    assert!(error.hint.unwrap().contains("public key line"));

    fixture.write(
        &fixture.user(),
        "[trust.company]\nallowed_signers = []\nrevoked_keys = [\"ssh-ed25519\"]\n",
    );
    let error = located(fixture.load(&no_env));
    assert!(error.message.contains("missing"), "{}", error.message);

    fixture.write(
        &fixture.user(),
        "[trust.company]\nallowed_signers = []\nrevoked_keys = [\"\"]\n",
    );
    let error = located(fixture.load(&no_env));
    assert!(error.message.contains("empty"), "{}", error.message);
}

#[test]
fn two_entries_for_one_set_are_refused_naming_both() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[trust.\"https://host/company.git\"]\nallowed_signers = []\n",
    );
    fixture.write(
        &fixture.project(),
        "cache = \"/cache\"\n\n[trust.company]\nallowed_signers = []\n\n[trust.other]\nallowed_signers = []\n",
    );
    let config = fixture.load(&no_env).unwrap();
    // `company` and its URL name one set; `other` another one.
    let sets_of = |name: &str| -> std::collections::BTreeSet<&str> {
        match name {
            "company" | "https://host/company.git" => ["company-root"].into(),
            _ => ["other-root"].into(),
        }
    };
    let error = check_one_entry_per_set(&config.trust, sets_of).unwrap_err();
    assert_eq!(error.kind(), atom::error::Kind::Input);
    let Error::Invalid(located) = error else {
        panic!("expected a located error, got {error:?}");
    };
    let hint = located.hint.clone().unwrap();
    assert!(hint.contains("keep one trust entry per set"), "{hint}");
    // Located at the later entry (the project file), naming the earlier one.
    assert_eq!(located.path, fixture.project());
    assert_eq!((located.line, located.column), (3, 8));
    assert_eq!(
        located.message,
        format!(
            "`[trust.company]` names the same set as `[trust.\"https://host/company.git\"]` at `{}:1`",
            fixture.user().display()
        )
    );

    // Distinct sets are fine, and so is a name that stands for no set.
    let distinct = |name: &str| -> std::collections::BTreeSet<String> {
        if name == "other" {
            std::collections::BTreeSet::new()
        } else {
            [name.to_owned()].into()
        }
    };
    assert!(check_one_entry_per_set(&config.trust, distinct).is_ok());
}

#[test]
fn network_timeout_defaults_to_30_seconds_and_the_environment_wins_over_files() {
    let fixture = Fixture::new();
    let config = fixture.load(&no_env).unwrap();
    assert_eq!(config.network_timeout, Duration::from_secs(30));

    fixture.write(&fixture.user(), "[network]\ntimeout = 5\n");
    assert_eq!(
        fixture.load(&no_env).unwrap().network_timeout,
        Duration::from_secs(5)
    );
    fixture.write(&fixture.project(), "[network]\ntimeout = 7\n");
    assert_eq!(
        fixture.load(&no_env).unwrap().network_timeout,
        Duration::from_secs(7)
    );
    let env = |name: &str| (name == "EKA_NET_TIMEOUT").then(|| "11".to_owned());
    assert_eq!(
        fixture.load(&env).unwrap().network_timeout,
        Duration::from_secs(11)
    );
}

#[test]
fn a_zero_or_garbage_network_timeout_is_refused_naming_its_source() {
    let fixture = Fixture::new();
    for value in ["0", "-3", "soon"] {
        let env = move |name: &str| (name == "EKA_NET_TIMEOUT").then(|| value.to_owned());
        let error = fixture.load(&env).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidEnv { name, .. } if name == "EKA_NET_TIMEOUT"),
            "{value}: {error:?}"
        );
        assert!(error.to_string().contains("EKA_NET_TIMEOUT"), "{error}");
        assert!(error.hint().unwrap().contains("seconds"));
    }
    for text in ["timeout = 0", "timeout = \"30s\"", "timeout = -1"] {
        fixture.write(&fixture.project(), &format!("[network]\n{text}\n"));
        let error = located(fixture.load(&no_env));
        assert_eq!(error.path, fixture.project(), "{text}");
        assert_eq!(error.line, 2, "{text}: {}", error.message);
    }
}

#[test]
fn the_configured_deadline_is_rounded_up_to_seconds_and_zero_is_ignored() {
    use atom::store::git::{network_timeout, set_network_timeout};
    set_network_timeout(Duration::from_secs(7));
    assert_eq!(network_timeout(), Duration::from_secs(7));
    set_network_timeout(Duration::ZERO);
    assert_eq!(network_timeout(), Duration::from_secs(7));
    set_network_timeout(Duration::from_millis(1500));
    assert_eq!(network_timeout(), Duration::from_secs(2));
}

#[test]
fn mirrors_redirect_set_urls_and_the_project_file_wins() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.user(),
        "[mirrors]\n\"https://origin.example/set.git\" = [\"https://user.example/set.git\"]\n\
         \"https://other.example/set.git\" = [\"git@git.internal:other.git\"]\n",
    );
    fixture.write(
        &fixture.project(),
        "[mirrors]\n\"https://origin.example/set.git\" = [\n  \
         \"https://origin.example/set.git\",\n  \"https://git.internal/set.git\",\n]\n",
    );
    let config = fixture.load(&no_env).unwrap();
    let url = |text: &str| atom::uri::parse_set_url(text).unwrap();
    assert_eq!(
        config.mirrors_for(&url("https://origin.example/set.git")),
        vec![
            url("https://origin.example/set.git"),
            url("https://git.internal/set.git")
        ]
    );
    assert_eq!(
        config.mirrors_for(&url("https://other.example/set.git")),
        vec![url("git@git.internal:other.git")]
    );
    assert_eq!(
        config.mirrors_for(&url("https://elsewhere.example/set.git")),
        vec![url("https://elsewhere.example/set.git")]
    );
}

#[test]
fn bad_mirror_urls_are_located() {
    let fixture = Fixture::new();
    fixture.write(
        &fixture.project(),
        "[mirrors]\n\"https://origin.example/set.git\" = [\n  \"ext::sh -c evil\",\n]\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (3, 3));
    assert!(
        error.message.contains("invalid set URL in `[mirrors]`"),
        "{}",
        error.message
    );
    assert!(error.hint.is_some());

    fixture.write(
        &fixture.project(),
        "[mirrors]\n\"not a url\" = [\"https://git.internal/set.git\"]\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!((error.line, error.column), (2, 1));

    fixture.write(
        &fixture.project(),
        "[mirrors]\n\"https://origin.example/set.git\" = \"https://git.internal/set.git\"\n",
    );
    let error = located(fixture.load(&no_env));
    assert_eq!(error.line, 2);
}
