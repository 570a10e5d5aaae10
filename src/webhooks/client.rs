//! The HTTP client deliveries go through: 10 s per attempt, and under the
//! strict policy a resolver that refuses every address that is not public,
//! so a name that resolves to 127.0.0.1 (or is made to, after it was
//! checked) gets nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook::{UrlPolicy, is_public};

/// How long an endpoint has to answer an attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    policy: UrlPolicy,
}

impl Client {
    pub fn new(policy: UrlPolicy) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("clientele-webhooks/", env!("CARGO_PKG_VERSION")));
        if !policy.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Self {
            http: builder
                .build()
                .expect("a client with rustls and these settings builds"),
            policy,
        }
    }

    pub fn policy(&self) -> UrlPolicy {
        self.policy
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// Resolves as the system does, keeping public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether `host` resolves only to addresses the strict policy refuses (a
/// check made when an endpoint is set; delivery checks again).
pub async fn refuses_private_addresses(host: &str, port: u16) -> bool {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addresses) => addresses
            .into_iter()
            .any(|address| !is_public(address.ip())),
        // A name that does not resolve now may later: delivery decides.
        Err(_) => false,
    }
}
