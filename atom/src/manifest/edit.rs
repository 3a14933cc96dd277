//! Format-preserving edits of `atom.toml`.
//!
//! A [`ManifestDocument`] holds the file's text as a `toml_edit` document: edits touch
//! only the keys they change, so comments, order and spacing elsewhere stay as the user
//! wrote them. New tables are appended at the end of the file; a table a removal leaves
//! empty is removed with it (and each parent it leaves empty).
//!
//! ```
//! use atom::{Label, manifest::{ManifestDocument, SetSource}};
//!
//! let text = "[package] # me\nlabel = \"a\"\nversion = \"1.0.0\"\n";
//! let mut document = ManifestDocument::parse(text, "atom.toml").unwrap();
//! let company = Label::parse("company").unwrap();
//! document.add_set(&company, &SetSource::Here).unwrap();
//! document
//!     .add_dependency(&company, &Label::parse("b").unwrap(), &"^1".parse().unwrap())
//!     .unwrap();
//! let edited = document.to_string();
//! assert!(edited.starts_with("[package] # me\n"));
//! assert!(edited.contains("[deps.from.company]\nb = \"^1\"\n"));
//! assert!(document.manifest().is_ok());
//! ```

use std::{
    fmt,
    path::{Path, PathBuf},
};

use semver::VersionReq;
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::{
    Error, GitSelector, Manifest, NixFetch, NixInput, SetSource, check_fetch_url, check_git_ref,
    read_text, span::HINT_MARK,
};
use crate::Label;

/// The checks the parser makes on a `[deps.direct.nix]` entry's URL and ref (messages
/// may carry a hint after [`HINT_MARK`]).
fn check_nix_input(input: &NixInput) -> Result<(), String> {
    let git = matches!(input.fetch, NixFetch::Git { .. });
    check_fetch_url(input.fetch.url(), git)?;
    if let NixFetch::Git {
        selector: GitSelector::Ref(reference),
        ..
    } = &input.fetch
    {
        check_git_ref(reference)?;
    }
    Ok(())
}

/// The text of an `atom.toml`, open for edits that keep its formatting.
#[derive(Debug, Clone)]
pub struct ManifestDocument {
    path: PathBuf,
    document: DocumentMut,
}

impl ManifestDocument {
    /// Parse `text` (which must be a valid manifest); `path` names it in errors.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        Manifest::from_str(text, path)?;
        let document = text.parse::<DocumentMut>().map_err(|error| {
            Error::Invalid(Box::new(crate::diagnostic::Located::new(
                path,
                text,
                error.span(),
                error.message().to_owned(),
                None,
            )))
        })?;
        Ok(ManifestDocument {
            path: path.to_path_buf(),
            document,
        })
    }

    /// Read and parse an `atom.toml`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        ManifestDocument::parse(&read_text(path)?, path)
    }

    /// The file this document was read from (or named after).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Validate the edited text and return its typed form.
    pub fn manifest(&self) -> Result<Manifest, Error> {
        Manifest::from_str(&self.document.to_string(), &self.path)
    }

    /// Declare (or re-point) the set `name`; returns whether the text changed.
    pub fn add_set(&mut self, name: &Label, source: &SetSource) -> Result<bool, Error> {
        let value = match source {
            SetSource::Here => Value::from(super::HERE),
            SetSource::Url(url) => Value::from(url.as_str()),
            SetSource::Mirrors(urls) => Value::Array(urls.iter().map(|url| url.as_str()).collect()),
        };
        let table = table_at(
            self.document.as_table_mut(),
            &["package", "sets"],
            &self.path,
        )?;
        Ok(set_value(table, name, value))
    }

    /// Require `label` from set `set` at `requirement`; returns whether the text changed.
    ///
    /// The set must already be declared in `[package.sets]`.
    pub fn add_dependency(
        &mut self,
        set: &Label,
        label: &Label,
        requirement: &VersionReq,
    ) -> Result<bool, Error> {
        let sets = self
            .document
            .get("package")
            .and_then(|package| package.get("sets"))
            .and_then(Item::as_table_like);
        if sets.and_then(|sets| find_key(sets, set)).is_none() {
            return Err(Error::UndeclaredSet {
                path: self.path.clone(),
                set: set.to_string(),
            });
        }
        let from = table_at(self.document.as_table_mut(), &["deps", "from"], &self.path)?;
        let key = find_key(from, set).unwrap_or_else(|| set.to_string());
        let table = child_table(from, &key).ok_or_else(|| Error::NotATable {
            path: self.path.clone(),
            key: format!("deps.from.{key}"),
        })?;
        Ok(set_value(
            table,
            label,
            Value::from(requirement.to_string()),
        ))
    }

    /// Drop `label` from every set it is required from; returns whether it was there.
    pub fn remove_dependency(&mut self, label: &Label) -> bool {
        let Some(from) = self
            .document
            .get_mut("deps")
            .and_then(|deps| deps.get_mut("from"))
            .and_then(Item::as_table_like_mut)
        else {
            return false;
        };
        let mut emptied = Vec::new();
        for (set, deps) in from.iter_mut() {
            if let Some(deps) = deps.as_table_like_mut() {
                let mut removed = false;
                while let Some(key) = find_key(deps, label) {
                    deps.remove(&key);
                    removed = true;
                }
                if removed {
                    emptied.push(set.get().to_owned());
                }
            }
        }
        for set in &emptied {
            self.prune_empty(&["deps", "from", set]);
        }
        !emptied.is_empty()
    }

    /// Remove the table at `path` if it is empty, then each parent on the path that
    /// became empty in turn (`[deps.from.<set>]`, `[deps.from]`, `direct = {}`,
    /// `[deps]`), so a removal leaves no empty table behind.
    fn prune_empty(&mut self, path: &[&str]) {
        for depth in (1..=path.len()).rev() {
            let (parent_path, key) = (&path[..depth - 1], path[depth - 1]);
            let mut parent: Option<&mut dyn TableLike> = Some(self.document.as_table_mut());
            for segment in parent_path {
                parent = parent
                    .and_then(|table| table.get_mut(segment))
                    .and_then(Item::as_table_like_mut);
            }
            let Some(parent) = parent else { return };
            let empty = parent
                .get(key)
                .and_then(Item::as_table_like)
                .is_some_and(TableLike::is_empty);
            if !empty {
                return;
            }
            parent.remove(key);
        }
    }

    /// Add (or replace) the direct Nix input `name`; returns whether the text changed.
    ///
    /// The input is checked as the parser checks `[deps.direct.nix]` first: an input the
    /// manifest would refuse is [`Error::InvalidEntry`], naming the entry, and the
    /// document is left as it was (a located error would point into text that is not
    /// in the file).
    pub fn add_nix_input(&mut self, name: &Label, input: &NixInput) -> Result<bool, Error> {
        check_nix_input(input).map_err(|message| {
            let (message, hint) = match message.split_once(HINT_MARK) {
                Some((message, hint)) => (message.to_owned(), Some(hint.to_owned())),
                None => (message, None),
            };
            Error::InvalidEntry {
                path: self.path.clone(),
                key: format!("deps.direct.nix.{name}"),
                message,
                hint,
            }
        })?;
        let mut inline = InlineTable::new();
        let (kind, url) = (input.fetch.kind(), input.fetch.url());
        inline.insert(kind, Value::from(url));
        if let NixFetch::Git { selector, .. } = &input.fetch {
            match selector {
                GitSelector::Ref(reference) => {
                    inline.insert("ref", Value::from(reference.as_str()))
                }
                GitSelector::Version(version) => {
                    inline.insert("version", Value::from(version.to_string()))
                }
            };
        }
        if input.flake {
            inline.insert("flake", Value::from(true));
        }
        let path = ["deps", "direct", "nix"];
        let table = table_at(self.document.as_table_mut(), &path, &self.path)?;
        Ok(set_value(table, name, Value::InlineTable(inline)))
    }

    /// Drop the direct Nix input `name`; returns whether it was there.
    pub fn remove_nix_input(&mut self, name: &Label) -> bool {
        let Some(nix) = self
            .document
            .get_mut("deps")
            .and_then(|deps| deps.get_mut("direct"))
            .and_then(|direct| direct.get_mut("nix"))
            .and_then(Item::as_table_like_mut)
        else {
            return false;
        };
        let mut removed = false;
        while let Some(key) = find_key(nix, name) {
            nix.remove(&key);
            removed = true;
        }
        if removed {
            self.prune_empty(&["deps", "direct", "nix"]);
        }
        removed
    }
}

impl fmt::Display for ManifestDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.document)
    }
}

/// The key of `table` naming `label` once normalised (keys may be spelled differently).
fn find_key(table: &dyn TableLike, label: &Label) -> Option<String> {
    table
        .iter()
        .map(|(key, _)| key)
        .find(|key| Label::parse(key).is_ok_and(|parsed| &parsed == label))
        .map(str::to_owned)
}

/// The table at `path` under `root`, created (without a header of its own while it
/// holds only sub-tables) where missing.
fn table_at<'t>(
    root: &'t mut dyn TableLike,
    path: &[&str],
    file: &Path,
) -> Result<&'t mut dyn TableLike, Error> {
    let mut table = root;
    for (depth, segment) in path.iter().enumerate() {
        table = child_table(table, segment).ok_or_else(|| Error::NotATable {
            path: file.to_path_buf(),
            key: path[..=depth].join("."),
        })?;
    }
    Ok(table)
}

fn child_table<'t>(table: &'t mut dyn TableLike, key: &str) -> Option<&'t mut dyn TableLike> {
    if !table.contains_key(key) {
        let mut child = Table::new();
        child.set_implicit(true);
        table.insert(key, Item::Table(child));
    }
    table.get_mut(key).and_then(Item::as_table_like_mut)
}

/// Set `label` to `value` in `table`, keeping the existing entry's key and decoration.
fn set_value(table: &mut dyn TableLike, label: &Label, mut value: Value) -> bool {
    match find_key(table, label).and_then(|key| table.get_mut(&key)) {
        Some(Item::Value(old)) => {
            let mut bare = old.clone();
            bare.decor_mut().clear();
            if bare.to_string() == value.to_string() {
                return false;
            }
            *value.decor_mut() = old.decor().clone();
            *old = value;
            true
        }
        Some(other) => {
            *other = Item::Value(value);
            true
        }
        None => {
            table.insert(label.as_str(), Item::Value(value));
            true
        }
    }
}
