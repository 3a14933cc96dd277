//! Downloading `http://` and `https://` URLs for Nix inputs ([`get`]).
//!
//! TLS is rustls (ring) trusting the system's certificate store as
//! `rustls-native-certs` reads it: `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR`
//! (`:`-separated directories) replace the system store when set, so a private CA is
//! trusted by pointing either at it. Redirects are followed by hand, at most
//! [`MAX_REDIRECTS`] hops, each to `http://` or `https://`; a hop from `https://` down to
//! `http://` is refused. Connect and read timeouts are the network timeout
//! ([`atom::store::git::network_timeout`]). Errors name the URL without its password.

use std::{io::Read, sync::Arc};

/// How many redirects one download follows.
pub(super) const MAX_REDIRECTS: usize = 5;

/// Why an http(s) download failed, before it is attached to an input.
#[derive(Debug)]
pub(super) enum Failure {
    /// The TLS handshake failed (an untrusted or invalid certificate, or no roots at all).
    Tls {
        /// The URL (without a password) that failed.
        url: String,
        /// Why.
        message: String,
    },
    /// A redirect was refused (too many, a downgrade, a non-http(s) target).
    Redirect {
        /// The URL (without a password) that redirected.
        url: String,
        /// Why.
        message: String,
    },
    /// Anything else: DNS, connection, status, I/O.
    Transport {
        /// The URL (without a password) that failed.
        url: String,
        /// Why.
        message: String,
    },
}

/// `url` as errors show it: without its password.
pub(super) fn shown(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(None);
    }
    shown.to_string()
}

/// Start downloading `url` (`http` or `https`), following redirects; the body.
pub(super) fn get(url: &url::Url) -> Result<Box<dyn Read + Send + Sync>, Failure> {
    let agent = agent(url)?;
    let mut current = url.clone();
    let mut hops = 0;
    loop {
        let response = match agent.get(current.as_str()).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(code, response)) => {
                return Err(Failure::Transport {
                    url: shown(&current),
                    message: format!("the server answered {code} {}", response.status_text()),
                });
            }
            Err(ureq::Error::Transport(transport)) => {
                return Err(transport_failure(&current, &transport));
            }
        };
        if !(300..400).contains(&response.status()) {
            return Ok(response.into_reader());
        }
        let next = redirect_target(&current, response.header("location"))?;
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(Failure::Redirect {
                url: shown(url),
                message: format!("more than {MAX_REDIRECTS} redirects"),
            });
        }
        current = next;
    }
}

/// Where a redirect from `current` to `location` leads, if eka follows it there.
fn redirect_target(current: &url::Url, location: Option<&str>) -> Result<url::Url, Failure> {
    let refuse = |message: String| Failure::Redirect {
        url: shown(current),
        message,
    };
    let location =
        location.ok_or_else(|| refuse("a redirect without a `Location` header".to_owned()))?;
    let next = current
        .join(location)
        .map_err(|error| refuse(format!("a redirect to `{location}`: {error}")))?;
    match (current.scheme(), next.scheme()) {
        ("https", "http") => Err(refuse(format!(
            "a redirect from `https://` down to `{}`",
            shown(&next)
        ))),
        (_, "http" | "https") => Ok(next),
        (_, scheme) => Err(refuse(format!(
            "a redirect to `{}`: only `http://` and `https://` are followed, not `{scheme}://`",
            shown(&next)
        ))),
    }
}

/// An agent with timeouts, no automatic redirects and, for TLS, the system's roots.
fn agent(url: &url::Url) -> Result<ureq::Agent, Failure> {
    let deadline = atom::store::git::network_timeout();
    let builder = ureq::AgentBuilder::new()
        .timeout_connect(deadline)
        .timeout_read(deadline)
        .redirects(0)
        .tls_config(tls_config(url)?);
    Ok(builder.build())
}

/// A rustls client configuration trusting the system's roots (or `SSL_CERT_FILE` /
/// `SSL_CERT_DIR`).
fn tls_config(url: &url::Url) -> Result<Arc<rustls::ClientConfig>, Failure> {
    let tls_failure = |message: String| Failure::Tls {
        url: shown(url),
        message,
    };
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::warn!(%error, "a trusted certificate could not be loaded");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if roots.is_empty() && url.scheme() == "https" {
        let why = loaded
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(tls_failure(if why.is_empty() {
            "no trusted certificates were found".to_owned()
        } else {
            format!("no trusted certificates were found ({why})")
        }));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| tls_failure(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Classify a ureq transport error: a rustls error anywhere in its causes is TLS.
fn transport_failure(url: &url::Url, transport: &ureq::Transport) -> Failure {
    let mut message = transport.kind().to_string();
    if let Some(detail) = transport.message() {
        message = format!("{message}: {detail}");
    }
    let mut tls = None;
    let mut cause = std::error::Error::source(transport);
    while let Some(error) = cause {
        if let Some(found) = as_tls_error(error) {
            tls = Some(found.to_string());
            break;
        }
        message = format!("{message}: {error}");
        cause = error.source();
    }
    match tls {
        Some(tls) => Failure::Tls {
            url: shown(url),
            message: tls,
        },
        None => Failure::Transport {
            url: shown(url),
            message,
        },
    }
}

/// `error` as a rustls error, also when an I/O error carries it.
fn as_tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> url::Url {
        url::Url::parse(url).unwrap()
    }

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(
            shown(&parse("https://user:secret@example.invalid/a.tar.gz")),
            "https://user@example.invalid/a.tar.gz"
        );
    }

    #[test]
    fn redirects_stay_on_http_and_never_downgrade() {
        let https = parse("https://example.invalid/a/b");
        let http = parse("http://example.invalid/a/b");
        assert_eq!(
            redirect_target(&https, Some("../c")).unwrap().as_str(),
            "https://example.invalid/c"
        );
        assert_eq!(
            redirect_target(&http, Some("https://other.invalid/x"))
                .unwrap()
                .as_str(),
            "https://other.invalid/x"
        );
        assert!(matches!(
            redirect_target(&https, Some("http://example.invalid/c")),
            Err(Failure::Redirect { message, .. }) if message.contains("down to")
        ));
        assert!(matches!(
            redirect_target(&http, Some("file:///etc/passwd")),
            Err(Failure::Redirect { message, .. }) if message.contains("`file://`")
        ));
        assert!(matches!(
            redirect_target(&http, None),
            Err(Failure::Redirect { message, .. }) if message.contains("`Location`")
        ));
    }
}
