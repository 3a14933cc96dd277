//! `ekala.toml`: a set's index of atoms, and loading a whole set.
//!
//! [`SetManifest`] is the typed file (`[set] packages = [paths…]`); its paths are
//! [`RelativePath`]s, unique after normalisation. [`SetDocument`] adds packages while
//! keeping the file's formatting. [`Set::load`] reads the index and every atom's
//! `atom.toml` through a [`FileSource`] — the working tree ([`WorkTree`]) today, a git
//! tree later — and refuses two atoms with one label.
//!
//! ```
//! use atom::set::SetManifest;
//!
//! let set = SetManifest::from_str("[set]\npackages = [\"a\", \"./b/\"]\n", "ekala.toml").unwrap();
//! assert_eq!(set.packages[1].as_str(), "b");
//!
//! let error = SetManifest::from_str("[set]\npackages = [\"a\", \"a/\"]\n", "ekala.toml").unwrap_err();
//! assert!(error.to_string().starts_with("ekala.toml:2:18: package `a` is listed twice"));
//! ```

use std::{
    collections::BTreeMap,
    fmt, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use toml_edit::{Array, DocumentMut, Item, Table, Value};

use crate::{
    Label,
    diagnostic::Located,
    error::{Classify, Kind},
    manifest::{
        self, Manifest, RelativePath,
        span::{Seg, Spans, located_from_toml},
    },
};

/// The file name of a set's index.
pub const FILE_NAME: &str = "ekala.toml";

/// Why a set could not be read, parsed, edited or loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read; the I/O error names it.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The set has no `ekala.toml`.
    #[error("`{}` does not exist", path.display())]
    Missing {
        /// Where the file was looked for.
        path: PathBuf,
    },
    /// A file is invalid; the error points into it.
    #[error(transparent)]
    Invalid(Box<Located>),
    /// An atom's manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] manifest::Error),
    /// An edit needs a table or array where the file has another kind of value.
    #[error("`{key}` in `{}` is not a {expected}", path.display())]
    Uneditable {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What was expected there.
        expected: &'static str,
    },
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Io(_) => Kind::Environment,
            Error::Manifest(error) => error.kind(),
            Error::Missing { .. } | Error::Invalid(_) | Error::Uneditable { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Missing { .. } => Some("run `eka init` to make this directory a set".to_owned()),
            Error::Invalid(located) => located.hint(),
            Error::Manifest(error) => error.hint(),
            Error::Uneditable { .. } => Some("fix the file by hand, then retry".to_owned()),
            Error::Io(_) => None,
        }
    }
}

/// A parsed and validated `ekala.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetManifest {
    /// The directories of the set's atoms, in file order, without duplicates.
    pub packages: Vec<RelativePath>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    set: RawSet,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    #[serde(default)]
    packages: Vec<RelativePath>,
}

fn invalid(
    path: &Path,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: String,
    hint: &str,
) -> Error {
    Error::Invalid(Box::new(Located::new(
        path,
        text,
        span,
        message,
        Some(hint.to_owned()),
    )))
}

impl SetManifest {
    /// Parse and validate the text of an `ekala.toml`; `path` names it in errors.
    pub fn from_str(text: &str, path: impl AsRef<Path>) -> Result<SetManifest, Error> {
        let path = path.as_ref();
        let raw: RawFile = toml::from_str(text)
            .map_err(|error| Error::Invalid(Box::new(located_from_toml(path, text, &error))))?;
        let spans = Spans::new(text);
        let mut packages: Vec<RelativePath> = Vec::new();
        for (index, package) in raw.set.packages.into_iter().enumerate() {
            if packages.contains(&package) {
                let at = [Seg::Key("set"), Seg::Key("packages"), Seg::Index(index)];
                return Err(invalid(
                    path,
                    text,
                    spans.value(&at),
                    format!("package `{package}` is listed twice"),
                    "remove one of the entries",
                ));
            }
            packages.push(package);
        }
        Ok(SetManifest { packages })
    }

    /// Read, parse and validate an `ekala.toml`.
    pub fn read(path: impl AsRef<Path>) -> Result<SetManifest, Error> {
        let path = path.as_ref();
        let bytes = fs_err::read(path)?;
        let text = manifest::text_from_bytes(bytes, path)?;
        SetManifest::from_str(&text, path)
    }

    /// The text of a new set's `ekala.toml`.
    pub fn template() -> String {
        "[set]\npackages = []\n".to_owned()
    }
}

impl fmt::Display for SetManifest {
    /// The canonical text of this index (formatting of an existing file is not kept;
    /// use [`SetDocument`] for edits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut packages = Array::new();
        for package in &self.packages {
            packages.push(package.as_str());
        }
        let mut set = Table::new();
        set.insert("packages", toml_edit::value(packages));
        let mut document = DocumentMut::new();
        document.insert("set", Item::Table(set));
        write!(f, "{document}")
    }
}

/// The text of an `ekala.toml`, open for edits that keep its formatting.
#[derive(Debug, Clone)]
pub struct SetDocument {
    path: PathBuf,
    document: DocumentMut,
}

impl SetDocument {
    /// Parse `text` (which must be a valid `ekala.toml`); `path` names it in errors.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        SetManifest::from_str(text, path)?;
        let document = text.parse::<DocumentMut>().map_err(|error| {
            Error::Invalid(Box::new(Located::new(
                path,
                text,
                error.span(),
                error.message().to_owned(),
                None,
            )))
        })?;
        Ok(SetDocument {
            path: path.to_path_buf(),
            document,
        })
    }

    /// Read and parse an `ekala.toml`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = fs_err::read(path)?;
        SetDocument::parse(&manifest::text_from_bytes(bytes, path)?, path)
    }

    /// Validate the edited text and return its typed form.
    pub fn manifest(&self) -> Result<SetManifest, Error> {
        SetManifest::from_str(&self.document.to_string(), &self.path)
    }

    /// Append `package` to `packages`, styled like the entries already there; returns
    /// `false` (and changes nothing) when it is already listed.
    pub fn add_package(&mut self, package: &RelativePath) -> Result<bool, Error> {
        let uneditable = |key: &str, expected| Error::Uneditable {
            path: self.path.clone(),
            key: key.to_owned(),
            expected,
        };
        let root = self.document.as_table_mut();
        if !root.contains_key("set") {
            root.insert("set", Item::Table(Table::new()));
        }
        let set = root
            .get_mut("set")
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| uneditable("set", "table"))?;
        if !set.contains_key("packages") {
            set.insert("packages", toml_edit::value(Array::new()));
        }
        let packages = set
            .get_mut("packages")
            .and_then(Item::as_array_mut)
            .ok_or_else(|| uneditable("set.packages", "array"))?;
        let listed = packages
            .iter()
            .filter_map(Value::as_str)
            .any(|existing| RelativePath::parse(existing).as_ref() == Ok(package));
        if listed {
            return Ok(false);
        }
        let mut value = Value::from(package.as_str());
        let count = packages.len();
        if let Some(last) = count.checked_sub(1).and_then(|i| packages.get_mut(i)) {
            // Indent like the last entry, without copying a comment that precedes it.
            let prefix = last
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or(" ");
            let prefix = match prefix.rfind('\n') {
                Some(at) => format!("\n{}", &prefix[at + 1..]),
                None if prefix.is_empty() => " ".to_owned(),
                None => prefix.to_owned(),
            };
            // A line break after the last entry (no trailing comma) moves to the new one.
            let suffix = last.decor().suffix().and_then(|s| s.as_str()).unwrap_or("");
            let suffix = suffix.to_owned();
            if suffix.contains('\n') {
                last.decor_mut().set_suffix("");
            }
            value.decor_mut().set_prefix(prefix);
            if suffix.contains('\n') {
                value.decor_mut().set_suffix(suffix);
            }
        }
        packages.push_formatted(value);
        Ok(true)
    }
}

impl fmt::Display for SetDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.document)
    }
}

/// Where a set's files are read from: the working tree, or (later) a git tree.
pub trait FileSource {
    /// The bytes of the file at `path` (relative to the set's root), `None` if absent.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, io::Error>;

    /// How to name `path` in messages (default: as given).
    fn display_path(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// A set checked out in a directory.
#[derive(Debug, Clone)]
pub struct WorkTree {
    /// The set's root directory (holding `ekala.toml`).
    pub root: PathBuf,
}

impl FileSource for WorkTree {
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, io::Error> {
        match std::fs::read(self.root.join(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn display_path(&self, path: &Path) -> PathBuf {
        self.root.join(path)
    }
}

/// One atom of a loaded set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAtom {
    /// Its directory, relative to the set's root.
    pub path: RelativePath,
    /// Its manifest.
    pub manifest: Manifest,
}

/// A set: its index and every atom it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    /// The parsed `ekala.toml`.
    pub manifest: SetManifest,
    /// The atoms, in the order `ekala.toml` lists them.
    pub atoms: Vec<SetAtom>,
}

impl Set {
    /// Read `ekala.toml` and every listed atom's `atom.toml` from `source`.
    ///
    /// Refuses a listed directory without `atom.toml`, an atom inside another atom's
    /// directory, and two atoms with one label.
    pub fn load(source: &dyn FileSource) -> Result<Set, Error> {
        let read = |relative: &Path| -> Result<Option<(PathBuf, String)>, Error> {
            let shown = source.display_path(relative);
            match source.read(relative) {
                Ok(Some(bytes)) => Ok(Some((
                    shown.clone(),
                    manifest::text_from_bytes(bytes, &shown)?,
                ))),
                Ok(None) => Ok(None),
                Err(error) => Err(Error::Io(crate::fs::read_failed(&shown, error))),
            }
        };
        let index_path = Path::new(FILE_NAME);
        let Some((shown, index_text)) = read(index_path)? else {
            return Err(Error::Missing {
                path: source.display_path(index_path),
            });
        };
        let set = SetManifest::from_str(&index_text, &shown)?;
        let index_spans = Spans::new(&index_text);
        // An atom's commit takes its directory's whole tree, so an atom inside another
        // would be published twice, once as part of its parent: refuse the nesting.
        for (index, package) in set.packages.iter().enumerate() {
            if let Some(outer) = set.packages[..index]
                .iter()
                .chain(&set.packages[index + 1..])
                .find(|other| contains(other, package))
            {
                let at = [Seg::Key("set"), Seg::Key("packages"), Seg::Index(index)];
                return Err(invalid(
                    &shown,
                    &index_text,
                    index_spans.value(&at),
                    format!("package `{package}` is inside package `{outer}`"),
                    "an atom is published with its whole directory: move one of them so that no atom contains another",
                ));
            }
        }
        let mut atoms: Vec<SetAtom> = Vec::new();
        let mut labels: BTreeMap<Label, PathBuf> = BTreeMap::new();
        for (index, package) in set.packages.iter().enumerate() {
            let relative = package.join(manifest::FILE_NAME);
            let Some((atom_path, text)) = read(&relative)? else {
                let at = [Seg::Key("set"), Seg::Key("packages"), Seg::Index(index)];
                return Err(invalid(
                    &shown,
                    &index_text,
                    index_spans.value(&at),
                    format!("package `{package}` has no `{}`", manifest::FILE_NAME),
                    "create the atom with `eka new`, or remove the entry",
                ));
            };
            let atom = Manifest::from_str(&text, &atom_path)?;
            if let Some(first) = labels.get(&atom.package.label) {
                let spans = Spans::new(&text);
                return Err(invalid(
                    &atom_path,
                    &text,
                    spans.value(&[Seg::Key("package"), Seg::Key("label")]),
                    format!(
                        "label `{}` is already used by `{}`",
                        atom.package.label,
                        first.display()
                    ),
                    "labels are unique within a set: rename one of the atoms",
                ));
            }
            labels.insert(atom.package.label.clone(), atom_path);
            atoms.push(SetAtom {
                path: package.clone(),
                manifest: atom,
            });
        }
        Ok(Set {
            manifest: set,
            atoms,
        })
    }

    /// The atom with this label.
    pub fn atom(&self, label: &Label) -> Option<&SetAtom> {
        self.atoms
            .iter()
            .find(|atom| &atom.manifest.package.label == label)
    }
}

/// Whether directory `outer` strictly contains directory `inner` (both normalised).
fn contains(outer: &RelativePath, inner: &RelativePath) -> bool {
    if outer.as_str() == inner.as_str() {
        return false;
    }
    outer.is_root()
        || inner
            .as_str()
            .strip_prefix(outer.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_strict_containment_of_whole_components() {
        let path = |text: &str| RelativePath::parse(text).unwrap();
        assert!(contains(&path("a"), &path("a/b")));
        assert!(contains(&path("."), &path("a")));
        assert!(!contains(&path("a"), &path("ab")));
        assert!(!contains(&path("a/b"), &path("a")));
        assert!(!contains(&path("a"), &path("a")));
    }

    struct Memory(BTreeMap<PathBuf, Vec<u8>>);

    impl FileSource for Memory {
        fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, io::Error> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn atom_text(label: &str) -> Vec<u8> {
        format!("[package]\nlabel = \"{label}\"\nversion = \"1.0.0\"\n").into_bytes()
    }

    #[test]
    fn loads_atoms_in_order() {
        let files = Memory(BTreeMap::from([
            (
                PathBuf::from(FILE_NAME),
                b"[set]\npackages = [\"b\", \"a\"]\n".to_vec(),
            ),
            (PathBuf::from("b/atom.toml"), atom_text("bee")),
            (PathBuf::from("a/atom.toml"), atom_text("ay")),
        ]));
        let set = Set::load(&files).unwrap();
        let labels: Vec<_> = set
            .atoms
            .iter()
            .map(|a| a.manifest.package.label.as_str())
            .collect();
        assert_eq!(labels, ["bee", "ay"]);
    }

    #[test]
    fn a_root_atom_alone_loads_and_with_others_is_nested() {
        let files = |index: &str| {
            Memory(BTreeMap::from([
                (PathBuf::from(FILE_NAME), index.as_bytes().to_vec()),
                (PathBuf::from("b/atom.toml"), atom_text("bee")),
                (PathBuf::from("atom.toml"), atom_text("root")),
            ]))
        };
        let set = Set::load(&files("[set]\npackages = [\".\"]\n")).unwrap();
        assert!(
            set.atom(&Label::parse("root").unwrap())
                .is_some_and(|a| a.path.is_root())
        );
        let error = Set::load(&files("[set]\npackages = [\"b\", \".\"]\n")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("package `b` is inside package `.`"),
            "{error}"
        );
    }

    #[test]
    fn duplicate_labels_name_both_files() {
        let files = Memory(BTreeMap::from([
            (
                PathBuf::from(FILE_NAME),
                b"[set]\npackages = [\"a\", \"b\"]\n".to_vec(),
            ),
            (PathBuf::from("a/atom.toml"), atom_text("same")),
            (PathBuf::from("b/atom.toml"), atom_text("same")),
        ]));
        let message = Set::load(&files).unwrap_err().to_string();
        assert!(
            message.starts_with("b/atom.toml:2:9: label `same` is already used by `a/atom.toml`"),
            "{message}"
        );
    }

    #[test]
    fn missing_atom_points_at_the_entry() {
        let files = Memory(BTreeMap::from([(
            PathBuf::from(FILE_NAME),
            b"[set]\npackages = [\n  \"gone\",\n]\n".to_vec(),
        )]));
        let message = Set::load(&files).unwrap_err().to_string();
        assert!(
            message.starts_with("ekala.toml:3:3: package `gone` has no `atom.toml`"),
            "{message}"
        );
        assert!(matches!(
            Set::load(&Memory(BTreeMap::new())),
            Err(Error::Missing { .. })
        ));
    }

    #[test]
    fn add_package_follows_the_array_style() {
        let text = "# my set\n[set]\npackages = [\n    \"a\", # first\n    \"b\",\n]\n";
        let mut document = SetDocument::parse(text, FILE_NAME).unwrap();
        assert!(
            document
                .add_package(&RelativePath::parse("c").unwrap())
                .unwrap()
        );
        assert!(
            !document
                .add_package(&RelativePath::parse("./b/").unwrap())
                .unwrap()
        );
        assert_eq!(
            document.to_string(),
            "# my set\n[set]\npackages = [\n    \"a\", # first\n    \"b\",\n    \"c\",\n]\n"
        );
        let text = "[set]\npackages = [\n  \"a\"\n]\n";
        let mut document = SetDocument::parse(text, FILE_NAME).unwrap();
        document
            .add_package(&RelativePath::parse("b").unwrap())
            .unwrap();
        assert_eq!(
            document.to_string(),
            "[set]\npackages = [\n  \"a\",\n  \"b\"\n]\n"
        );
        let mut document = SetDocument::parse("[set]\npackages = [\"a\"]\n", FILE_NAME).unwrap();
        document
            .add_package(&RelativePath::parse("b").unwrap())
            .unwrap();
        assert_eq!(document.to_string(), "[set]\npackages = [\"a\", \"b\"]\n");
        let mut document = SetDocument::parse(&SetManifest::template(), FILE_NAME).unwrap();
        document
            .add_package(&RelativePath::parse("x").unwrap())
            .unwrap();
        assert_eq!(document.manifest().unwrap().packages.len(), 1);
    }

    #[test]
    fn canonical_text_round_trips() {
        let set =
            SetManifest::from_str("[set]\npackages = [\"./a\", \"b/c\"]\n", FILE_NAME).unwrap();
        assert_eq!(
            SetManifest::from_str(&set.to_string(), FILE_NAME).unwrap(),
            set
        );
    }
}
