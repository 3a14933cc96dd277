//! Checks on entry names and symlink targets, independent of where they sit in a tree.

use std::cmp::Ordering;

use crate::tree::Violation;

/// The longest symlink target accepted, in bytes (Linux's `PATH_MAX`).
pub(crate) const MAX_SYMLINK_TARGET: u64 = 4096;

/// Refuse names no checkout could write safely on Linux, macOS or Windows.
pub(crate) fn check_name(name: &[u8]) -> Result<(), Violation> {
    if name.is_empty() {
        return Err(Violation::EmptyName);
    }
    if name == b"." || name == b".." {
        return Err(Violation::DotName);
    }
    if name.contains(&b'/') {
        return Err(Violation::SlashInName);
    }
    if name.contains(&b'\\') {
        return Err(Violation::BackslashInName);
    }
    if name.contains(&0) {
        return Err(Violation::NulInName);
    }
    if is_git_dir_alias(name) {
        return Err(Violation::GitDirName);
    }
    Ok(())
}

/// Code points HFS+ ignores when comparing names (as git's `is_hfs_dotgit` lists them).
fn is_hfs_ignorable(character: char) -> bool {
    matches!(
        character,
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}'
    )
}

/// Whether a checkout on some file system would treat `name` as `.git`.
///
/// Covers any case (`.GIT`), HFS+ ignorable code points (`.g\u{200c}it`), NTFS
/// trailing dots and spaces (`.git.`, `.git `), NTFS streams (`.git::$INDEX_ALLOCATION`)
/// and the NTFS short name `git~1`.
fn is_git_dir_alias(name: &[u8]) -> bool {
    let folded: Vec<u8> = match std::str::from_utf8(name) {
        Ok(text) => text
            .chars()
            .filter(|&character| !is_hfs_ignorable(character))
            .collect::<String>()
            .into_bytes(),
        Err(_) => name.to_vec(),
    }
    .to_ascii_lowercase();
    let trimmed = trim_dots_and_spaces(&folded);
    if trimmed == b".git" || trimmed == b"git~1" {
        return true;
    }
    match folded.strip_prefix(b".git") {
        Some(rest) => trim_dots_and_spaces_start(rest).starts_with(b":"),
        None => false,
    }
}

fn trim_dots_and_spaces(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&byte| byte != b'.' && byte != b' ')
        .map_or(0, |index| index + 1);
    &bytes[..end]
}

fn trim_dots_and_spaces_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| byte != b'.' && byte != b' ')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// git's canonical order of tree entries: bytewise, a tree's name compared as if it
/// ended in `/`.
pub(crate) fn git_order(left: &[u8], left_tree: bool, right: &[u8], right_tree: bool) -> Ordering {
    let common = left.len().min(right.len());
    match left[..common].cmp(&right[..common]) {
        Ordering::Equal => {}
        other => return other,
    }
    let terminator = |tree: bool| if tree { b'/' } else { 0 };
    let left_next = left.get(common).copied().unwrap_or(terminator(left_tree));
    let right_next = right.get(common).copied().unwrap_or(terminator(right_tree));
    left_next.cmp(&right_next)
}

/// Check a symlink target on its own and return how many directories it climbs.
///
/// Accepted targets are relative, non-empty, free of NUL and `\`, and climb only with
/// leading `..` components: `../../lib/x` is fine, `lib/../../x` is refused because
/// `lib` could itself be a symlink, which would make the climb unpredictable. Whether
/// the climb stays inside the atom depends on the symlink's depth and is checked by
/// the walk.
pub(crate) fn check_symlink_target(target: &[u8]) -> Result<u32, Violation> {
    if target.is_empty() {
        return Err(Violation::SymlinkMalformed {
            reason: "the target is empty",
        });
    }
    if target.contains(&0) {
        return Err(Violation::SymlinkMalformed {
            reason: "the target contains NUL",
        });
    }
    if target.contains(&b'\\') {
        return Err(Violation::SymlinkMalformed {
            reason: "the target contains `\\`",
        });
    }
    let has_drive = target.len() >= 2 && target[0].is_ascii_alphabetic() && target[1] == b':';
    if target.starts_with(b"/") || has_drive {
        return Err(Violation::SymlinkAbsolute);
    }
    let mut climb: u32 = 0;
    let mut descended = false;
    for component in target.split(|&byte| byte == b'/') {
        match component {
            b"" | b"." => {}
            b".." if descended => {
                return Err(Violation::SymlinkMalformed {
                    reason: "`..` appears after a name; only leading `..` components are allowed",
                });
            }
            b".." => climb = climb.saturating_add(1),
            _ => descended = true,
        }
    }
    Ok(climb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_dir_aliases() {
        for name in [
            &b".git"[..],
            b".GIT",
            b".Git",
            b".git.",
            b".git ",
            b".git. .",
            b"git~1",
            b"GIT~1",
            b".git::$INDEX_ALLOCATION",
            ".g\u{200c}it".as_bytes(),
            "\u{feff}.git".as_bytes(),
        ] {
            assert_eq!(check_name(name), Err(Violation::GitDirName), "{name:?}");
        }
        for name in [
            &b".gitignore"[..],
            b".gitmodules",
            b"git",
            b"x.git",
            b"git~2",
            b".git2",
        ] {
            assert_eq!(check_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn order_matches_git() {
        // `a` (file) < `a-b` < `a` (tree, compared as `a/`) < `a0`.
        assert_eq!(git_order(b"a", false, b"a-b", false), Ordering::Less);
        assert_eq!(git_order(b"a-b", false, b"a", true), Ordering::Less);
        assert_eq!(git_order(b"a", true, b"a0", false), Ordering::Less);
        assert_eq!(git_order(b"a", true, b"a", true), Ordering::Equal);
    }

    #[test]
    fn symlink_targets() {
        assert_eq!(check_symlink_target(b"x"), Ok(0));
        assert_eq!(check_symlink_target(b"./../../lib/x/"), Ok(2));
        assert_eq!(
            check_symlink_target(b"/etc/passwd"),
            Err(Violation::SymlinkAbsolute)
        );
        assert_eq!(
            check_symlink_target(b"C:/x"),
            Err(Violation::SymlinkAbsolute)
        );
        assert!(matches!(
            check_symlink_target(b"lib/../../x"),
            Err(Violation::SymlinkMalformed { .. })
        ));
        assert!(matches!(
            check_symlink_target(b""),
            Err(Violation::SymlinkMalformed { .. })
        ));
    }
}
