//! Which addresses the fetcher connects to: public ones only, unless configured otherwise. A
//! feed is written by someone else; without this, an item linking to `http://postgres:5432/`,
//! the broker's management port or a cloud's metadata address (169.254.169.254) would have the
//! follower fetch it from inside the deployment and submit what it answered as an article.
//!
//! The check is made on the addresses actually connected to (the resolver below drops private
//! ones), so a name that resolves to a private address is refused too, however it is spelled.

use std::{
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

/// Whether `ip` is an address of the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (100.64/10), unspecified, multicast or broadcast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

/// The error a name that resolves only to private addresses gives; the fetcher finds it in the
/// connect error's causes and reports the URL as refused, not as a network failure.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private addresses")]
pub struct PrivateOnly(pub String);

/// The system resolver, with private addresses dropped unless they are allowed.
#[derive(Clone)]
pub struct PublicResolver {
    inner: GaiResolver,
    allow_private: bool,
}

impl PublicResolver {
    pub fn new(allow_private: bool) -> Self {
        Self {
            inner: GaiResolver::new(),
            allow_private,
        }
    }
}

impl tower_service::Service<Name> for PublicResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let mut inner = self.inner.clone();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = inner
                .call(name)
                .await?
                .filter(|address| allow_private || is_public(address.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    PrivateOnly(host),
                ));
            }
            Ok(addresses.into_iter())
        })
    }
}

/// Whether an error's causes include a [`PrivateOnly`] refusal.
pub fn refused_as_private(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<PrivateOnly>()
            || error
                .downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.is::<PrivateOnly>())
        {
            return true;
        }
        cause = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused() {
        use tower_service::Service;
        let name: Name = "localhost".parse().unwrap();
        let error = PublicResolver::new(false)
            .call(name.clone())
            .await
            .unwrap_err();
        assert!(refused_as_private(&error), "{error}");
        let allowed = PublicResolver::new(true).call(name).await.unwrap();
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
