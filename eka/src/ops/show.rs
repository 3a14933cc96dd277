//! `eka show <uri>`: one atom of a remote set (`<set-url>::label[@req]`), its published
//! versions filtered by the requirement, from the refs and manifests alone.
//!
//! It shares [`super::list`]'s [`Options`], [`Listing`] and [`Error`].
//!
//! ```no_run
//! use eka::ops::show;
//!
//! let options = show::Options {
//!     input: "https://example.org/set.git::hello@^1".into(),
//!     aliases: atom::uri::Aliases::builtin(),
//!     cache: "/home/me/.cache/eka".into(),
//!     offline: false,
//!     reporter: atom::progress::Silent::shared(),
//!     mirrors: Default::default(),
//! };
//! for atom in show::run(&options)?.atoms {
//!     println!("{} {:?}", atom.label, atom.versions);
//! }
//! # Ok::<(), eka::ops::show::Error>(())
//! ```

use atom::uri::{AtomUri, Source};

pub use super::list::{Error, Listing, Options};
use super::list::{collect, open_cache};

/// Show one atom (`<set-url>::label[@req]`), its versions filtered by the requirement.
pub fn run(options: &Options) -> Result<Listing, Error> {
    let uri = AtomUri::parse(&options.input, &options.aliases)?;
    let Source::Url(url) = &uri.source else {
        return Err(Error::NotRemote {
            input: options.input.clone(),
            hint: "name the set by URL or alias, e.g. `gh:owner/repo::label`",
        });
    };
    let cache = open_cache(options)?;
    let mut listing = collect(&cache, url, std::slice::from_ref(&uri.label), options)?;
    if let Some(requirement) = &uri.requirement {
        for atom in &mut listing.atoms {
            atom.versions.retain(|info| {
                semver::Version::parse(&info.version)
                    .is_ok_and(|version| requirement.matches(&version))
            });
        }
    }
    Ok(listing)
}
