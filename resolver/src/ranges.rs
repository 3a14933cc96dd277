//! Version sets: a semver [`VersionReq`] as exact [`Ranges`] of versions, and their
//! semver-like display.
//!
//! A requirement is converted in two steps. First each comparator becomes an interval
//! of versions ([`comparator_ranges`]) and the intervals are intersected; this follows
//! `semver`'s comparison rules but not its pre-release rule. Then every *available*
//! version on which the intervals and [`VersionReq::matches`] disagree is added or
//! removed one by one ([`exact_ranges`]). The solver only ever picks available
//! versions, so on them the set is exactly `VersionReq::matches`: a pre-release is in
//! only when a comparator names a pre-release of the same `major.minor.patch`, and
//! build metadata is ignored the way `semver` ignores it.

use std::{fmt::Write as _, ops::Bound};

use pubgrub::Ranges;
use semver::{Comparator, Op, Version, VersionReq};

/// A set of versions.
pub(crate) type VersionSet = Ranges<Version>;

/// `req` as ranges, exact on `available`.
pub(crate) fn exact_ranges(req: &VersionReq, available: &[Version]) -> VersionSet {
    let mut ranges = req
        .comparators
        .iter()
        .fold(VersionSet::full(), |acc, comparator| {
            acc.intersection(&comparator_ranges(comparator))
        });
    for version in available {
        let wanted = req.matches(version);
        if wanted != ranges.contains(version) {
            let single = VersionSet::singleton(version.clone());
            ranges = if wanted {
                ranges.union(&single)
            } else {
                ranges.intersection(&single.complement())
            };
        }
    }
    ranges
}

fn release(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

fn full_version(comparator: &Comparator, minor: u64, patch: u64) -> Version {
    Version {
        major: comparator.major,
        minor,
        patch,
        pre: comparator.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    }
}

/// `[low, high)` where `high` may overflow into "no upper bound".
fn half_open(low: Version, high: Option<Version>) -> VersionSet {
    match high {
        // Not `between`, which builds an invalid set when `low >= high`.
        Some(high) => {
            VersionSet::higher_than(low).intersection(&VersionSet::strictly_lower_than(high))
        }
        None => VersionSet::higher_than(low),
    }
}

/// The next major, or `None` on overflow.
fn next_major(major: u64) -> Option<Version> {
    major.checked_add(1).map(|major| release(major, 0, 0))
}

fn next_minor(major: u64, minor: u64) -> Option<Version> {
    minor.checked_add(1).map(|minor| release(major, minor, 0))
}

/// One comparator as an interval, following `semver`'s comparisons but ignoring its
/// pre-release rule (which [`exact_ranges`] applies).
fn comparator_ranges(comparator: &Comparator) -> VersionSet {
    let major = comparator.major;
    // The whole span a partial comparator names: `1` is `[1.0.0, 2.0.0)`, `1.2` is
    // `[1.2.0, 1.3.0)`, `1.2.3` is just that version.
    let span = |comparator: &Comparator| -> (Version, Option<Version>) {
        match (comparator.minor, comparator.patch) {
            (None, _) => (release(major, 0, 0), next_major(major)),
            (Some(minor), None) => (release(major, minor, 0), next_minor(major, minor)),
            (Some(minor), Some(patch)) => {
                let exact = full_version(comparator, minor, patch);
                (exact.clone(), Some(exact))
            }
        }
    };
    let is_full = comparator.patch.is_some();
    match comparator.op {
        Op::Exact | Op::Wildcard => {
            let (low, high) = span(comparator);
            if is_full {
                VersionSet::singleton(low)
            } else {
                half_open(low, high)
            }
        }
        Op::GreaterEq => VersionSet::higher_than(span(comparator).0),
        Op::Less => VersionSet::strictly_lower_than(span(comparator).0),
        Op::Greater => match span(comparator) {
            (low, _) if is_full => VersionSet::strictly_higher_than(low),
            (_, Some(high)) => VersionSet::higher_than(high),
            (_, None) => VersionSet::empty(),
        },
        Op::LessEq => match span(comparator) {
            (low, _) if is_full => VersionSet::lower_than(low),
            (_, Some(high)) => VersionSet::strictly_lower_than(high),
            (_, None) => VersionSet::full(),
        },
        Op::Tilde => match (comparator.minor, comparator.patch) {
            (Some(minor), Some(patch)) => half_open(
                full_version(comparator, minor, patch),
                next_minor(major, minor),
            ),
            _ => {
                let (low, high) = span(comparator);
                half_open(low, high)
            }
        },
        Op::Caret => match (comparator.minor, comparator.patch) {
            (None, _) => half_open(release(major, 0, 0), next_major(major)),
            (Some(minor), None) if major > 0 => {
                half_open(release(major, minor, 0), next_major(major))
            }
            (Some(minor), None) => half_open(release(0, minor, 0), next_minor(0, minor)),
            (Some(minor), Some(patch)) => {
                let low = full_version(comparator, minor, patch);
                let high = if major > 0 {
                    next_major(major)
                } else if minor > 0 {
                    next_minor(0, minor)
                } else {
                    patch.checked_add(1).map(|patch| release(0, 0, patch))
                };
                half_open(low, high)
            }
        },
        // `Op` is non-exhaustive: an operator added later is left to the exact fix-up.
        _ => VersionSet::full(),
    }
}

/// Whether a version is one `semver` hides unless asked for by name.
fn is_hidden(version: &Version) -> bool {
    !version.pre.is_empty() || !version.build.is_empty()
}

/// `ranges` in semver-like words: `>=1.2.0, <2.0.0`, `=1.0.0`, `<1.0.0 || >=2.0.0`,
/// `any version`, `no version`.
///
/// Holes made of a single excluded pre-release (or build) version, which the exact
/// conversion punches into an interval, are not shown: `^1` reads `>=1.0.0, <2.0.0`
/// whether or not `1.1.0-beta` exists.
pub(crate) fn display(ranges: &VersionSet) -> String {
    if ranges.is_empty() {
        return "no version".to_owned();
    }
    if ranges == &VersionSet::full() {
        return "any version".to_owned();
    }
    // Merge segments separated by a single hidden version.
    let mut segments: Vec<(Bound<Version>, Bound<Version>)> = Vec::new();
    for (low, high) in ranges.iter() {
        if let (Some((_, Bound::Excluded(previous_high))), Bound::Excluded(this_low)) =
            (segments.last_mut(), low)
            && previous_high == this_low
            && is_hidden(this_low)
        {
            if let Some(last) = segments.last_mut() {
                last.1 = high.clone();
            }
            continue;
        }
        segments.push((low.clone(), high.clone()));
    }
    let mut text = String::new();
    for (index, (low, high)) in segments.iter().enumerate() {
        if index > 0 {
            text.push_str(" || ");
        }
        let _ = write!(text, "{}", segment(low, high));
    }
    text
}

fn segment(low: &Bound<Version>, high: &Bound<Version>) -> String {
    match (low, high) {
        (Bound::Included(a), Bound::Included(b)) if a == b => format!("={a}"),
        (Bound::Unbounded, Bound::Unbounded) => "any version".to_owned(),
        (low, Bound::Unbounded) => lower(low),
        (Bound::Unbounded, high) => upper(high),
        (low, high) => format!("{}, {}", lower(low), upper(high)),
    }
}

fn lower(bound: &Bound<Version>) -> String {
    match bound {
        Bound::Included(version) => format!(">={version}"),
        Bound::Excluded(version) => format!(">{version}"),
        Bound::Unbounded => String::new(),
    }
}

fn upper(bound: &Bound<Version>) -> String {
    match bound {
        Bound::Included(version) => format!("<={version}"),
        Bound::Excluded(version) => format!("<{version}"),
        Bound::Unbounded => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(list: &[&str]) -> Vec<Version> {
        list.iter().map(|v| Version::parse(v).unwrap()).collect()
    }

    #[test]
    fn comparator_ranges_agree_with_semver_on_releases() {
        let reqs = [
            "^1", "^1.2", "^1.2.3", "^0.2", "^0.2.3", "^0.0.3", "^0", "^0.0", "~1", "~1.2",
            "~1.2.3", "=1", "=1.2", "=1.2.3", ">1", ">1.2", ">1.2.3", ">=1", ">=1.2", "<1", "<1.2",
            "<1.2.3", "<=1", "<=1.2", "<=1.2.3", "1.*", "1.2.*", "*", ">=1, <3",
        ];
        let mut all = Vec::new();
        for major in 0..4 {
            for minor in 0..4 {
                for patch in 0..4 {
                    all.push(release(major, minor, patch));
                }
            }
        }
        for req in reqs {
            let parsed = VersionReq::parse(req).unwrap();
            let ranges = parsed
                .comparators
                .iter()
                .fold(VersionSet::full(), |acc, c| {
                    acc.intersection(&comparator_ranges(c))
                });
            for version in &all {
                assert_eq!(
                    ranges.contains(version),
                    parsed.matches(version),
                    "`{req}` on `{version}`"
                );
            }
        }
    }

    #[test]
    fn exact_ranges_follow_the_pre_release_rule() {
        let available = versions(&["1.0.0", "1.1.0-beta", "1.1.0", "2.0.0-rc.1", "2.0.0"]);
        let caret = exact_ranges(&VersionReq::parse("^1").unwrap(), &available);
        assert!(!caret.contains(&available[1]), "`^1` excludes `1.1.0-beta`");
        assert!(caret.contains(&available[2]));
        assert_eq!(display(&caret), ">=1.0.0, <2.0.0");
        let named = exact_ranges(&VersionReq::parse(">=2.0.0-rc.1").unwrap(), &available);
        assert!(named.contains(&available[3]));
        assert!(!named.contains(&available[1]));
        for req in ["^1.1.0-beta", ">=1.0.0, <2.0.0-rc.1", "*", "=2.0.0-rc.1"] {
            let parsed = VersionReq::parse(req).unwrap();
            let ranges = exact_ranges(&parsed, &available);
            for version in &available {
                assert_eq!(
                    ranges.contains(version),
                    parsed.matches(version),
                    "{req} {version}"
                );
            }
        }
    }

    #[test]
    fn build_metadata_is_ignored_like_semver() {
        let available = versions(&["1.0.0+linux", "1.0.1"]);
        let ranges = exact_ranges(&VersionReq::parse("=1.0.0").unwrap(), &available);
        assert!(ranges.contains(&available[0]));
        assert!(!ranges.contains(&available[1]));
    }

    #[test]
    fn display_reads_like_semver() {
        let available = versions(&["1.0.0"]);
        let show = |req: &str| display(&exact_ranges(&VersionReq::parse(req).unwrap(), &available));
        assert_eq!(show("^1.2"), ">=1.2.0, <2.0.0");
        assert_eq!(show("=1.0.0"), "=1.0.0");
        assert_eq!(show("*"), "any version");
        assert_eq!(show("<1"), "<1.0.0");
        let complement = exact_ranges(&VersionReq::parse("^1").unwrap(), &[]).complement();
        assert_eq!(display(&complement), "<1.0.0 || >=2.0.0");
        assert_eq!(display(&VersionSet::empty()), "no version");
    }
}
