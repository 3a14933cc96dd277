//! The trust policy: OpenSSH `allowed_signers` files and revoked key lists.

use std::{
    ops::Range,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use atom::diagnostic::Located;
use ssh_key::{PublicKey, public::KeyData};

use super::{Error, Verdict};

/// A point in time written in an allowed signers option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The option's value as written (`20250101`, `202501011200Z`, …).
    pub text: String,
    /// The instant it names.
    pub at: SystemTime,
}

/// One line of an allowed signers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSigner {
    /// The principals field: comma-separated patterns (`*` and `?` wildcards, `!`
    /// negation), verbatim.
    pub principals: String,
    /// The `namespaces="..."` option: comma-separated patterns; `None` allows all.
    pub namespaces: Option<String>,
    /// The `valid-after` option.
    pub valid_after: Option<Bound>,
    /// The `valid-before` option.
    pub valid_before: Option<Bound>,
    /// The allowed key.
    pub key: PublicKey,
    /// The 1-based line it was read from.
    pub line: usize,
}

/// A line of an allowed signers file that is read but never matches, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The 1-based line.
    pub line: usize,
    /// Why it is ignored, as a lowercase phrase.
    pub reason: &'static str,
}

/// The allowed signers of a set, in OpenSSH's `allowed_signers` format (see
/// `ssh-keygen(1)`, "ALLOWED SIGNERS"), plus the keys revoked for it.
///
/// Each line is `principals [options] keytype base64 [comment]`; blank lines and lines
/// starting with `#` are skipped. Options: `namespaces="git,..."`, `valid-after=TIME`,
/// `valid-before=TIME` (TIME is `YYYYMMDD[HHMM[SS]]`, optionally followed by `Z`; eka
/// reads every TIME as UTC, where `ssh-keygen` reads one without `Z` as local time) and
/// `cert-authority`, whose lines are kept as [`Ignored`] (certificates are not
/// supported). Any other option is an error. Lines with a key algorithm `ssh-key` does
/// not know are kept as [`Ignored`] too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    signers: Vec<AllowedSigner>,
    ignored: Vec<Ignored>,
    revoked: RevokedKeys,
}

impl AllowedSigners {
    /// Parse an allowed signers file's text; `path` names it in errors.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, Error> {
        let path = path.as_ref();
        let mut allowed = Self::default();
        for (number, start, line) in lines(text) {
            let place = LinePlace { path, text, start };
            match read_signer_line(&place, number, line)? {
                SignerLine::Blank => {}
                SignerLine::Ignored(ignored) => allowed.ignored.push(ignored),
                SignerLine::Signer(signer) => allowed.signers.push(*signer),
            }
        }
        Ok(allowed)
    }

    /// Read and parse an allowed signers file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = read(path)?;
        Self::parse(path, &text)
    }

    /// The policy of an `eka.toml` trust entry named `name`: its `allowed_signers`
    /// lines, and its `revoked_keys`, key lines and files of key lines alike.
    pub fn from_config(name: &str, trust: &atom::config::Trust) -> Result<Self, Error> {
        let label = format!("eka.toml [trust.{name}]");
        let allowed = Self::parse(&label, &trust.allowed_signers.join("\n"))?;
        let mut revoked = RevokedKeys::default();
        for entry in &trust.revoked_keys {
            let more = match entry {
                atom::config::RevokedKeys::Line(line) => {
                    RevokedKeys::parse(format!("{label} revoked_keys"), line)?
                }
                atom::config::RevokedKeys::File(path) => RevokedKeys::load(path)?,
            };
            revoked.keys.extend(more.keys);
        }
        Ok(allowed.with_revoked(revoked))
    }

    /// The same signers, with `revoked` refused even when listed.
    pub fn with_revoked(mut self, revoked: RevokedKeys) -> Self {
        self.revoked = revoked;
        self
    }

    /// The signers, in file order.
    pub fn signers(&self) -> &[AllowedSigner] {
        &self.signers
    }

    /// The lines read but ignored (`cert-authority`).
    pub fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }

    /// The revoked keys.
    pub fn revoked(&self) -> &RevokedKeys {
        &self.revoked
    }

    /// Judge a key whose signature is good: is it allowed for `principal` (for any
    /// principal if `None`, as `git verify-commit` judges it: negated patterns only
    /// exclude) in `namespace` at `now`? When several lines list the key, one that allows
    /// it suffices; otherwise the most specific refusal is reported.
    pub(super) fn judge(
        &self,
        key: &KeyData,
        fingerprint: &str,
        principal: Option<&str>,
        namespace: &str,
        now: SystemTime,
    ) -> Result<Verdict, Error> {
        let mut refusal: Option<(u8, Error)> = None;
        for signer in self
            .signers
            .iter()
            .filter(|signer| signer.key.key_data() == key)
        {
            let Some((rank, error)) = signer.refusal(fingerprint, principal, namespace, now) else {
                return Ok(Verdict {
                    principal: principal.unwrap_or(&signer.principals).to_owned(),
                    fingerprint: fingerprint.to_owned(),
                });
            };
            if refusal.as_ref().is_none_or(|(best, _)| rank > *best) {
                refusal = Some((rank, error));
            }
        }
        Err(match refusal {
            Some((_, error)) => error,
            None => Error::UnknownKey {
                fingerprint: fingerprint.to_owned(),
            },
        })
    }
}

impl AllowedSigner {
    /// Why this line does not allow its key for `principal` in `namespace` at `now`,
    /// with a rank (higher is more specific) so [`AllowedSigners::judge`] can report the
    /// most specific refusal among several lines; `None` when the line allows it.
    fn refusal(
        &self,
        fingerprint: &str,
        principal: Option<&str>,
        namespace: &str,
        now: SystemTime,
    ) -> Option<(u8, Error)> {
        if let Some(principal) = principal
            && !match_pattern_list(principal, &self.principals)
        {
            return Some((
                0,
                Error::NotAllowed {
                    fingerprint: fingerprint.to_owned(),
                    what: format!("for principal `{principal}`"),
                },
            ));
        }
        if let Some(namespaces) = &self.namespaces
            && !match_pattern_list(namespace, namespaces)
        {
            return Some((
                1,
                Error::NotAllowed {
                    fingerprint: fingerprint.to_owned(),
                    what: format!("in namespace `{namespace}`"),
                },
            ));
        }
        if let Some(after) = &self.valid_after
            && now < after.at
        {
            return Some((
                2,
                Error::NotYetValid {
                    fingerprint: fingerprint.to_owned(),
                    principal: self.principals.clone(),
                    valid_after: after.text.clone(),
                },
            ));
        }
        if let Some(before) = &self.valid_before
            && now > before.at
        {
            return Some((
                2,
                Error::Expired {
                    fingerprint: fingerprint.to_owned(),
                    principal: self.principals.clone(),
                    valid_before: before.text.clone(),
                },
            ));
        }
        if principal.is_none() && !names_a_principal(&self.principals) {
            return Some((
                0,
                Error::NotAllowed {
                    fingerprint: fingerprint.to_owned(),
                    what: format!(
                        "for any principal: its principals `{}` only exclude",
                        self.principals
                    ),
                },
            ));
        }
        None
    }
}

/// Keys refused whatever the allowed signers say: one public key per line
/// (`keytype base64 [comment]`), blank lines and `#` comments skipped. (OpenSSH's
/// binary key revocation lists are not supported.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevokedKeys {
    keys: Vec<PublicKey>,
}

impl RevokedKeys {
    /// Parse a revoked keys file's text; `path` names it in errors.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, Error> {
        let path = path.as_ref();
        let mut keys = Vec::new();
        for (_, start, line) in lines(text) {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let offset = start + (line.len() - line.trim_start().len());
            match PublicKey::from_openssh(trimmed) {
                Ok(key) => keys.push(key),
                // A key eka cannot read never verifies, revoked or not.
                Err(ssh_key::Error::AlgorithmUnknown) => {}
                Err(error) => {
                    return Err(Error::Policy(Box::new(Located::new(
                        path,
                        text,
                        Some(offset..offset + trimmed.len()),
                        format!("invalid revoked public key: {error}"),
                        Some(
                            "write one public key per line: `ssh-ed25519 AAAA... [comment]`".into(),
                        ),
                    ))));
                }
            }
        }
        Ok(Self { keys })
    }

    /// Read and parse a revoked keys file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = read(path)?;
        Self::parse(path, &text)
    }

    /// Whether `key` is revoked.
    pub fn contains(&self, key: &KeyData) -> bool {
        self.keys.iter().any(|revoked| revoked.key_data() == key)
    }

    /// The revoked keys, in file order.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// Where a line of an allowed signers file sits, so its errors can point into it.
struct LinePlace<'a> {
    path: &'a Path,
    text: &'a str,
    start: usize,
}

impl LinePlace<'_> {
    /// The error `message` (with its `hint`) located at `range` of the line, so the
    /// report shows the file and the offending text.
    fn fail(&self, range: Range<usize>, message: String, hint: Option<&str>) -> Error {
        Error::Policy(Box::new(Located::new(
            self.path,
            self.text,
            Some(self.start + range.start..self.start + range.end),
            message,
            hint.map(str::to_owned),
        )))
    }
}

/// What one line of an allowed signers file contributes.
enum SignerLine {
    /// A blank or comment line: nothing.
    Blank,
    /// A line read but never matching.
    Ignored(Ignored),
    /// An allowed signer.
    Signer(Box<AllowedSigner>),
}

/// Read line `number` of an allowed signers file: its principals, its key fields, its
/// key and its options, in the order OpenSSH reads them.
fn read_signer_line(place: &LinePlace<'_>, number: usize, line: &str) -> Result<SignerLine, Error> {
    let mut cursor = Cursor::new(line);
    let Some(principals) = cursor.token() else {
        return Ok(SignerLine::Blank);
    };
    if principals.text.starts_with('#') {
        return Ok(SignerLine::Blank);
    }
    let principals_text = principals.text.trim_matches('"').to_owned();
    let (options, key_type, base64) = split_key_fields(place, line, &mut cursor, principals)?;
    let Some(key) = read_signer_key(place, &key_type, &base64)? else {
        return Ok(SignerLine::Ignored(Ignored {
            line: number,
            reason: "its key algorithm is unknown",
        }));
    };
    let mut signer = AllowedSigner {
        principals: principals_text,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key,
        line: number,
    };
    let certificate_authority = match options {
        Some(options) => apply_options(place, &options, &mut signer)?,
        None => false,
    };
    Ok(if certificate_authority {
        SignerLine::Ignored(Ignored {
            line: number,
            reason: "certificate authorities are not supported",
        })
    } else {
        SignerLine::Signer(Box::new(signer))
    })
}

/// Take the fields after the principals: the options if any, the key type and the
/// base64 key. As OpenSSH does, the first token is options unless it starts a key.
fn split_key_fields<'a>(
    place: &LinePlace<'_>,
    line: &'a str,
    cursor: &mut Cursor<'a>,
    principals: Token<'a>,
) -> Result<(Option<Token<'a>>, Token<'a>, Token<'a>), Error> {
    let Some(first) = cursor.token() else {
        return Err(place.fail(
            principals.range,
            "allowed signer has no key".into(),
            Some("write `principal ssh-ed25519 AAAA...`"),
        ));
    };
    let starts_key = looks_like_key_type(first.text) || {
        let mut lookahead = Cursor {
            line,
            position: cursor.position,
        };
        lookahead.token().is_some_and(|base64| {
            PublicKey::from_openssh(&format!("{} {}", first.text, base64.text)).is_ok()
        })
    };
    let (options, key_type) = if starts_key {
        (None, first)
    } else {
        let Some(key_type) = cursor.token() else {
            return Err(place.fail(
                first.range,
                format!("allowed signer has no key after `{}`", first.text),
                Some("write `principal [options] ssh-ed25519 AAAA...`"),
            ));
        };
        (Some(first), key_type)
    };
    let Some(base64) = cursor.token() else {
        return Err(place.fail(
            key_type.range,
            format!("`{}` is not followed by a key", key_type.text),
            None,
        ));
    };
    Ok((options, key_type, base64))
}

/// Read the signer's public key; `None` when its algorithm is unknown, since a key eka
/// cannot even read cannot have made a signature eka accepts.
fn read_signer_key(
    place: &LinePlace<'_>,
    key_type: &Token<'_>,
    base64: &Token<'_>,
) -> Result<Option<PublicKey>, Error> {
    match PublicKey::from_openssh(&format!("{} {}", key_type.text, base64.text)) {
        Ok(key) => Ok(Some(key)),
        Err(ssh_key::Error::AlgorithmUnknown) => Ok(None),
        Err(error) => Err(place.fail(
            key_type.range.start..base64.range.end,
            format!("invalid public key: {error}"),
            None,
        )),
    }
}

/// Apply the line's options to `signer`; returns whether `cert-authority` was among
/// them, which makes the line ignored (after its other options are still checked).
fn apply_options(
    place: &LinePlace<'_>,
    options: &Token<'_>,
    signer: &mut AllowedSigner,
) -> Result<bool, Error> {
    let mut certificate_authority = false;
    for (range, option) in split_options(options.text, options.range.start) {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(dequote(value))),
            None => (option, None),
        };
        let value_of = |name: &str| {
            value.clone().ok_or_else(|| {
                place.fail(
                    range.clone(),
                    format!("option `{name}` needs a value"),
                    None,
                )
            })
        };
        match name.to_ascii_lowercase().as_str() {
            "cert-authority" => certificate_authority = true,
            "namespaces" => signer.namespaces = Some(value_of("namespaces")?),
            "valid-after" | "valid-before" => {
                let text = value_of(name)?;
                let bound = Some(read_bound(place, range, text)?);
                if name.eq_ignore_ascii_case("valid-after") {
                    signer.valid_after = bound;
                } else {
                    signer.valid_before = bound;
                }
            }
            _ => {
                return Err(place.fail(
                    range,
                    format!("unknown allowed signers option `{name}`"),
                    Some(
                        "the options are `namespaces`, `valid-after`, `valid-before` and `cert-authority`",
                    ),
                ));
            }
        }
    }
    Ok(certificate_authority)
}

/// Read a `valid-after`/`valid-before` value written at `range` into the instant it
/// names, keeping the text for messages.
fn read_bound(place: &LinePlace<'_>, range: Range<usize>, text: String) -> Result<Bound, Error> {
    let at = parse_time(&text).ok_or_else(|| {
        place.fail(
            range,
            format!("invalid time `{text}`"),
            Some(
                "write `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally followed by `Z`",
            ),
        )
    })?;
    Ok(Bound { text, at })
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::ReadPolicy {
        path: PathBuf::from(path),
        source,
    })
}

/// `(1-based number, byte offset, line without its line break)`.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n')
        .enumerate()
        .map(move |(index, line)| {
            let start = offset;
            offset += line.len();
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            (index + 1, start, line)
        })
}

fn looks_like_key_type(token: &str) -> bool {
    ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-"]
        .iter()
        .any(|prefix| token.starts_with(prefix))
}

struct Token<'a> {
    text: &'a str,
    range: Range<usize>,
}

/// Whitespace-separated tokens where double quotes protect whitespace.
struct Cursor<'a> {
    line: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(line: &'a str) -> Self {
        Self { line, position: 0 }
    }

    fn token(&mut self) -> Option<Token<'a>> {
        let rest = &self.line[self.position..];
        let start = self.position + (rest.len() - rest.trim_start().len());
        let mut quoted = false;
        let mut end = self.line.len();
        for (index, character) in self.line[start..].char_indices() {
            match character {
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    end = start + index;
                    break;
                }
                _ => {}
            }
        }
        self.position = end;
        (start < end).then(|| Token {
            text: &self.line[start..end],
            range: start..end,
        })
    }
}

/// Split `a,b="x,y",c` at commas outside quotes, with each piece's range in the line.
fn split_options(options: &str, offset: usize) -> Vec<(Range<usize>, &str)> {
    let mut pieces = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (index, character) in options.char_indices() {
        match character {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pieces.push((offset + start..offset + index, &options[start..index]));
                start = index + 1;
            }
            _ => {}
        }
    }
    pieces.push((offset + start..offset + options.len(), &options[start..]));
    pieces
}

fn dequote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|value| value.strip_suffix('"'))
        .unwrap_or(value)
        .to_owned()
}

/// `YYYYMMDD[HHMM[SS]][Z]`, read as UTC.
fn parse_time(text: &str) -> Option<SystemTime> {
    let digits = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix('z'))
        .unwrap_or(text);
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let number = |range: Range<usize>| digits.get(range).and_then(|part| part.parse::<u32>().ok());
    let year = number(0..4)?;
    let month = number(4..6)?;
    let day = number(6..8)?;
    let hour = if digits.len() >= 12 {
        number(8..10)?
    } else {
        0
    };
    let minute = if digits.len() >= 12 {
        number(10..12)?
    } else {
        0
    };
    let second = if digits.len() == 14 {
        number(12..14)?
    } else {
        0
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + u64::from(hour * 3600 + minute * 60 + second);
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date at or after 1970.
fn days_from_civil(year: u32, month: u32, day: u32) -> u64 {
    let (year, month) = if month <= 2 {
        (u64::from(year) - 1, u64::from(month) + 9)
    } else {
        (u64::from(year), u64::from(month) - 3)
    };
    let era = year / 400;
    let year_of_era = year % 400;
    let day_of_year = (153 * month + 2) / 5 + u64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Whether a principals field allows at least one principal, judged as `git verify-commit`
/// judges it: `ssh-keygen -Y find-principals` lists each comma-separated pattern of the
/// line, verbatim, and git asks `ssh-keygen -Y verify -I <pattern>` for each; one must
/// match the field as a pattern list. So a field of negated patterns only
/// (`!dev@example.org`) allows nobody, and `a@x,!a@x` allows nobody either.
fn names_a_principal(principals: &str) -> bool {
    principals
        .split(',')
        .filter(|candidate| !candidate.is_empty())
        .any(|candidate| match_pattern_list(candidate, principals))
}

/// OpenSSH's pattern lists: comma-separated patterns, `!` negates; a negated match
/// refuses whatever else matches.
fn match_pattern_list(subject: &str, list: &str) -> bool {
    let mut matched = false;
    for pattern in list.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(pattern) => (true, pattern),
            None => (false, pattern),
        };
        if match_pattern(subject.as_bytes(), pattern.as_bytes()) {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

/// `*` matches any run, `?` any one byte.
fn match_pattern(subject: &[u8], pattern: &[u8]) -> bool {
    let (mut s, mut p) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while s < subject.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, s));
                p += 1;
            }
            Some(&byte) if byte == b'?' || byte == subject[s] => {
                s += 1;
                p += 1;
            }
            _ => match backtrack {
                Some((star, position)) => {
                    p = star + 1;
                    s = position + 1;
                    backtrack = Some((star, position + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|byte| *byte == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_openssh() {
        assert!(match_pattern_list("dev@example.org", "*@example.org"));
        assert!(match_pattern_list("dev@example.org", "x,dev@example.or?"));
        assert!(!match_pattern_list(
            "dev@example.org",
            "*@example.org,!dev@*"
        ));
        assert!(!match_pattern_list("dev@example.org", "!other"));
        assert!(!match_pattern_list("dev", "de"));
        assert!(match_pattern_list("git", "file,git"));
        assert!(match_pattern_list("", "*"));
    }

    #[test]
    fn negated_principals_only_exclude() {
        assert!(!names_a_principal("!dev@example.org"));
        assert!(!names_a_principal("!a@x,!b@x"));
        assert!(!names_a_principal("a@x,!a@x"));
        assert!(!names_a_principal("*,!*"));
        assert!(!names_a_principal(""));
        assert!(names_a_principal("dev@example.org"));
        assert!(names_a_principal("a@x,!b@x"));
        assert!(names_a_principal("!b@x,*"));
        assert!(names_a_principal("*@x,!b@x"));
    }

    #[test]
    fn times_are_utc() {
        let at = |text| {
            parse_time(text).map(|time| {
                time.duration_since(UNIX_EPOCH)
                    .map(|duration| duration.as_secs())
                    .unwrap_or(u64::MAX)
            })
        };
        assert_eq!(at("19700101"), Some(0));
        assert_eq!(at("20000301Z"), Some(951_868_800));
        assert_eq!(at("202402291230"), Some(1_709_209_800));
        assert_eq!(at("20240229123005z"), Some(1_709_209_805));
        assert_eq!(at("20230229"), None);
        assert_eq!(at("2024"), None);
        assert_eq!(at("20241301"), None);
        assert_eq!(at("+0240101"), None);
    }

    #[test]
    fn options_split_outside_quotes() {
        let pieces = split_options(r#"namespaces="git,file",valid-after=20200101"#, 3);
        let texts: Vec<&str> = pieces.iter().map(|(_, text)| *text).collect();
        assert_eq!(texts, [r#"namespaces="git,file""#, "valid-after=20200101"]);
        assert_eq!(pieces[1].0, 25..45);
    }
}
