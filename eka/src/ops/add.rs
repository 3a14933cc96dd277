//! `eka add <uri>…`: add atom dependencies to `atom.toml` and lock them.
//!
//! Each URI is parsed (aliases expanded) before anything is written. A set named by URL
//! that `[package.sets]` does not hold yet is added under a name taken from the URL's
//! last path component (`company-set.git` → `company-set`, `-2`… if taken); `::label`
//! uses the set declared `"::"` (adding `local = "::"` if none). Without a requirement,
//! the dependency is written as `^<resolved version>`, like cargo. Both files are then
//! written together by [`transaction::relock`], or neither.
//!
//! ```
//! use eka::ops::add::set_name_for_url;
//!
//! let url = atom::uri::parse_set_url("https://example.org/team/company-set.git").unwrap();
//! assert_eq!(set_name_for_url(&url).as_str(), "company-set");
//! ```

use atom::error::{Classify, Kind};
use std::path::Path;

use atom::{
    Label,
    manifest::{ManifestDocument, SetSource},
    uri::{Aliases, AtomUri, SetUrl, Source},
};
use resolver::AtomKey;
use semver::VersionReq;

use resolver::catalog::SetRef;

use crate::transaction::{self, Plan};

/// Why the dependencies could not be added.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URI is invalid.
    #[error(transparent)]
    Uri(#[from] atom::uri::Error),
    /// A URI names a set the manifest does not declare.
    #[error("set `{name}` is not declared in `[package.sets]` of `{}`", path.display())]
    UnknownSet {
        /// The set name.
        name: String,
        /// The manifest.
        path: std::path::PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// Locking failed.
    #[error(transparent)]
    Lock(#[from] transaction::Error),
    /// `eka add --nix` was given arguments that make no input.
    #[error("cannot add Nix input `{name}`: {message}")]
    NixArguments {
        /// The input's name as typed.
        name: String,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: &'static str,
    },
}

impl Classify for Error {
    /// Locking decides for itself; every other error is the arguments refused.
    fn kind(&self) -> Kind {
        match self {
            Error::Lock(error) => error.kind(),
            Error::Uri(_) | Error::UnknownSet { .. } | Error::NixArguments { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Uri(error) => error.hint(),
            Error::UnknownSet { hint, .. } => Some((*hint).to_owned()),
            Error::Lock(error) => error.hint(),
            Error::NixArguments { hint, .. } => Some((*hint).to_owned()),
        }
    }
}

/// What to add.
#[derive(Debug, Clone)]
pub struct Options {
    /// How to lock.
    pub lock: transaction::Options,
    /// The URIs as typed.
    pub uris: Vec<String>,
    /// The aliases to expand.
    pub aliases: Aliases,
}

/// One added dependency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Added {
    /// The set's name in `[package.sets]`.
    pub set: String,
    /// The label.
    pub label: String,
    /// The requirement written.
    pub requirement: String,
}

/// What `eka add` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// The dependencies written to `atom.toml`.
    pub added: Vec<Added>,
    /// The lock transaction's outcome.
    #[serde(flatten)]
    pub lock: transaction::Outcome,
}

/// A set name derived from a URL's last path component.
pub fn set_name_for_url(url: &SetUrl) -> Label {
    let text = url.as_str().trim_end_matches('/');
    let last = text
        .rsplit(['/', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches(".git");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Label::parse(cleaned.trim_start_matches(['-', '_']))
        .or_else(|_| Label::parse("set"))
        .unwrap_or_else(|_| unreachable_label())
}

fn unreachable_label() -> Label {
    // `set` is a valid label; this is never reached.
    Label::parse("s").unwrap_or_else(|_| unreachable_label())
}

/// Run `eka add`.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let uris: Vec<AtomUri> = options
        .uris
        .iter()
        .map(|input| AtomUri::parse(input, &options.aliases))
        .collect::<Result<_, _>>()?;
    let path = transaction::manifest_path(&options.lock.dir);
    let mut added: Vec<Added> = Vec::new();
    let mut failure: Option<Error> = None;
    let mut chosen: Vec<(Label, Label, Option<VersionReq>)> = Vec::new();
    let outcome =
        transaction::relock(
            &options.lock,
            Plan::default(),
            &mut |document, resolved| match resolved {
                None => {
                    for uri in &uris {
                        let name = match set_for(document, &uri.source, &path) {
                            Ok(name) => name,
                            Err(error) => {
                                let message = error.to_string();
                                failure = Some(error);
                                return Err(transaction::Error::Value {
                                    label: uri.label.clone(),
                                    message,
                                });
                            }
                        };
                        let requirement = uri.requirement.clone().unwrap_or(VersionReq::STAR);
                        document.add_dependency(&name, &uri.label, &requirement)?;
                        chosen.push((name, uri.label.clone(), uri.requirement.clone()));
                    }
                    Ok(true)
                }
                Some((catalog, resolution)) => {
                    let manifest = document.manifest()?;
                    let mut again = false;
                    for (name, label, requirement) in &chosen {
                        let requirement = match requirement {
                            Some(requirement) => requirement.clone(),
                            None => {
                                let set = match manifest.package.sets.get(name) {
                                    Some(SetSource::Here) | None => SetRef::Local,
                                    Some(other) => SetRef::Remote(other.urls().to_vec()),
                                };
                                let key = AtomKey::new(catalog.key_of(&set), label.clone());
                                match resolution.version(&key) {
                                    Some(version) => {
                                        let text = format!("^{version}");
                                        let requirement =
                                            text.parse::<VersionReq>().map_err(|error| {
                                                transaction::Error::Value {
                                                    label: label.clone(),
                                                    message: error.to_string(),
                                                }
                                            })?;
                                        again |=
                                            document.add_dependency(name, label, &requirement)?;
                                        requirement
                                    }
                                    None => VersionReq::STAR,
                                }
                            }
                        };
                        added.push(Added {
                            set: name.to_string(),
                            label: label.to_string(),
                            requirement: requirement.to_string(),
                        });
                    }
                    Ok(again)
                }
            },
        );
    match outcome {
        Ok(lock) => Ok(Outcome { added, lock }),
        Err(error) => Err(failure.unwrap_or(Error::Lock(error))),
    }
}

/// The name of the set `source` in the document, declaring it if needed.
fn set_for(document: &mut ManifestDocument, source: &Source, path: &Path) -> Result<Label, Error> {
    let manifest = document.manifest().map_err(transaction::Error::from)?;
    let sets = &manifest.package.sets;
    match source {
        Source::Named(name) => Label::parse(name)
            .ok()
            .filter(|label| sets.contains_key(label))
            .ok_or_else(|| Error::UnknownSet {
                name: name.clone(),
                path: path.to_path_buf(),
                hint: "declare it under `[package.sets]`, or name the set by URL",
            }),
        Source::Local => {
            if let Some((name, _)) = sets.iter().find(|(_, source)| **source == SetSource::Here) {
                return Ok(name.clone());
            }
            let name = free_name(sets, "local");
            document
                .add_set(&name, &SetSource::Here)
                .map_err(transaction::Error::from)?;
            Ok(name)
        }
        Source::Url(url) => {
            if let Some((name, _)) = sets.iter().find(|(_, source)| source.urls().contains(url)) {
                return Ok(name.clone());
            }
            let name = free_name(sets, set_name_for_url(url).as_str());
            document
                .add_set(&name, &SetSource::Url(url.clone()))
                .map_err(transaction::Error::from)?;
            Ok(name)
        }
    }
}

fn free_name(sets: &std::collections::BTreeMap<Label, SetSource>, base: &str) -> Label {
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            }
        })
        .filter_map(|name| Label::parse(&name).ok())
        .find(|name| !sets.contains_key(name))
        .unwrap_or_else(unreachable_label)
}

// --- `eka add --nix`: direct Nix inputs ---------------------------------------------

/// How `eka add --nix <name> <url>` fetches the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixFetchArg {
    /// No flag: a file (`url = ...`).
    Url,
    /// `--git REF`.
    GitRef(String),
    /// `--version REQ`: a git repository's newest tag matching.
    GitVersion(String),
    /// `--tar`.
    Tar,
    /// `--build`.
    Build,
}

/// What `eka add --nix` adds.
#[derive(Debug, Clone)]
pub struct NixOptions {
    /// How to lock.
    pub lock: transaction::Options,
    /// The input's name in `[deps.direct.nix]`.
    pub name: String,
    /// Where from, as typed (an alias such as `gh:` is expanded, see [`expand_nix_url`]).
    pub url: String,
    /// How.
    pub fetch: NixFetchArg,
    /// `--flake`.
    pub flake: bool,
    /// The aliases to expand in `url`.
    pub aliases: Aliases,
}

/// A forge whose shorthand names a tarball by ref with `--tar`.
#[derive(Debug, Clone, Copy)]
enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    /// The forge's web root, as the built-in aliases expand to it.
    fn root(self) -> &'static str {
        match self {
            Forge::GitHub => "https://github.com/",
            Forge::GitLab => "https://gitlab.com/",
        }
    }

    /// The URL of the `.tar.gz` archive of `repo` at `reference`.
    fn archive(self, owner: &str, repo: &str, reference: &str) -> String {
        match self {
            Forge::GitHub => {
                format!("https://github.com/{owner}/{repo}/archive/{reference}.tar.gz")
            }
            Forge::GitLab => format!(
                "https://gitlab.com/{owner}/{repo}/-/archive/{reference}/{repo}-{}.tar.gz",
                reference.replace('/', "-")
            ),
        }
    }
}

/// The URL `eka add --nix` writes for the `written` one: aliases (`gh:`, `gl:`, those of
/// `eka.toml`) expanded as in atom URIs, so `atom.toml` holds the expansion. With `--tar`,
/// a shorthand that expands to a GitHub or GitLab repository followed by a ref
/// (`gh:owner/repo/<ref>`) becomes the forge's archive of that ref; one without a ref is
/// refused. A URL written out in full is kept as it is.
pub fn expand_nix_url(
    name: &str,
    written: &str,
    fetch: &NixFetchArg,
    aliases: &Aliases,
) -> Result<String, Error> {
    let expanded = aliases.expand(written)?;
    if expanded == written || *fetch != NixFetchArg::Tar {
        return Ok(expanded);
    }
    for forge in [Forge::GitHub, Forge::GitLab] {
        let Some(path) = expanded.strip_prefix(forge.root()) else {
            continue;
        };
        let mut parts = path.trim_end_matches('/').splitn(3, '/');
        let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
            return Ok(expanded);
        };
        let repo = repo.trim_end_matches(".git");
        if owner.is_empty() || repo.is_empty() {
            return Ok(expanded);
        }
        return match parts.next() {
            None | Some("") => Err(Error::NixArguments {
                name: name.to_owned(),
                message: format!(
                    "`{written}` names a repository, not a tarball: `--tar` needs a ref"
                ),
                hint: "name the ref after the repository, as in `gh:owner/repo/v1.0.0` \
                       (a branch, a tag or a commit), or use `--git <ref>`",
            }),
            // A path on the forge written out (`.../archive/...`, `.../-/archive/...`,
            // `.../releases/download/...`) is a URL already.
            Some(rest)
                if ["archive/", "-/", "releases/"]
                    .iter()
                    .any(|p| rest.starts_with(p)) =>
            {
                Ok(expanded)
            }
            Some(reference) => Ok(forge.archive(owner, repo, reference)),
        };
    }
    Ok(expanded)
}

/// The manifest entry `eka add --nix` writes.
pub fn nix_input(options: &NixOptions) -> Result<(Label, atom::manifest::NixInput), Error> {
    use atom::manifest::{GitSelector, NixFetch, NixInput};
    let refuse = |message: String, hint: &'static str| Error::NixArguments {
        name: options.name.clone(),
        message,
        hint,
    };
    let name = Label::parse(&options.name).map_err(|error| {
        refuse(
            error.to_string(),
            "an input name is a label: a letter, then letters, digits, `_` or `-`",
        )
    })?;
    let url = expand_nix_url(
        &options.name,
        &options.url,
        &options.fetch,
        &options.aliases,
    )?;
    let fetch = match &options.fetch {
        NixFetchArg::Url => NixFetch::Url(url),
        NixFetchArg::Tar => NixFetch::Tar(url),
        NixFetchArg::Build => NixFetch::Build(url),
        NixFetchArg::GitRef(reference) => NixFetch::Git {
            url,
            selector: GitSelector::Ref(reference.clone()),
        },
        NixFetchArg::GitVersion(requirement) => NixFetch::Git {
            url,
            selector: GitSelector::Version(requirement.parse::<VersionReq>().map_err(|error| {
                refuse(
                    format!("`{requirement}` is not a version requirement: {error}"),
                    "write a semver requirement such as `^1` or `>=1.2, <2`",
                )
            })?),
        },
    };
    Ok((
        name,
        NixInput {
            fetch,
            flake: options.flake,
        },
    ))
}

/// Run `eka add --nix`: write the input into `atom.toml` and lock it, both files
/// together or neither.
pub fn run_nix(options: &NixOptions) -> Result<transaction::Outcome, Error> {
    let (name, input) = nix_input(options)?;
    let outcome =
        transaction::relock(&options.lock, Plan::default(), &mut |document, resolved| {
            if resolved.is_none() {
                document.add_nix_input(&name, &input)?;
            }
            Ok(false)
        })?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(written: &str, fetch: NixFetchArg) -> Result<String, Error> {
        let mut aliases = Aliases::builtin();
        aliases.insert("lo", "http://127.0.0.1:8080/").unwrap();
        aliases.insert("work", "gh:my-company/").unwrap();
        expand_nix_url("src", written, &fetch, &aliases)
    }

    #[test]
    fn git_shorthands_expand_to_the_repository_url() {
        let git = || NixFetchArg::GitRef("main".to_owned());
        assert_eq!(
            expand("gh:owner/repo", git()).unwrap(),
            "https://github.com/owner/repo"
        );
        assert_eq!(
            expand("gl:group/project", NixFetchArg::GitVersion("^1".to_owned())).unwrap(),
            "https://gitlab.com/group/project"
        );
        assert_eq!(
            expand("work:tools", git()).unwrap(),
            "https://github.com/my-company/tools"
        );
    }

    #[test]
    fn tar_shorthands_expand_to_the_forge_archive_of_the_ref() {
        assert_eq!(
            expand("gh:NixOS/nixpkgs/nixos-24.05", NixFetchArg::Tar).unwrap(),
            "https://github.com/NixOS/nixpkgs/archive/nixos-24.05.tar.gz"
        );
        assert_eq!(
            expand("gh:owner/repo.git/v1.0.0", NixFetchArg::Tar).unwrap(),
            "https://github.com/owner/repo/archive/v1.0.0.tar.gz"
        );
        assert_eq!(
            expand("gl:group/project/v2.1", NixFetchArg::Tar).unwrap(),
            "https://gitlab.com/group/project/-/archive/v2.1/project-v2.1.tar.gz"
        );
        assert_eq!(
            expand("gl:group/project/feature/x", NixFetchArg::Tar).unwrap(),
            "https://gitlab.com/group/project/-/archive/feature/x/project-feature-x.tar.gz"
        );
        // A path on the forge written out is kept.
        assert_eq!(
            expand("gh:o/r/archive/abc.tar.gz", NixFetchArg::Tar).unwrap(),
            "https://github.com/o/r/archive/abc.tar.gz"
        );
    }

    #[test]
    fn a_tar_shorthand_without_a_ref_is_refused() {
        let error = expand("gh:owner/repo", NixFetchArg::Tar).unwrap_err();
        assert!(
            matches!(&error, Error::NixArguments { message, .. } if message.contains("needs a ref")),
            "{error}"
        );
        assert_eq!(error.kind(), Kind::Input);
    }

    #[test]
    fn files_and_user_aliases_expand_verbatim_and_urls_are_kept() {
        assert_eq!(
            expand("lo:files/pkg.tar.gz", NixFetchArg::Tar).unwrap(),
            "http://127.0.0.1:8080/files/pkg.tar.gz"
        );
        assert_eq!(
            expand("gh:o/r/releases/download/v1/x.bin", NixFetchArg::Url).unwrap(),
            "https://github.com/o/r/releases/download/v1/x.bin"
        );
        for url in [
            "https://github.com/o/r",
            "http://host/x.tar.gz",
            "file:///tmp/x",
        ] {
            assert_eq!(expand(url, NixFetchArg::Tar).unwrap(), url);
        }
        assert!(matches!(
            expand("nope:x", NixFetchArg::Url),
            Err(Error::Uri(_))
        ));
    }
}
