//! Where the verification keys come from: one configured key, or the identity provider's JWKS (from a URL, or from
//! the issuer's OpenID discovery document), cached and refreshed.
//!
//! The JWKS is fetched again when it is older than the refresh interval (so a key the provider removed stops
//! working at the latest one interval later) and when a token names an unknown `kid` (so a new key works at once),
//! but never more than once per minimum interval, however many tokens arrive: tokens with invented `kid`s cannot
//! turn the service into a load generator against the provider. A refresh that is due is done by one request while
//! the others go on with the keys they have; a failed fetch keeps the keys already known.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use serde::Deserialize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{ApiError, ApiResult, AuthFailure};

/// Where the JWKS is found.
pub(super) enum JwksSource {
    Url(String),
    /// `<issuer>/.well-known/openid-configuration` names it.
    Discovery {
        issuer: String,
    },
}

pub(super) enum Keys {
    Static(DecodingKey),
    Remote(Arc<RemoteKeys>),
}

/// How long the request that finds the keys due for a refresh waits for the fetch before it goes on with the keys it
/// has (the fetch goes on in the background): a slow provider never holds a request for its timeouts.
const REFRESH_WAIT: Duration = Duration::from_millis(500);

pub(super) struct RemoteKeys {
    source: JwksSource,
    algorithm: jsonwebtoken::Algorithm,
    client: reqwest::Client,
    refresh: Duration,
    min_interval: Duration,
    cache: RwLock<Cache>,
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    set: Option<JwkSet>,
    /// When `set` was fetched (its age decides the periodic refresh).
    fetched_at: Option<Instant>,
    /// When a fetch was last tried, successful or not (the minimum interval counts from here).
    tried_at: Option<Instant>,
    discovered: Option<Discovered>,
}

/// What the discovery document says that this service uses.
#[derive(Debug, Clone, Deserialize)]
struct Discovered {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint: Option<String>,
}

/// What a lookup in the cache found.
enum Lookup {
    Fresh(DecodingKey),
    Stale(DecodingKey),
    Missing {
        may_fetch: bool,
    },
    /// No keys were ever fetched, and the last try is too recent to try again.
    Unavailable,
}

impl RemoteKeys {
    pub(super) fn new(
        source: JwksSource,
        algorithm: jsonwebtoken::Algorithm,
        refresh: Duration,
        min_interval: Duration,
    ) -> Result<Self, String> {
        if min_interval < Duration::from_millis(100) {
            return Err("VERSORGUNG_JWT_JWKS_MIN_INTERVAL must be at least 100ms".into());
        }
        if refresh < min_interval {
            return Err("VERSORGUNG_JWT_JWKS_REFRESH must not be shorter than VERSORGUNG_JWT_JWKS_MIN_INTERVAL".into());
        }
        Ok(Self {
            source,
            algorithm,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?,
            refresh,
            min_interval,
            cache: RwLock::new(Cache::default()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// The provider's token endpoint, once discovered.
    pub(super) fn token_endpoint(&self) -> Option<String> {
        self.cache.read().ok()?.discovered.as_ref()?.token_endpoint.clone()
    }

    fn lookup(&self, kid: Option<&str>) -> ApiResult<Lookup> {
        let cache = self
            .cache
            .read()
            .map_err(|_| ApiError::internal("jwks cache poisoned"))?;
        let may_fetch = cache.tried_at.is_none_or(|at| at.elapsed() >= self.min_interval);
        let found = cache.set.as_ref().and_then(|set| find(set, kid, self.algorithm));
        let stale = cache.fetched_at.is_none_or(|at| at.elapsed() >= self.refresh);
        Ok(match found {
            Some(key) if stale && may_fetch => Lookup::Stale(key),
            Some(key) => Lookup::Fresh(key),
            None if cache.set.is_none() && !may_fetch => Lookup::Unavailable,
            None => Lookup::Missing { may_fetch },
        })
    }

    pub(super) async fn key_for(self: &Arc<Self>, kid: Option<&str>) -> ApiResult<DecodingKey> {
        match self.lookup(kid)? {
            Lookup::Fresh(key) => Ok(key),
            Lookup::Stale(key) => {
                // The refresh runs as its own task, so that a slow provider holds no request longer than
                // REFRESH_WAIT; one refresh at a time (the others go on with the keys they have).
                let this = Arc::clone(self);
                let refresh = tokio::spawn(async move {
                    let Ok(_fetching) = this.fetching.try_lock() else {
                        return;
                    };
                    if this.is_stale() {
                        let _ = this.fetch(true).await;
                    }
                });
                match tokio::time::timeout(REFRESH_WAIT, refresh).await {
                    Ok(_) => self.after_fetch(kid),
                    Err(_) => Ok(key),
                }
            }
            Lookup::Unavailable => Err(keys_unavailable()),
            Lookup::Missing { may_fetch: false } => Err(ApiError::Unauthorized(AuthFailure::Invalid)),
            Lookup::Missing { may_fetch: true } => {
                // An unknown kid: one fetch at a time; whoever waited looks again before fetching.
                let _fetching = self.fetching.lock().await;
                match self.lookup(kid)? {
                    Lookup::Fresh(key) | Lookup::Stale(key) => return Ok(key),
                    Lookup::Unavailable => return Err(keys_unavailable()),
                    Lookup::Missing { may_fetch: false } => return Err(ApiError::Unauthorized(AuthFailure::Invalid)),
                    Lookup::Missing { may_fetch: true } => self.fetch(false).await?,
                }
                self.after_fetch(kid)
            }
        }
    }

    /// Whether the keys are older than the refresh interval and may be fetched again.
    fn is_stale(&self) -> bool {
        self.cache.read().is_ok_and(|c| {
            c.fetched_at.is_none_or(|at| at.elapsed() >= self.refresh)
                && c.tried_at.is_none_or(|at| at.elapsed() >= self.min_interval)
        })
    }

    fn after_fetch(&self, kid: Option<&str>) -> ApiResult<DecodingKey> {
        let cache = self
            .cache
            .read()
            .map_err(|_| ApiError::internal("jwks cache poisoned"))?;
        cache
            .set
            .as_ref()
            .and_then(|set| find(set, kid, self.algorithm))
            .ok_or(ApiError::Unauthorized(AuthFailure::Invalid))
    }

    /// Fetches the keys now (at start, so that the first request does not wait and a wrong setting shows in the
    /// log at once). Failures are logged; requests try again later.
    pub(super) async fn warm_up(&self) {
        let _fetching = self.fetching.lock().await;
        if let Err(e) = self.fetch(true).await {
            log::warn!("identity provider keys not fetched at start (requests will try again): {e}");
        }
    }

    /// Fetches the JWKS (after the discovery document when the keys are discovered and `rediscover` is asked or
    /// nothing was discovered yet). Keeps the known keys when a fetch fails; fails only when no keys are known.
    async fn fetch(&self, rediscover: bool) -> ApiResult<()> {
        let result = self.fetch_set(rediscover).await;
        let mut cache = self
            .cache
            .write()
            .map_err(|_| ApiError::internal("jwks cache poisoned"))?;
        cache.tried_at = Some(Instant::now());
        match result {
            Ok((set, discovered)) => {
                cache.set = Some(set);
                cache.fetched_at = cache.tried_at;
                if discovered.is_some() {
                    cache.discovered = discovered;
                }
                Ok(())
            }
            Err(e) => {
                log::warn!("fetching the identity provider's keys failed: {e}");
                if cache.set.is_none() {
                    return Err(keys_unavailable());
                }
                Ok(())
            }
        }
    }

    async fn fetch_set(&self, rediscover: bool) -> Result<(JwkSet, Option<Discovered>), String> {
        let (url, discovered) = match &self.source {
            JwksSource::Url(url) => (url.clone(), None),
            JwksSource::Discovery { issuer } => {
                let known = self.cache.read().ok().and_then(|c| c.discovered.clone());
                match known {
                    Some(d) if !rediscover => (d.jwks_uri, None),
                    _ => {
                        let d = self.discover(issuer).await?;
                        (d.jwks_uri.clone(), Some(d))
                    }
                }
            }
        };
        let set = parse_jwks(self.get_json::<serde_json::Value>(&url).await?)?;
        Ok((set, discovered))
    }

    async fn discover(&self, issuer: &str) -> Result<Discovered, String> {
        let url = discovery_url(issuer);
        let d: Discovered = self.get_json(&url).await?;
        // OpenID Connect Discovery 1.0, 4.3: the document's issuer must be the one asked for, exactly.
        if d.issuer != issuer {
            return Err(format!(
                "{url} names the issuer {:?}, not the configured {issuer:?}",
                d.issuer
            ));
        }
        // The keys and the token endpoint are fetched as securely as the issuer itself: https under an https issuer.
        let secure = issuer.starts_with("https://");
        let acceptable = |u: &str| u.starts_with("https://") || (!secure && u.starts_with("http://"));
        if !acceptable(&d.jwks_uri) {
            return Err(format!("{url}: jwks_uri {:?} is not an acceptable URL", d.jwks_uri));
        }
        if d.token_endpoint.as_deref().is_some_and(|t| !acceptable(t)) {
            return Err(format!(
                "{url}: token_endpoint {:?} is not an acceptable URL",
                d.token_endpoint
            ));
        }
        Ok(d)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let fetch = async {
            self.client
                .get(url)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await?
                .error_for_status()?
                .json::<T>()
                .await
        };
        fetch.await.map_err(|e| format!("{url}: {e}"))
    }
}

/// The discovery document's address for an issuer (OpenID Connect Discovery 1.0, 4).
pub(super) fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

fn keys_unavailable() -> ApiError {
    ApiError::Unavailable("the identity provider's keys are not available".into())
}

/// A JWKS, key by key: a key this service cannot read (another curve, an unknown `kty`) is skipped rather than
/// making the whole set unreadable, so a provider that adds such a key does not lock everyone out.
fn parse_jwks(value: serde_json::Value) -> Result<JwkSet, String> {
    let keys = value
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or("the JWKS has no `keys` array")?;
    let keys = keys
        .iter()
        .filter_map(|k| match serde_json::from_value(k.clone()) {
            Ok(jwk) => Some(jwk),
            Err(e) => {
                log::debug!("JWKS key skipped: {e}");
                None
            }
        })
        .collect();
    Ok(JwkSet { keys })
}

/// The signing key a token names: by `kid`, or the only signing key when the token names none. Keys for
/// encryption and keys stating another algorithm are never used to verify (RFC 8725, 3.1).
fn find(set: &JwkSet, kid: Option<&str>, algorithm: jsonwebtoken::Algorithm) -> Option<DecodingKey> {
    let signing = |jwk: &&jsonwebtoken::jwk::Jwk| {
        jwk.common.public_key_use != Some(PublicKeyUse::Encryption)
            && jwk
                .common
                .key_algorithm
                .is_none_or(|alg| alg.to_string() == format!("{algorithm:?}"))
    };
    let jwk = match kid {
        Some(kid) => set
            .keys
            .iter()
            .filter(signing)
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        None => {
            let mut keys = set.keys.iter().filter(signing);
            match (keys.next(), keys.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }?;
    DecodingKey::from_jwk(jwk).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_ignores_a_trailing_slash() {
        assert_eq!(
            discovery_url("https://idp.example/realms/versorgung/"),
            "https://idp.example/realms/versorgung/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://idp.example"),
            "https://idp.example/.well-known/openid-configuration"
        );
    }
}
