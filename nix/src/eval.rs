//! `eka eval` / `eka build`: run Nix on the current atom with its locked inputs only, in
//! pure mode, so nobody hand-writes the bootstrap expression.
//!
//! [`run`] materialises the Nix library shipped inside eka ([`LIBRARY`], the files of
//! `nix/lib/`) in the cache, copies the atom directory (without `.git`) to a staging
//! directory, pins both into the store with `builtins.path { sha256 = <NAR hash>; }`
//! and calls `importAtomWith` with a configuration. Nix runs with
//! `--option pure-eval true`: only what the lock pins (and the two pinned paths) can be
//! read. The configuration is normalised to canonical JSON ([`canonical_json`]: object
//! keys sorted by their UTF-8 bytes, no whitespace) and hashed ([`config_hash`]:
//! `sha256:<hex>` of those bytes); the entry point sees both as `atom.config` and
//! `atom.configHash`. Nix's run is an `Evaluating` (or `Building`) step without a total
//! on the caller's [`Reporter`]; Nix's own stderr passes
//! through.
//!
//! ```
//! use nix::eval::{canonical_json, config_hash, load_config};
//!
//! let config = load_config(None, &["b=2".into(), "a=x".into()]).unwrap();
//! assert_eq!(canonical_json(&config), r#"{"a":"x","b":2}"#);
//! assert!(config_hash(&canonical_json(&config)).starts_with("sha256:"));
//! ```

use std::{
    fmt::Write as _,
    io,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use atom::{
    error::{Classify, Kind},
    progress::{Reporter, Step},
};
use fs_err as fs;
use serde_json::Value;

/// The Nix library shipped with eka: `(file name, text)` of every file of `nix/lib/`.
pub const LIBRARY: [(&str, &str); 4] = [
    ("default.nix", include_str!("../lib/default.nix")),
    ("fetch.nix", include_str!("../lib/fetch.nix")),
    ("graph.nix", include_str!("../lib/graph.nix")),
    ("lock.nix", include_str!("../lib/lock.nix")),
];

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `nix-instantiate --eval --strict --json`: print the value as JSON.
    Eval,
    /// `nix-build --no-out-link`: build the derivation(s), print the store paths.
    Build,
}

impl Mode {
    /// The Nix program run for this mode.
    pub fn program(self) -> &'static str {
        match self {
            Mode::Eval => "nix-instantiate",
            Mode::Build => "nix-build",
        }
    }
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The atom's directory (holding `atom.toml`).
    pub dir: PathBuf,
    /// The attribute path to select from the atom's value (`a.b`), or the whole value.
    pub attr: Option<String>,
    /// The configuration passed to the entry point (see [`load_config`]).
    pub config: Value,
    /// eka's cache directory (the library and the staging copies live under it).
    pub cache: PathBuf,
    /// Evaluate or build.
    pub mode: Mode,
}

/// What Nix printed.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Nix's stdout, trimmed: the JSON value, or the built store paths one per line.
    pub output: String,
    /// The configuration's hash as the entry point saw it.
    pub config_hash: String,
    /// The expression Nix evaluated (for `-v`).
    pub expression: String,
}

/// Why `eval`/`build` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory holds no `atom.toml`.
    #[error("`{}` holds no `atom.toml`", dir.display())]
    NoManifest {
        /// The directory.
        dir: PathBuf,
    },
    /// Nix is not installed.
    #[error("`{program}` could not be run: Nix is not installed")]
    NixMissing {
        /// The program.
        program: &'static str,
    },
    /// The configuration file could not be read.
    #[error("cannot read the configuration `{}`", path.display())]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The configuration file is not JSON.
    #[error("the configuration `{}` is not valid JSON", path.display())]
    ConfigJson {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A `--set` is not `key=value`, or the configuration is not an object.
    #[error("invalid configuration setting `{setting}`")]
    Setting {
        /// The offending text.
        setting: String,
    },
    /// The attribute path is malformed.
    #[error("invalid attribute path `{attr}`")]
    Attr {
        /// The attribute path.
        attr: String,
    },
    /// The atom or the cache could not be read or written (the cause names the path).
    #[error("cannot stage the atom and the Nix library for evaluation")]
    Io(#[from] io::Error),
    /// Nix is installed but could not be started.
    #[error("cannot run `{program}`")]
    Run {
        /// The program.
        program: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A NAR hash could not be computed.
    #[error("cannot hash `{}` for Nix", path.display())]
    Hash {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: crate::nar::Error,
    },
    /// Nix ran and failed (its diagnostics went to stderr).
    #[error("`{program}` failed on atom `{}` ({status})", dir.display())]
    NixFailed {
        /// The program.
        program: &'static str,
        /// The atom directory.
        dir: PathBuf,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
}

impl Classify for Error {
    /// Reading the atom or the cache, or hashing it, is the environment; everything else
    /// (no atom, no Nix, a bad configuration, a failed evaluation) is the user's input.
    fn kind(&self) -> Kind {
        match self {
            Error::Io(_) | Error::Run { .. } | Error::Hash { .. } => Kind::Environment,
            _ => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoManifest { .. } => {
                Some("run eka in an atom's directory or pass it with `-C <dir>`".into())
            }
            Error::NixMissing { .. } => Some(
                "install Nix, e.g. the Debian package `nix-bin` (`apt-get install nix-bin`)".into(),
            ),
            Error::Setting { .. } => Some(
                "pass `--set key=value` (the value is parsed as JSON, else taken as a string); \
                 a `--config` file must hold a JSON object"
                    .into(),
            ),
            Error::Attr { .. } => Some("use dot-separated attribute names: `a.b.c`".into()),
            Error::NixFailed { .. } => Some(
                "the evaluation is pure: only the atom, its `atom.lock` pins and the \
                 configuration can be read; run `eka resolve` if the lock is stale"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Build the configuration: the JSON object in `file` (if any), then each `key=value`
/// of `settings` (the value parsed as JSON, or else taken as a string) set on top.
pub fn load_config(file: Option<&Path>, settings: &[String]) -> Result<Value, Error> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
                path: path.to_owned(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|source| Error::ConfigJson {
                path: path.to_owned(),
                source,
            })?
        }
        None => Value::Object(serde_json::Map::new()),
    };
    let Value::Object(object) = &mut config else {
        return Err(Error::Setting {
            setting: file.map(|p| p.display().to_string()).unwrap_or_default(),
        });
    };
    for setting in settings {
        let Some((key, value)) = setting.split_once('=').filter(|(key, _)| !key.is_empty()) else {
            return Err(Error::Setting {
                setting: setting.clone(),
            });
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        object.insert(key.to_owned(), value);
    }
    Ok(config)
}

/// The canonical JSON text of a value: no whitespace, object keys sorted by their UTF-8
/// bytes, strings and numbers as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The configuration hash: `sha256:` and the lowercase hex sha256 of the canonical JSON.
pub fn config_hash(canonical: &str) -> String {
    // Hashing from memory cannot fail.
    let hash = crate::flat_hash(canonical.as_bytes())
        .map(|hash| hash.to_hex())
        .unwrap_or_default();
    format!("sha256:{hash}")
}

/// A Nix string literal holding `text`.
pub fn nix_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Nix expression for `path` added to the store and pinned by its NAR hash.
fn pinned(path: &Path, name: &str) -> Result<String, Error> {
    let hash = crate::nar::hash_path(path).map_err(|source| Error::Hash {
        path: path.to_owned(),
        source,
    })?;
    Ok(format!(
        "(builtins.path {{ path = /. + {}; name = {}; sha256 = {}; }})",
        nix_string(&path.display().to_string()),
        nix_string(name),
        nix_string(&hash.to_sri()),
    ))
}

/// Write the embedded library to `<cache>/nix/<hash of its files>/` (once) and return
/// that directory.
pub fn materialise_library(cache: &Path) -> Result<PathBuf, Error> {
    let mut all = String::new();
    for (name, text) in LIBRARY {
        let _ = write!(all, "{}\0{name}\0{text}", text.len());
    }
    let digest = config_hash(&all);
    let short = digest
        .trim_start_matches("sha256:")
        .get(..16)
        .unwrap_or("0");
    let dir = cache.join("nix").join(short);
    if dir.join("default.nix").is_file() {
        return Ok(dir);
    }
    let parent = cache.join("nix");
    fs::create_dir_all(&parent)?;
    let staging = parent.join(format!(".{short}.{}.tmp", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    for (name, text) in LIBRARY {
        let path = staging.join(name);
        fs::write(&path, text)?;
    }
    if let Err(error) = fs::rename(&staging, &dir) {
        let _ = fs::remove_dir_all(&staging);
        // Another eka may have won the race.
        if !dir.join("default.nix").is_file() {
            return Err(Error::Io(error));
        }
    }
    Ok(dir)
}

/// Copy `from` to `to` recursively, skipping `.git` and keeping symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == ".git" {
            continue;
        }
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let link = fs::read_link(&source)?;
            fs::os::unix::fs::symlink(link, &target)?;
        } else if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// `value."a"."b"` for `a.b`.
fn select(attr: Option<&str>) -> Result<String, Error> {
    let mut out = String::from("value");
    let Some(attr) = attr.filter(|attr| !attr.is_empty() && *attr != ".") else {
        return Ok(out);
    };
    for part in attr.split('.') {
        if part.is_empty() {
            return Err(Error::Attr {
                attr: attr.to_owned(),
            });
        }
        out.push('.');
        out.push_str(&nix_string(part));
    }
    Ok(out)
}

/// Removes the staging directory when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Evaluate or build the atom at `options.dir`; Nix's run is an `Evaluating` or
/// `Building` step without a total on `reporter`.
pub fn run(options: &Options, reporter: &dyn Reporter) -> Result<Outcome, Error> {
    let dir = fs::canonicalize(&options.dir)?;
    if !dir.join("atom.toml").is_file() {
        return Err(Error::NoManifest { dir });
    }
    let selection = select(options.attr.as_deref())?;
    let library = materialise_library(&options.cache)?;
    let stage_root = options.cache.join("eval");
    fs::create_dir_all(&stage_root)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.subsec_nanos())
        .unwrap_or(0);
    let staging = Staging(stage_root.join(format!("{}-{nanos}", std::process::id())));
    let atom_copy = staging.0.join("atom");
    copy_tree(&dir, &atom_copy)?;

    let canonical = canonical_json(&options.config);
    let hash = config_hash(&canonical);
    let expression = format!(
        "let\n  eka = import {};\n  value = eka.importAtomWith {{\n    dir = {};\n    \
         config = builtins.fromJSON {};\n    configHash = {};\n  }};\nin {selection}\n",
        pinned(&library, "eka-nix")?,
        pinned(&atom_copy, "source")?,
        nix_string(&canonical),
        nix_string(&hash),
    );
    let program = options.mode.program();
    let mut command = Command::new(program);
    match options.mode {
        Mode::Eval => command.args(["--eval", "--strict", "--json", "--read-write-mode"]),
        Mode::Build => command.arg("--no-out-link"),
    };
    command
        .args(["--option", "pure-eval", "true", "-E", &expression])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    tracing::info!(program, %expression, "running nix");
    let verb = match options.mode {
        Mode::Eval => "Evaluating",
        Mode::Build => "Building",
    };
    let step = Step::begin(reporter, verb, None);
    let output = command.output().map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            Error::NixMissing { program }
        } else {
            Error::Run {
                program,
                source: error,
            }
        }
    })?;
    drop(step);
    if !output.status.success() {
        return Err(Error::NixFailed {
            program,
            dir,
            status: output.status,
        });
    }
    Ok(Outcome {
        output: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        config_hash: hash,
        expression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": 1, "a": "x"}], "a": null }"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":null,"b":[1,{"a":"x","z":1}]}"#
        );
        assert_eq!(
            config_hash("{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn settings_override_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, r#"{"a": 1, "b": true}"#).unwrap();
        let config = load_config(Some(&file), &["a=[2]".into(), "s=text".into()]).unwrap();
        assert_eq!(canonical_json(&config), r#"{"a":[2],"b":true,"s":"text"}"#);
        assert!(matches!(
            load_config(None, &["novalue".into()]),
            Err(Error::Setting { .. })
        ));
        std::fs::write(&file, "[1]").unwrap();
        assert!(matches!(
            load_config(Some(&file), &[]),
            Err(Error::Setting { .. })
        ));
    }

    #[test]
    fn a_bad_json_configuration_names_the_file_and_gives_its_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, "{ nope").unwrap();
        let error = load_config(Some(&file), &[]).unwrap_err();
        let message = error.to_string();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(message.contains("c.json"), "{message}");
        // The printer shows the source as its own `caused by:` line.
        assert!(!message.contains(&cause), "{message} repeats {cause}");
    }

    #[test]
    fn strings_and_selections_are_quoted() {
        assert_eq!(nix_string("a\"${b}$c\\"), r#""a\"\${b}$c\\""#);
        assert_eq!(select(Some("a.b")).unwrap(), r#"value."a"."b""#);
        assert_eq!(select(None).unwrap(), "value");
        assert!(select(Some("a..b")).is_err());
    }
}
