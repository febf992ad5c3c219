//! Which addresses a request may reach (no private, loopback or link-local ones unless allowed,
//! checked on the literal, on every name resolved and before a proxy) and which headers are
//! secrets; what a redirect keeps of a request (credentials never cross origins).

use super::*;

/// What kind of non-public address `ip` is — loopback, private, link-local, unique-local,
/// unspecified, multicast or reserved, IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4)
/// judged as the IPv4 it carries — or `None` for a public address.
pub fn address_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let s = v6.segments();
            let embedded =
                |hi: u16, lo: u16| v4_kind(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if s[0] & 0xffc0 == 0xfec0 {
                Some("site-local")
            } else if s[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if s[..6] == [0; 6] {
                // ::a.b.c.d, the deprecated IPv4-compatible form.
                embedded(s[6], s[7])
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
                // 64:ff9b::/96, NAT64: a gateway connects to the IPv4 address inside.
                embedded(s[6], s[7])
            } else if s[0] == 0x2002 {
                // 2002::/16, 6to4: the IPv4 address follows the prefix.
                embedded(s[1], s[2])
            } else {
                None
            }
        }
    }
}

pub(super) fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if o[0] == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private()
        // 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24 (IETF), 198.18.0.0/15 (benchmarking)
        || (o[0] == 100 && o[1] & 0xc0 == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && o[1] & 0xfe == 18)
    {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if o[0] >= 240 {
        Some("reserved")
    } else {
        None
    }
}

/// A host name whose every address is non-public, found by [`PublicOnly`].
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({kind} {addr})")]
pub(super) struct RefusedName {
    pub(super) host: String,
    pub(super) kind: &'static str,
    pub(super) addr: IpAddr,
}

/// The page client's resolver: the system's answer with non-public addresses removed, so the
/// connection is made only to an address that was checked (no second lookup to rebind).
pub(super) struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let mut public: Vec<SocketAddr> = Vec::new();
            let mut refused = None;
            for addr in found {
                match address_kind(addr.ip()) {
                    None => public.push(addr),
                    Some(kind) => {
                        refused.get_or_insert((kind, addr.ip()));
                    }
                }
            }
            match refused {
                Some((kind, addr)) if public.is_empty() => {
                    Err(Box::new(RefusedName { host, kind, addr })
                        as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// An IP literal in a page URL (the resolver is not asked about those), checked like a
/// resolved address. `http://2130706433/` is already `127.0.0.1` here: the URL parser
/// normalises numeric hosts.
pub(super) fn check_literal(url: &Url) -> Result<(), HttpError> {
    let host = url.host_str().unwrap_or("");
    // An IPv6 literal is shown in brackets; a name does not parse as an address.
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return Ok(());
    };
    match address_kind(ip) {
        Some(kind) => Err(HttpError::Refused {
            host: host.to_string(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Through an HTTP proxy the proxy resolves page names, not expanse: each name is then resolved
/// here first and refused if any of its addresses is not public (the proxy may pick any). A name
/// that does not resolve here (split DNS: only the proxy knows it) is left to the proxy.
pub(super) async fn check_name_before_proxy(url: &Url) -> Result<(), HttpError> {
    let Some(host) = url.host_str() else {
        return Ok(());
    };
    let Ok(found) =
        tokio::net::lookup_host((host, url.port_or_known_default().unwrap_or(80))).await
    else {
        return Ok(());
    };
    for addr in found {
        if let Some(kind) = address_kind(addr.ip()) {
            return Err(HttpError::Refused {
                host: host.to_string(),
                kind,
            });
        }
    }
    Ok(())
}

/// Whether the environment sends requests through a proxy (the variables reqwest reads).
pub(super) fn proxy_in_env() -> bool {
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Whether a request header carries a credential, and so must not follow a redirect to
/// another origin: Authorization, cookies, Brave's X-Subscription-Token, any API-key header.
pub fn is_secret_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    n == header::AUTHORIZATION.as_str()
        || n == header::PROXY_AUTHORIZATION.as_str()
        || n == header::COOKIE.as_str()
        || [
            "key",
            "token",
            "secret",
            "auth",
            "password",
            "credential",
            "session",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// The request a redirect leads to, and whether credentials were left behind: 303 (and 301/302
/// after a POST) become a GET without body, 307/308 re-send as they were; on another origin
/// every secret header is removed.
pub(super) fn redirected(
    copy: Option<Request>,
    status: StatusCode,
    from: &Url,
    location: &str,
) -> Result<(Request, bool), HttpError> {
    let to = from
        .join(location.trim())
        .map_err(|e| HttpError::Redirect(format!("an unusable Location ({e})")))?;
    if !matches!(to.scheme(), "http" | "https") {
        return Err(HttpError::Redirect(format!(
            "a redirect to a {}: address",
            to.scheme()
        )));
    }
    let mut next = copy.ok_or_else(|| {
        HttpError::Redirect("a streamed request body cannot be sent again".into())
    })?;
    let to_get = match status.as_u16() {
        303 => next.method() != Method::HEAD,
        301 | 302 => next.method() == Method::POST,
        _ => false,
    };
    if to_get {
        *next.method_mut() = Method::GET;
        *next.body_mut() = None;
        for h in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
        ] {
            next.headers_mut().remove(h);
        }
    }
    let mut dropped = false;
    if to.origin() != from.origin() {
        let secret: Vec<HeaderName> = next
            .headers()
            .keys()
            .filter(|n| is_secret_header(n))
            .cloned()
            .collect();
        dropped = !secret.is_empty();
        for name in secret {
            next.headers_mut().remove(name);
        }
    }
    next.headers_mut().remove(header::HOST);
    *next.url_mut() = to;
    Ok((next, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_kinds() {
        let kind = |s: &str| address_kind(s.parse().unwrap());
        for (ip, want) in [
            ("127.0.0.1", Some("loopback")),
            ("10.0.0.1", Some("private")),
            ("172.16.5.4", Some("private")),
            ("192.168.0.1", Some("private")),
            ("100.64.0.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("224.0.0.1", Some("multicast")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd12::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.1.1.1", Some("private")),
            ("64:ff9b::a00:1", Some("private")),
            ("2002:7f00:1::", Some("loopback")),
            ("93.184.216.34", None),
            ("172.32.0.1", None),
            ("2606:4700::1111", None),
            ("::ffff:93.184.216.34", None),
        ] {
            assert_eq!(kind(ip), want, "{ip}");
        }
    }

    #[test]
    fn secret_headers() {
        for h in [
            "authorization",
            "x-subscription-token",
            "x-api-key",
            "api-key",
            "x-goog-api-key",
            "cookie",
            "proxy-authorization",
        ] {
            assert!(is_secret_header(&HeaderName::from_static(h)), "{h}");
        }
        for h in ["accept", "content-type", "user-agent", "accept-language"] {
            assert!(!is_secret_header(&HeaderName::from_static(h)), "{h}");
        }
    }

    #[tokio::test]
    async fn names_are_checked_before_a_proxy() {
        let url = Url::parse("http://localhost:9/x").unwrap();
        let e = check_name_before_proxy(&url).await.unwrap_err();
        assert!(
            matches!(
                e,
                HttpError::Refused {
                    kind: "loopback",
                    ..
                }
            ),
            "{e:?}"
        );
        let unknown = Url::parse("http://no-such-host.invalid/").unwrap();
        assert!(check_name_before_proxy(&unknown).await.is_ok());
    }

    #[test]
    fn redirects_change_method_and_drop_credentials_across_origins() {
        let from = Url::parse("https://api.example.com/v1/x").unwrap();
        let mut r = Request::new(Method::POST, from.clone());
        r.headers_mut()
            .insert("authorization", "Bearer k".parse().unwrap());
        r.headers_mut()
            .insert("x-subscription-token", "k".parse().unwrap());
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        *r.body_mut() = Some("{}".into());
        let same = redirected(
            r.try_clone(),
            StatusCode::TEMPORARY_REDIRECT,
            &from,
            "/v2/x",
        );
        let (same, dropped) = same.unwrap();
        assert!(!dropped && same.method() == Method::POST && same.body().is_some());
        assert!(same.headers().contains_key("authorization"));
        let (other, dropped) = redirected(
            r.try_clone(),
            StatusCode::FOUND,
            &from,
            "https://cdn.example.net/y",
        )
        .unwrap();
        assert!(dropped && other.method() == Method::GET && other.body().is_none());
        assert!(!other.headers().contains_key("authorization"));
        assert!(!other.headers().contains_key("x-subscription-token"));
        assert!(!other.headers().contains_key("content-type"));
        // http on the same host is another origin too (the key must not go in clear text).
        let (down, dropped) = redirected(
            r.try_clone(),
            StatusCode::PERMANENT_REDIRECT,
            &from,
            "http://api.example.com/v1/x",
        )
        .unwrap();
        assert!(dropped && !down.headers().contains_key("authorization"));
        let e = redirected(
            r.try_clone(),
            StatusCode::FOUND,
            &from,
            "file:///etc/passwd",
        )
        .unwrap_err();
        assert!(e.to_string().contains("file:"), "{e}");
    }
}
