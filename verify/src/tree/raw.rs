//! A parser of raw git tree object bytes that keeps the mode exactly as written.
//!
//! gix's decoded tree entries normalise modes (a zero-padded `040000` reads as a tree);
//! this parser hands back the mode bytes untouched so that [`classify_mode`] can refuse
//! anything git itself would not write.

use crate::content_hash::EntryKind;
use crate::tree::Violation;

/// One entry of a raw tree object.
pub(crate) struct RawEntry<'a> {
    /// The mode exactly as written (ASCII digits, in theory).
    pub(crate) mode: &'a [u8],
    /// The name bytes, without the terminating NUL.
    pub(crate) name: &'a [u8],
    /// The raw object id bytes.
    pub(crate) id: &'a [u8],
}

/// Parse the entry starting at `*position`, advancing it; `None` at the end of `data`.
pub(crate) fn next_entry<'a>(
    data: &'a [u8],
    position: &mut usize,
    id_len: usize,
) -> Option<Result<RawEntry<'a>, Violation>> {
    let rest = data.get(*position..)?;
    if rest.is_empty() {
        return None;
    }
    let Some(space) = rest.iter().position(|&byte| byte == b' ') else {
        return Some(Err(Violation::MalformedTree {
            reason: "entry without a space after its mode",
        }));
    };
    let mode = &rest[..space];
    let after_mode = &rest[space + 1..];
    let Some(nul) = after_mode.iter().position(|&byte| byte == 0) else {
        return Some(Err(Violation::MalformedTree {
            reason: "entry name without a terminating NUL",
        }));
    };
    let name = &after_mode[..nul];
    let Some(id) = after_mode.get(nul + 1..nul + 1 + id_len) else {
        return Some(Err(Violation::MalformedTree {
            reason: "entry with a truncated object id",
        }));
    };
    *position += space + 1 + nul + 1 + id_len;
    Some(Ok(RawEntry { mode, name, id }))
}

/// What a raw mode means, refusing everything but the four modes git writes today.
pub(crate) fn classify_mode(mode: &[u8]) -> Result<EntryKind, Violation> {
    match mode {
        b"100644" => Ok(EntryKind::File),
        b"100755" => Ok(EntryKind::Executable),
        b"120000" => Ok(EntryKind::Symlink),
        b"40000" => Ok(EntryKind::Tree),
        b"160000" => Err(Violation::Gitlink),
        other => Err(Violation::BadMode {
            mode: String::from_utf8_lossy(other).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_stops() {
        let mut data = b"100644 a\0".to_vec();
        data.extend([7u8; 20]);
        data.extend(b"40000 dir\0");
        data.extend([9u8; 20]);
        let mut position = 0;
        let first = next_entry(&data, &mut position, 20).unwrap().unwrap();
        assert_eq!((first.mode, first.name), (&b"100644"[..], &b"a"[..]));
        let second = next_entry(&data, &mut position, 20).unwrap().unwrap();
        assert_eq!(
            (second.mode, second.name, second.id),
            (&b"40000"[..], &b"dir"[..], &[9u8; 20][..])
        );
        assert!(next_entry(&data, &mut position, 20).is_none());
    }

    #[test]
    fn refuses_truncation() {
        let mut position = 0;
        assert!(matches!(
            next_entry(b"100644 a\0abc", &mut position, 20),
            Some(Err(Violation::MalformedTree { .. }))
        ));
    }

    #[test]
    fn modes_are_exact() {
        assert_eq!(classify_mode(b"40000"), Ok(EntryKind::Tree));
        assert!(matches!(
            classify_mode(b"040000"),
            Err(Violation::BadMode { .. })
        ));
        assert!(matches!(
            classify_mode(b"100664"),
            Err(Violation::BadMode { .. })
        ));
        assert_eq!(classify_mode(b"160000"), Err(Violation::Gitlink));
    }
}
