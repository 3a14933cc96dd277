//! `eka attest`: build published atoms and publish signed attestations of their outputs.
//!
//! [`run`] finds, like `eka publish --dry-run`, which atoms of the set are published on
//! the remote with the same content; for each one selected it fetches the published
//! atom commit, writes its tree to a staging directory (never the working tree), builds
//! it purely with its lock ([`nix::eval::run`], [`nix::eval::Mode::Build`]), reads every
//! output's NAR hash from the store (`nix-store --query --hash`) and writes an in-toto statement
//! ([`verify::attestation::Statement`]) into an SSH-signed annotated tag pointing to the
//! atom commit. Every new tag goes out in one atomic push under
//! [`verify::attestation::ref_name`], each ref with the lease "must not exist": a second
//! builder adds its own ref, and nobody's ref is ever moved. Main types: [`Options`],
//! [`Outcome`] (one [`Attested`] per atom built, one [`Unattested`] per atom left out)
//! and [`Error`].

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::SystemTime,
};

use atom::{
    error::{Classify, Kind},
    progress::Reporter,
    store::{AtomCommit, RefUpdate, push, refs, remote},
};
use gix::ObjectId;
use semver::Version;
use verify::{
    attestation::{self, Statement, Subject},
    signature::Signer,
};

use super::publish;

/// What to attest.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory eka runs in (inside the set's repository).
    pub cwd: PathBuf,
    /// The labels to attest (default: every published atom with an entry point).
    pub labels: Vec<String>,
    /// The remote (a name from the git config, or a URL; default `origin`).
    pub remote: Option<String>,
    /// The configuration given to the entry points.
    pub config: serde_json::Value,
    /// eka's cache directory (staging copies live under it).
    pub cache: PathBuf,
    /// Who signs the attestations.
    pub signer: Signer,
    /// A Nix store URL to copy the outputs to (`nix copy --to`).
    pub copy_to: Option<String>,
    /// Remote builders, the store, substituters and other Nix settings for the builds
    /// (the NAR hashes are read from, and the copy made from, that store).
    pub settings: nix::settings::Settings,
    /// Where progress goes.
    pub reporter: Arc<dyn Reporter>,
}

/// What happened to one attestation ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The ref was pushed.
    Pushed,
    /// The remote already has this very attestation (builds and signatures are
    /// deterministic).
    AlreadyThere,
    /// The remote has another attestation under this ref (this signer, this
    /// configuration, an earlier run): it is kept, never overwritten.
    Kept {
        /// The tag the remote has.
        existing: ObjectId,
    },
    /// The server rejected the ref (another builder pushed it meanwhile): nothing of
    /// the push was kept.
    Rejected {
        /// The server's reason.
        reason: String,
    },
}

impl Status {
    /// A short lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pushed => "pushed",
            Status::AlreadyThere => "already-there",
            Status::Kept { .. } => "kept",
            Status::Rejected { .. } => "rejected",
        }
    }
}

/// One atom built and attested.
#[derive(Debug, Clone)]
pub struct Attested {
    /// The label.
    pub label: String,
    /// The version.
    pub version: Version,
    /// The atom commit built.
    pub commit: ObjectId,
    /// The attestation ref.
    pub reference: String,
    /// The signed tag object.
    pub tag: ObjectId,
    /// What the tag states.
    pub statement: Statement,
    /// What happened to the ref.
    pub status: Status,
}

/// A selected atom that was not attested, and why.
#[derive(Debug, Clone)]
pub struct Unattested {
    /// The label.
    pub label: String,
    /// The version.
    pub version: Version,
    /// Why (`not published`, `published with other content`, `no entry point`).
    pub reason: String,
}

/// What `attest` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The remote URL.
    pub remote_url: String,
    /// The attested atoms.
    pub atoms: Vec<Attested>,
    /// The atoms left out.
    pub unattested: Vec<Unattested>,
    /// The Nix store the outputs were copied to.
    pub copied_to: Option<String>,
}

/// Why `attest` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Finding what is published failed.
    #[error(transparent)]
    Publish(Box<publish::Error>),
    /// No git repository contains the directory.
    #[error("`{}` is not inside a git repository", path.display())]
    NoRepository {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `eka show --attestations` cannot read its input or the cache.
    #[error("cannot show the attestations of `{input}`: {reason}")]
    Show {
        /// The atom URI.
        input: String,
        /// What went wrong.
        reason: String,
    },
    /// Some atoms of the set are invalid.
    #[error("the set has invalid atoms: {}", paths.join(", "))]
    Invalid {
        /// Their directories.
        paths: Vec<String>,
    },
    /// A label on the command line is not an atom of the set.
    #[error("`{label}` is not an atom of the set")]
    UnknownLabel {
        /// The label.
        label: String,
    },
    /// The published atom commit could not be fetched or read.
    #[error("cannot read the published atom commit of `{label}@{version}`: {reason}")]
    Fetch {
        /// The label.
        label: String,
        /// The version.
        version: Version,
        /// What went wrong.
        reason: String,
    },
    /// The published tree could not be written to the staging directory.
    #[error("cannot stage the published tree of `{label}` for the build")]
    Stage {
        /// The label.
        label: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A Nix setting (`--builders`, `--store`, `--option`, …) is refused.
    #[error(transparent)]
    Settings(Box<nix::settings::Error>),
    /// The build failed.
    #[error("cannot build `{label}`")]
    Build {
        /// The label.
        label: String,
        /// The cause.
        #[source]
        source: Box<nix::eval::Error>,
    },
    /// A Nix command (`nix --version`, `nix copy`) failed.
    #[error("`{command}` failed: {detail}")]
    Nix {
        /// The command.
        command: String,
        /// Its stderr or the cause.
        detail: String,
    },
    /// The tag could not be signed or written.
    #[error("cannot write the attestation of `{label}`: {reason}")]
    Tag {
        /// The label.
        label: String,
        /// What went wrong.
        reason: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Sign(attestation::Error),
    /// The remote's attestation refs could not be listed.
    #[error(transparent)]
    List(Box<remote::Error>),
    /// The push could not be carried out.
    #[error(transparent)]
    Push(Box<push::Error>),
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Publish(error) => error.kind(),
            Error::Build { source, .. } => source.kind(),
            Error::Settings(error) => error.kind(),
            Error::Sign(error) => error.kind(),
            Error::List(error) => error.kind(),
            Error::Push(error) => error.kind(),
            Error::Invalid { .. }
            | Error::UnknownLabel { .. }
            | Error::NoRepository { .. }
            | Error::Show { .. } => Kind::Input,
            _ => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Publish(error) => error.hint(),
            Error::Build { source, .. } => source.hint(),
            Error::Settings(error) => error.hint(),
            Error::Sign(error) => error.hint(),
            Error::List(error) => error.hint(),
            Error::Invalid { .. } => {
                Some("run `eka publish --dry-run` to see what is wrong".into())
            }
            Error::UnknownLabel { .. } => Some("name atoms by their labels in `atom.toml`".into()),
            _ => None,
        }
    }
}

/// One atom to build: published with the same content.
struct Selected {
    atom_label: atom::Label,
    label: String,
    version: Version,
    commit: ObjectId,
    named: bool,
}

/// Build and attest the selected atoms, then push every new attestation in one push.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    options
        .settings
        .check()
        .map_err(|error| Error::Settings(Box::new(error)))?;
    let published = publish::run(&publish::Options {
        cwd: options.cwd.clone(),
        paths: Vec::new(),
        all: true,
        remote: options.remote.clone(),
        revision: "HEAD".into(),
        dry_run: true,
        keep_going: false,
        signer: None,
        reporter: options.reporter.clone(),
    })
    .map_err(|error| Error::Publish(Box::new(error)))?;
    if !published.invalid.is_empty() {
        return Err(Error::Invalid {
            paths: published
                .invalid
                .iter()
                .map(|bad| bad.path.clone())
                .collect(),
        });
    }
    let (selected, mut unattested) = select(options, &published)?;
    let repo = gix::discover(&options.cwd).map_err(|source| Error::NoRepository {
        path: options.cwd.clone(),
        source: source.into(),
    })?;
    fetch_missing(&repo, &published.remote_url, &selected)?;
    let environment = NixEnvironment::read(&options.settings)?;
    let fingerprint = options
        .signer
        .public_key()
        .fingerprint(ssh_key_hash())
        .to_string();
    let mut atoms = Vec::new();
    for atom in &selected {
        match attest_one(&repo, options, atom, &environment, &fingerprint)? {
            Some(attested) => atoms.push(attested),
            None => unattested.push(Unattested {
                label: atom.label.clone(),
                version: atom.version.clone(),
                reason: "no entry point".into(),
            }),
        }
    }
    push_attestations(&repo, &published.remote_url, &mut atoms)?;
    if let Some(cache) = &options.copy_to {
        copy_outputs(options.settings.store.as_deref(), cache, &atoms)?;
    }
    Ok(Outcome {
        remote_url: published.remote_url,
        atoms,
        unattested,
        copied_to: options.copy_to.clone(),
    })
}

fn ssh_key_hash() -> verify::signature::ssh_key::HashAlg {
    verify::signature::ssh_key::HashAlg::Sha256
}

/// The atoms to build (published with the same content, named or all) and the named
/// ones that cannot be.
fn select(
    options: &Options,
    published: &publish::Outcome,
) -> Result<(Vec<Selected>, Vec<Unattested>), Error> {
    for label in &options.labels {
        if !published
            .atoms
            .iter()
            .any(|atom| atom.label.as_str() == label)
        {
            return Err(Error::UnknownLabel {
                label: label.clone(),
            });
        }
    }
    let mut selected = Vec::new();
    let mut unattested = Vec::new();
    for atom in &published.atoms {
        let named = options
            .labels
            .iter()
            .any(|label| label == atom.label.as_str());
        if !options.labels.is_empty() && !named {
            continue;
        }
        let reason = match atom.status {
            publish::Status::Skipped => {
                selected.push(Selected {
                    atom_label: atom.label.clone(),
                    label: atom.label.to_string(),
                    version: atom.version.clone(),
                    commit: atom.commit,
                    named,
                });
                continue;
            }
            publish::Status::Refused { .. } => "published with other content",
            _ => "not published",
        };
        unattested.push(Unattested {
            label: atom.label.to_string(),
            version: atom.version.clone(),
            reason: reason.into(),
        });
    }
    Ok((selected, unattested))
}

/// Fetch the published atom commits the repository does not have.
fn fetch_missing(repo: &gix::Repository, url: &str, selected: &[Selected]) -> Result<(), Error> {
    let missing: Vec<&Selected> = selected
        .iter()
        .filter(|atom| repo.find_object(atom.commit).is_err())
        .collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let spec = atom::store::git::FetchSpec {
        refspecs: missing
            .iter()
            .map(|atom| refs::atom_ref(&atom.atom_label, &atom.version))
            .collect(),
        depth: atom::store::git::Depth::Incremental,
    };
    atom::store::git::Repo::open(repo.git_dir())
        .fetch(url, &spec)
        .map_err(|error| Error::Fetch {
            label: first.label.clone(),
            version: first.version.clone(),
            reason: error.detail(),
        })
}

/// The Nix facts every statement names.
struct NixEnvironment {
    version: String,
    system: String,
}

impl NixEnvironment {
    /// Nix's version, and the system it builds for under `settings`.
    fn read(settings: &nix::settings::Settings) -> Result<NixEnvironment, Error> {
        let version = nix_output(&["nix-build", "--version"])?;
        let version = version
            .rsplit(' ')
            .next()
            .unwrap_or(version.as_str())
            .to_owned();
        let arguments = settings.arguments();
        let mut command = vec!["nix-instantiate"];
        command.extend(arguments.iter().map(String::as_str));
        command.extend(["--eval", "--json", "-E", "builtins.currentSystem"]);
        let system = nix_output(&command)?;
        Ok(NixEnvironment {
            version,
            system: system.trim_matches('"').to_owned(),
        })
    }
}

/// Run a Nix command; its trimmed stdout.
fn nix_output(command: &[&str]) -> Result<String, Error> {
    let failed = |detail: String| Error::Nix {
        command: command.join(" "),
        detail,
    };
    let (program, arguments) = command.split_first().ok_or_else(|| failed(String::new()))?;
    let output = Command::new(program)
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| failed(error.to_string()))?;
    if !output.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// What `eka show <uri> --attestations` lists.
#[derive(Debug, Clone)]
pub struct ShowOptions {
    /// The atom URI (`<set-url>::label[@req]`).
    pub input: String,
    /// The URI aliases.
    pub aliases: atom::uri::Aliases,
    /// eka's cache directory (the tags are fetched into its atom store).
    pub cache: PathBuf,
    /// The trust policy, by set name or set URL (only a URL entry applies here).
    pub trust: std::collections::BTreeMap<String, atom::config::Trust>,
    /// The time keys are judged at.
    pub now: SystemTime,
}

/// One attestation found on a set.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The ref.
    pub reference: String,
    /// The tag object.
    pub tag: ObjectId,
    /// The signing key's fingerprint, if the tag is signed.
    pub signer: Option<String>,
    /// `trusted` (with the principal) or the kind of the signature's failure.
    pub trust: String,
    /// What it states, when the statement can be read.
    pub statement: Option<Statement>,
}

/// List the attestations of an atom on its set (versions filtered by the URI's
/// requirement), each signature judged against the trust entry of the set's URL.
pub fn show(options: &ShowOptions) -> Result<Vec<Shown>, Error> {
    use atom::uri::{AtomUri, Source};
    let input = |reason: String| Error::Show {
        input: options.input.clone(),
        reason,
    };
    let uri = AtomUri::parse(&options.input, &options.aliases)
        .map_err(|error| input(error.to_string()))?;
    let Source::Url(url) = &uri.source else {
        return Err(input("name the set by URL or alias".into()));
    };
    let url = url.as_str();
    let prefix = format!("{}{}/", attestation::REF_PREFIX, uri.label);
    let listing: Vec<(String, ObjectId)> = remote::list_refs(url, &[prefix])
        .map_err(|error| Error::List(Box::new(error)))?
        .into_iter()
        .filter(|(name, _)| !name.ends_with("^{}"))
        .filter(|(name, _)| {
            let version = name.split('/').nth(4).and_then(refs::parse_version);
            match (&uri.requirement, version) {
                (Some(requirement), Some(version)) => requirement.matches(&version),
                (None, Some(_)) => true,
                _ => false,
            }
        })
        .collect();
    let cache = atom::store::cache::Cache::open(&options.cache)
        .map_err(|error| input(error.to_string()))?;
    let repo = cache
        .atoms_repo()
        .map_err(|error| input(error.to_string()))?;
    if !listing.is_empty() {
        let spec = atom::store::git::FetchSpec {
            refspecs: listing.iter().map(|(name, _)| name.clone()).collect(),
            depth: atom::store::git::Depth::Incremental,
        };
        atom::store::git::Repo::open(repo.git_dir())
            .fetch(url, &spec)
            .map_err(|error| Error::Fetch {
                label: uri.label.to_string(),
                version: Version::new(0, 0, 0),
                reason: error.detail(),
            })?;
    }
    let allowed = match options.trust.get(url) {
        Some(entry) => verify::signature::AllowedSigners::from_config(url, entry),
        None => verify::signature::AllowedSigners::parse("no allowed signers", ""),
    }
    .map_err(|error| input(error.to_string()))?;
    Ok(listing
        .into_iter()
        .map(|(reference, id)| judge(&repo, reference, id, &allowed, options.now))
        .collect())
}

/// Read and judge one attestation tag.
fn judge(
    repo: &gix::Repository,
    reference: String,
    id: ObjectId,
    allowed: &verify::signature::AllowedSigners,
    now: SystemTime,
) -> Shown {
    let raw = repo
        .find_object(id)
        .ok()
        .filter(|object| object.kind == gix::object::Kind::Tag)
        .map(|object| object.detach().data);
    let Some(raw) = raw else {
        return Shown {
            reference,
            tag: id,
            signer: None,
            trust: "malformed".into(),
            statement: None,
        };
    };
    let split = attestation::split_signed_tag(&raw).ok();
    let signer = split.as_ref().and_then(attestation::signer_fingerprint);
    let statement = split
        .as_ref()
        .and_then(|tag| Statement::parse(tag.message.trim_end()).ok());
    let trust = match attestation::verify_tag(&raw, allowed, now) {
        Ok(verified) => format!("trusted ({})", verified.verdict.principal),
        Err(attestation::Error::Signature(error)) => error
            .kind()
            .map(|kind| kind.as_str().to_owned())
            .unwrap_or_else(|| "error".into()),
        Err(_) => "malformed".into(),
    };
    Shown {
        reference,
        tag: id,
        signer,
        trust,
        statement,
    }
}

/// Removes the staging directory when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Build one atom from its published tree and sign its statement; `None` when it has no
/// entry point and was not named.
fn attest_one(
    repo: &gix::Repository,
    options: &Options,
    atom: &Selected,
    environment: &NixEnvironment,
    fingerprint: &str,
) -> Result<Option<Attested>, Error> {
    let decoded = read_published(repo, atom)?;
    let staged = stage(repo, options, atom, &decoded)?;
    if !staged.has_entry && !atom.named {
        return Ok(None);
    }
    let started = SystemTime::now();
    let built = nix::eval::run(
        &nix::eval::Options {
            dir: staged.dir.clone(),
            attr: None,
            config: options.config.clone(),
            cache: options.cache.clone(),
            mode: nix::eval::Mode::Build,
            // The lock's atoms are fetched and checked like `eka build` does; an
            // attestation never uses overrides.
            offline: false,
            override_atoms: Vec::new(),
            override_inputs: Vec::new(),
            settings: options.settings.clone(),
        },
        &*options.reporter,
    )
    .map_err(|source| Error::Build {
        label: atom.label.clone(),
        source: Box::new(source),
    })?;
    let finished = SystemTime::now();
    drop(staged.staging);
    let atom_id = atom::id::AtomId::new(&atom::id::SetRoot::from(decoded.set_root), &decoded.label);
    let statement = Statement {
        subjects: hash_outputs(options.settings.store.as_deref(), &built.output)?,
        atom_id: atom_id.to_string(),
        label: atom.label.clone(),
        version: atom.version.to_string(),
        commit: atom.commit.to_string(),
        content: decoded.content.clone(),
        config_hash: built.config_hash.clone(),
        lock_hash: staged.lock_hash,
        system: environment.system.clone(),
        builder: fingerprint.to_owned(),
        nix_version: environment.version.clone(),
        started_on: attestation::rfc3339(started),
        finished_on: attestation::rfc3339(finished),
    };
    let tag = write_tag(repo, options, atom, &statement)?;
    Ok(Some(Attested {
        label: atom.label.clone(),
        version: atom.version.clone(),
        commit: atom.commit,
        reference: attestation::ref_name(
            &atom.label,
            &statement.version,
            &built.config_hash,
            fingerprint,
        ),
        tag,
        statement,
        status: Status::Pushed,
    }))
}

/// Decode the published atom commit (already fetched) and check that its tree, validated
/// against hostile content, hashes to its content header.
fn read_published(repo: &gix::Repository, atom: &Selected) -> Result<AtomCommit, Error> {
    let fetch_error = |reason: String| Error::Fetch {
        label: atom.label.clone(),
        version: atom.version.clone(),
        reason,
    };
    let object = repo
        .find_object(atom.commit)
        .map_err(|error| fetch_error(error.to_string()))?;
    let commit = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash())
        .map_err(|error| fetch_error(error.to_string()))?;
    let decoded = AtomCommit::decode(&commit).map_err(|error| fetch_error(error.to_string()))?;
    let content = publish::content_hash(repo, decoded.tree)
        .map_err(|error| fetch_error(error.to_string()))?;
    if content != decoded.content {
        return Err(fetch_error(format!(
            "its tree hashes to `{content}`, its header says `{}`",
            decoded.content
        )));
    }
    Ok(decoded)
}

/// A published tree written to a staging directory.
struct Staged {
    /// Removed when dropped.
    staging: Staging,
    /// The atom's directory inside it.
    dir: PathBuf,
    /// Whether its manifest names an entry point.
    has_entry: bool,
    /// The statement's lock hash (empty without `atom.lock`).
    lock_hash: String,
}

/// Write the published tree to `<cache>/attest/<pid>-<nanos>/<label>`.
fn stage(
    repo: &gix::Repository,
    options: &Options,
    atom: &Selected,
    decoded: &AtomCommit,
) -> Result<Staged, Error> {
    let stage_error = |source: std::io::Error| Error::Stage {
        label: atom.label.clone(),
        source,
    };
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|duration| duration.subsec_nanos())
        .unwrap_or(0);
    let staging = Staging(
        options
            .cache
            .join("attest")
            .join(format!("{}-{nanos}", std::process::id())),
    );
    let dir = staging.0.join(&atom.label);
    fs_err::create_dir_all(&dir).map_err(stage_error)?;
    write_tree(repo, decoded.tree, &dir).map_err(stage_error)?;
    let manifest_text =
        fs_err::read_to_string(dir.join(atom::manifest::FILE_NAME)).map_err(stage_error)?;
    let has_entry = atom::manifest::Manifest::from_str(&manifest_text, atom::manifest::FILE_NAME)
        .map(|manifest| manifest.package.entry.is_some())
        .unwrap_or(false);
    let lock_hash = match fs_err::read(dir.join("atom.lock")) {
        Ok(bytes) => attestation::lock_hash(&bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(stage_error(error)),
    };
    Ok(Staged {
        staging,
        dir,
        has_entry,
        lock_hash,
    })
}

/// Sign the statement into a tag object on the atom commit and write it.
fn write_tag(
    repo: &gix::Repository,
    options: &Options,
    atom: &Selected,
    statement: &Statement,
) -> Result<ObjectId, Error> {
    let payload = attestation::tag_payload(
        atom.commit,
        &attestation::tag_name(&atom.label, &statement.version),
        &statement.to_json(),
    );
    let signed = attestation::sign_tag(&payload, &options.signer).map_err(Error::Sign)?;
    gix::objs::Write::write_buf(&repo.objects, gix::object::Kind::Tag, &signed).map_err(|error| {
        Error::Tag {
            label: atom.label.clone(),
            reason: error.to_string(),
        }
    })
}

/// The NAR hash of every store path Nix printed, one per line, as the store (`store`,
/// else the configured one) records it (`nix-store --query --hash`).
fn hash_outputs(store: Option<&str>, output: &str) -> Result<Vec<Subject>, Error> {
    output
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|path| {
            let hash = query_nar_hash_in(store, path)?;
            Ok(Subject {
                name: path.to_owned(),
                sha256: hash,
            })
        })
        .collect()
}

/// The NAR hash (hex) the Nix store records for `path`.
pub fn query_nar_hash(path: &str) -> Result<String, Error> {
    query_nar_hash_in(None, path)
}

/// The NAR hash (hex) the Nix store `store` (else the configured one) records for
/// `path`.
fn query_nar_hash_in(store: Option<&str>, path: &str) -> Result<String, Error> {
    let mut command = vec!["nix-store"];
    if let Some(store) = store {
        command.extend(["--store", store]);
    }
    command.extend(["--query", "--hash", path]);
    let text = nix_output(&command)?;
    nix::Sha256Hash::parse(&text)
        .map(|hash| hash.to_hex())
        .map_err(|error| Error::Nix {
            command: format!("nix-store --query --hash {path}"),
            detail: format!("unreadable hash `{text}`: {error}"),
        })
}

/// Write the (validated) tree `tree` into the existing directory `target`.
fn write_tree(repo: &gix::Repository, tree: ObjectId, target: &Path) -> std::io::Result<()> {
    use gix::objs::tree::EntryKind;
    use std::os::unix::{ffi::OsStrExt as _, fs::PermissionsExt as _};
    let invalid = |error: String| std::io::Error::new(std::io::ErrorKind::InvalidData, error);
    let object = repo
        .find_tree(tree)
        .map_err(|error| invalid(error.to_string()))?;
    let decoded = object
        .decode()
        .map_err(|error| invalid(error.to_string()))?;
    for entry in &decoded.entries {
        let destination = target.join(std::ffi::OsStr::from_bytes(entry.filename));
        let id = entry.oid.to_owned();
        let data = |id: ObjectId| {
            repo.find_object(id)
                .map(|object| object.detach().data)
                .map_err(|error| invalid(error.to_string()))
        };
        match entry.mode.kind() {
            EntryKind::Tree => {
                fs_err::create_dir(&destination)?;
                write_tree(repo, id, &destination)?;
            }
            kind @ (EntryKind::Blob | EntryKind::BlobExecutable) => {
                fs_err::write(&destination, data(id)?)?;
                let mode = if kind == EntryKind::BlobExecutable {
                    0o755
                } else {
                    0o644
                };
                fs_err::set_permissions(&destination, std::fs::Permissions::from_mode(mode))?;
            }
            EntryKind::Link => {
                let link = data(id)?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&link), &destination)?;
            }
            EntryKind::Commit => return Err(invalid("a submodule entry".into())),
        }
    }
    Ok(())
}

/// Push every new attestation ref in one atomic push (each must not exist yet).
fn push_attestations(
    repo: &gix::Repository,
    url: &str,
    atoms: &mut [Attested],
) -> Result<(), Error> {
    if atoms.is_empty() {
        return Ok(());
    }
    let existing: std::collections::BTreeMap<String, ObjectId> =
        remote::list_refs(url, &[attestation::REF_PREFIX.to_owned()])
            .map_err(|error| Error::List(Box::new(error)))?
            .into_iter()
            .collect();
    let mut updates = Vec::new();
    for atom in atoms.iter_mut() {
        match existing.get(&atom.reference) {
            Some(id) if *id == atom.tag => atom.status = Status::AlreadyThere,
            Some(id) => atom.status = Status::Kept { existing: *id },
            None => updates.push(RefUpdate {
                name: atom.reference.clone(),
                new_id: atom.tag,
                expected_old: None,
            }),
        }
    }
    if updates.is_empty() {
        return Ok(());
    }
    let outcome = push::push_refs(repo.git_dir(), url, &updates)
        .map_err(|error| Error::Push(Box::new(error)))?;
    for (name, reason) in outcome.rejected() {
        if let Some(atom) = atoms.iter_mut().find(|atom| atom.reference == name) {
            tracing::warn!(reference = name, reason, "attestation ref rejected");
            atom.status = Status::Rejected {
                reason: reason.to_owned(),
            };
        }
    }
    Ok(())
}

/// `nix copy --to CACHE <outputs>`, from `store` (else the configured one).
fn copy_outputs(store: Option<&str>, cache: &str, atoms: &[Attested]) -> Result<(), Error> {
    let mut command: Vec<&str> = vec!["nix", "--extra-experimental-features", "nix-command"];
    if let Some(store) = store {
        command.extend(["--store", store]);
    }
    command.extend(["copy", "--to", cache]);
    for atom in atoms {
        for subject in &atom.statement.subjects {
            command.push(&subject.name);
        }
    }
    nix_output(&command).map(|_| ())
}
