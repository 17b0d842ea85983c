//! Authentication: bearer JWTs with one pinned algorithm, turned into a [`Caller`] that handlers and queries use.
//!
//! Keys ([`keys`]): an HS256 shared secret, or an RS256/ES256 public key from a PEM file, a JWKS URL or the issuer's
//! OpenID discovery document. `exp` is required; `iss`, `aud` and the client (`azp`/`client_id`) are checked when
//! configured. The claims are then mapped ([`mapping`]) to the subject, one of the three roles and the
//! organisation, which must exist (a municipality must name one).

mod keys;
mod mapping;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use crate::config::{AuthArgs, JwtAlgorithm};
use crate::core::identity::{Caller, OrgScope, Role};
use crate::db::DbPool;
use crate::db::schema::organisations;
use crate::error::{ApiError, ApiResult, AuthFailure};
use keys::{JwksSource, Keys, RemoteKeys};
use mapping::{ClaimMapping, Mapped};

/// The claims of the development tokens this service mints (`versorgung token`, tests). Verification reads any
/// claims through the configured [`mapping`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Verifies tokens; one per process, shared by all workers.
pub struct Verifier {
    keys: Keys,
    validation: Validation,
    mapping: ClaimMapping,
    token_url: Option<String>,
    orgs: RwLock<HashMap<String, OrgScope>>,
}

const ORG_CACHE_MAX: usize = 10_000;

fn algorithm(alg: JwtAlgorithm) -> Algorithm {
    match alg {
        JwtAlgorithm::Hs256 => Algorithm::HS256,
        JwtAlgorithm::Rs256 => Algorithm::RS256,
        JwtAlgorithm::Es256 => Algorithm::ES256,
    }
}

/// Where the HS256 secret comes from when none is configured.
pub fn generated_secret_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("jwt-secret")
}

/// The HS256 secret: configured, or generated once into the data directory (mode 0600).
pub fn hs256_secret(args: &AuthArgs, data_dir: &Path) -> Result<(String, bool), String> {
    match &args.jwt_secret {
        Some(secret) if secret.len() < 32 => Err("VERSORGUNG_JWT_SECRET must be at least 32 bytes long".into()),
        Some(secret) => Ok((secret.clone(), false)),
        None => crate::db::local_pg::read_or_create_secret(&generated_secret_path(data_dir), 32)
            .map(|s| (s, true))
            .map_err(|e| e.to_string()),
    }
}

fn http_url(name: &str, url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(format!("{name}: {url:?} is not an http(s) URL")),
    }
}

impl Verifier {
    /// Builds the verifier from configuration. Returns whether the secret was generated into the data directory.
    pub fn from_config(args: &AuthArgs, data_dir: &Path) -> Result<(Self, bool), String> {
        let alg = algorithm(args.jwt_algorithm);
        let mut generated = false;
        let remote = |source| {
            RemoteKeys::new(source, alg, args.jwt_jwks_refresh, args.jwt_jwks_min_interval)
                .map(|r| Keys::Remote(std::sync::Arc::new(r)))
        };
        let keys = match args.jwt_algorithm {
            JwtAlgorithm::Hs256 => {
                if args.jwt_public_key_file.is_some() || args.jwt_jwks_url.is_some() {
                    return Err(
                        "HS256 uses VERSORGUNG_JWT_SECRET; a public key or JWKS URL needs RS256 or ES256".into(),
                    );
                }
                let (secret, gen_) = hs256_secret(args, data_dir)?;
                generated = gen_;
                Keys::Static(DecodingKey::from_secret(secret.as_bytes()))
            }
            JwtAlgorithm::Rs256 | JwtAlgorithm::Es256 => {
                match (&args.jwt_public_key_file, &args.jwt_jwks_url, &args.jwt_issuer) {
                    (Some(file), None, _) => {
                        let pem = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
                        let key = if alg == Algorithm::RS256 {
                            DecodingKey::from_rsa_pem(&pem)
                        } else {
                            DecodingKey::from_ec_pem(&pem)
                        }
                        .map_err(|e| format!("{}: not a usable public key: {e}", file.display()))?;
                        Keys::Static(key)
                    }
                    (None, Some(url), _) => {
                        http_url("VERSORGUNG_JWT_JWKS_URL", url)?;
                        remote(JwksSource::Url(url.clone()))?
                    }
                    (None, None, Some(issuer)) => {
                        http_url("VERSORGUNG_JWT_ISSUER", issuer)?;
                        remote(JwksSource::Discovery { issuer: issuer.clone() })?
                    }
                    _ => {
                        return Err(
                            "RS256/ES256 need one of VERSORGUNG_JWT_PUBLIC_KEY_FILE, VERSORGUNG_JWT_JWKS_URL \
                                    and VERSORGUNG_JWT_ISSUER (whose discovery document names the keys)"
                                .into(),
                        );
                    }
                }
            }
        };
        if let Some(url) = &args.jwt_token_url {
            http_url("VERSORGUNG_JWT_TOKEN_URL", url)?;
        }
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.leeway = args.jwt_leeway.as_secs();
        validation.validate_nbf = true;
        // A configured issuer or audience must also be present: a token without the claim is not "unchecked".
        let mut required = vec!["exp"];
        match &args.jwt_issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        let audiences: Vec<&str> = args
            .jwt_audience
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        if audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&audiences);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok((
            Self {
                keys,
                validation,
                mapping: ClaimMapping::from_config(args)?,
                token_url: args.jwt_token_url.clone(),
                orgs: RwLock::new(HashMap::new()),
            },
            generated,
        ))
    }

    /// Fetches the provider's keys (and discovery document) before the first request needs them.
    pub async fn warm_up(&self) {
        if let Keys::Remote(remote) = &self.keys {
            remote.warm_up().await;
        }
    }

    /// The token endpoint for the OpenAPI document's OAuth 2.0 client-credentials scheme: configured, or discovered.
    pub fn token_url(&self) -> Option<String> {
        self.token_url.clone().or_else(|| match &self.keys {
            Keys::Remote(remote) => remote.token_endpoint(),
            Keys::Static(_) => None,
        })
    }

    /// Checks signature, algorithm and registered claims; returns all claims.
    async fn verify(&self, token: &str) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            log::debug!("token refused: {e}");
            ApiError::Unauthorized(AuthFailure::Malformed)
        })?;
        if !self.validation.algorithms.contains(&header.alg) {
            log::debug!("token refused: algorithm {:?} is not the configured one", header.alg);
            return Err(ApiError::Unauthorized(AuthFailure::Invalid));
        }
        let key = match &self.keys {
            Keys::Static(key) => key.clone(),
            Keys::Remote(remote) => remote.key_for(header.kid.as_deref()).await?,
        };
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &self.validation)
            .map_err(|e| {
                log::debug!("token refused: {e}");
                ApiError::Unauthorized(match e.kind() {
                    ErrorKind::ExpiredSignature => AuthFailure::Expired,
                    ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                        AuthFailure::Malformed
                    }
                    _ => AuthFailure::Invalid,
                })
            })?;
        Ok(data.claims)
    }

    /// The subject, role and organisation a verified token names.
    fn map(&self, claims: &serde_json::Map<String, serde_json::Value>) -> ApiResult<Mapped> {
        self.mapping.map(claims).map_err(|why| {
            // The signature is valid: the provider or this service's mapping is set up wrong, not an attacker.
            log::warn!("token of a trusted issuer refused: {why}");
            ApiError::Unauthorized(AuthFailure::Invalid)
        })
    }

    /// Resolves an `org` claim (AGS or organisation id). Identity fields of organisations never change, so
    /// positive answers are cached for the life of the process.
    async fn resolve_org(&self, pool: &DbPool, org: &str) -> ApiResult<Option<OrgScope>> {
        if let Some(hit) = self.orgs.read().ok().and_then(|m| m.get(org).cloned()) {
            return Ok(Some(hit));
        }
        let mut conn = crate::db::conn(pool).await?;
        let Some(scope) = org_scope(&mut conn, org).await? else {
            return Ok(None);
        };
        if let Ok(mut map) = self.orgs.write() {
            if map.len() >= ORG_CACHE_MAX {
                map.clear();
            }
            map.insert(org.to_owned(), scope.clone());
        }
        Ok(Some(scope))
    }

    /// Authenticates a request from its `Authorization` header.
    pub async fn authenticate(&self, pool: &DbPool, authorization: Option<&str>) -> ApiResult<Caller> {
        let token = bearer_token(authorization)?;
        let claims = self.verify(token).await?;
        let mapped = self.map(&claims)?;
        // The subject is stored with every change (history, comments) and shown as `Actor.sub`: bounded.
        if mapped.sub.chars().count() > MAX_SUB_CHARS {
            log::debug!("token refused: sub longer than {MAX_SUB_CHARS} characters");
            return Err(ApiError::Unauthorized(AuthFailure::Invalid));
        }
        let org = match (&mapped.org, mapped.role) {
            (None, Role::Municipality) => {
                log::warn!("token of a trusted issuer refused: a municipality without organisation");
                return Err(ApiError::Unauthorized(AuthFailure::Invalid));
            }
            (None, _) => None,
            (Some(org), _) => match self.resolve_org(pool, org).await? {
                Some(scope) => Some(scope),
                None => {
                    log::warn!("token of a trusted issuer refused: no organisation {org:?}");
                    return Err(ApiError::Unauthorized(AuthFailure::Invalid));
                }
            },
        };
        Ok(Caller {
            sub: mapped.sub,
            role: mapped.role,
            org,
        })
    }
}

/// The organisation named by an AGS or an id, as a caller's scope.
pub async fn org_scope(conn: &mut diesel_async::AsyncPgConnection, key: &str) -> ApiResult<Option<OrgScope>> {
    let query = organisations::table
        .select((
            organisations::id,
            organisations::ags,
            organisations::kind,
            organisations::district_ags,
        ))
        .into_boxed();
    let query = match Uuid::parse_str(key) {
        Ok(id) => query.filter(organisations::id.eq(id)),
        Err(_) => query.filter(organisations::ags.eq(key.to_owned())),
    };
    let row: Option<(Uuid, Option<String>, String, String)> = query.first(conn).await.optional()?;
    row.map(|(id, ags, kind, district_ags)| {
        Ok(OrgScope {
            id,
            ags,
            kind: kind.parse().map_err(ApiError::internal)?,
            district_ags,
        })
    })
    .transpose()
}

fn bearer_token(authorization: Option<&str>) -> ApiResult<&str> {
    let value = authorization.ok_or(ApiError::Unauthorized(AuthFailure::Missing))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthorized(AuthFailure::Malformed))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(AuthFailure::Malformed));
    }
    Ok(token.trim())
}

/// The longest `sub` claim the service accepts (as the OpenAPI document says).
pub const MAX_SUB_CHARS: usize = 255;

/// Signs a token with an HS256 secret (the `token` subcommand, the development tokens printed at start, tests).
pub fn mint_hs256(
    secret: &str,
    role: Role,
    org: Option<&str>,
    sub: &str,
    ttl: Duration,
    args: &AuthArgs,
) -> Result<String, String> {
    if role == Role::Municipality && org.is_none() {
        return Err("a municipality token needs --org (an AGS such as 06636, or an organisation id)".into());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let claims = Claims {
        sub: sub.to_owned(),
        role,
        org: org.map(str::to_owned),
        exp: now + ttl.as_secs(),
        iat: Some(now),
        nbf: None,
        iss: args.jwt_issuer.clone(),
        aud: <[String]>::first(&args.jwt_audience).cloned(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert!(matches!(
            bearer_token(None),
            Err(ApiError::Unauthorized(AuthFailure::Missing))
        ));
        assert!(bearer_token(Some("Basic abc")).is_err());
        assert!(bearer_token(Some("Bearer ")).is_err());
        assert_eq!(bearer_token(Some("bearer abc")).ok(), Some("abc"));
    }
}
