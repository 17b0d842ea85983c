//! Configuration: command-line options, each with an environment variable (an optional `.env` is read first).
//! The README's configuration table and `.env.example` list the same variables.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "versorgung",
    version,
    about = "Versorgung: the API behind Hessen's programme for health care in rural areas",
    long_about = "Versorgung serves funding lines, applications and the service unit's coordination work as a JSON \
                  REST API. Without a subcommand it runs `serve`.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default). Applies pending migrations first.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Print one signed development JWT that a service configured the same way accepts.
    Token(TokenArgs),
    /// Print the OpenAPI document (the same one the service serves at /api-docs/openapi.json).
    Openapi,
    /// Add data to the database. With --demo: Gemeinden, Träger and a dozen applications in every state.
    Seed(SeedArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Add the demo data set (safe to run twice: the second run adds nothing).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub db: DbArgs,
    /// Where the demo notices' letters are kept (the same store the service uses).
    #[command(flatten)]
    pub attachments: AttachmentArgs,
    /// Pins the calendar day the demo's dates are written against, as the service's `--today` does: a training
    /// environment pinned to a day seeds against the same day, or its notices' objection periods would disagree.
    #[arg(long, env = "VERSORGUNG_TODAY")]
    pub today: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "VERSORGUNG_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub rate_limits: RateLimitArgs,
    #[command(flatten)]
    pub reminders: ReminderArgs,
    #[command(flatten)]
    pub attachments: AttachmentArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    /// Pins the calendar day (YYYY-MM-DD) every date rule works with, for test and training environments whose data
    /// is written against fixed dates. Never set in production: the service logs a warning when it is set.
    #[arg(long, env = "VERSORGUNG_TODAY")]
    pub today: Option<chrono::NaiveDate>,
}

/// Attachments: where their content is kept and how large it may be.
#[derive(Debug, Clone, Args)]
pub struct AttachmentArgs {
    /// Directory of the attachments' content on the local file system (default: `attachments` in the data dir).
    #[arg(long, env = "VERSORGUNG_ATTACHMENT_DIR")]
    pub attachment_dir: Option<PathBuf>,
    /// Largest file, in bytes (413 beyond).
    #[arg(long, env = "VERSORGUNG_ATTACHMENT_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub attachment_max_bytes: u64,
    /// Largest sum of the files of one resource, in bytes (413 beyond).
    #[arg(long, env = "VERSORGUNG_ATTACHMENT_MAX_TOTAL_BYTES", default_value_t = 500 * 1024 * 1024)]
    pub attachment_max_total_bytes: u64,
    /// Whether files that no virus scanner checked may be downloaded and count for submission.
    #[arg(long, env = "VERSORGUNG_ATTACHMENT_ALLOW_UNSCANNED", default_value_t = true, action = clap::ArgAction::Set)]
    pub attachment_allow_unscanned: bool,
    /// An S3-compatible bucket for the content instead of the local file system (for several instances).
    #[arg(long, env = "VERSORGUNG_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// The S3 endpoint (unset: AWS; set for MinIO, Ceph, a state data centre's store).
    #[arg(long, env = "VERSORGUNG_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "VERSORGUNG_S3_REGION", default_value = "eu-central-1")]
    pub s3_region: String,
    #[arg(long, env = "VERSORGUNG_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    #[arg(long, env = "VERSORGUNG_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// Allow an `http://` endpoint (a store on the same host or inside a trusted network only).
    #[arg(long, env = "VERSORGUNG_S3_ALLOW_HTTP", default_value_t = false, action = clap::ArgAction::Set)]
    pub s3_allow_http: bool,
    /// Aufbewahrungsfrist: how many years after its settlement a grant's files are kept (none may be deleted
    /// before).
    #[arg(long, env = "VERSORGUNG_RETENTION_YEARS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub retention_years: u32,
    /// The ClamAV daemon that scans uploads: `tcp://host:port` or `unix:///path/to/clamd.ctl` (unset: no scanning,
    /// files are `not_scanned`).
    #[arg(long, env = "VERSORGUNG_CLAMAV")]
    pub clamav: Option<String>,
    /// How often an instance looks for files waiting for the scanner.
    #[arg(long, env = "VERSORGUNG_CLAMAV_INTERVAL", default_value = "2s", value_parser = humantime::parse_duration)]
    pub clamav_interval: Duration,
}

/// Outgoing e-mail: the digests. Without an SMTP URL the service sends no mail and refuses new digests.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// The SMTP server: `smtp://host:587` (STARTTLS when offered), `smtps://host:465`, with `user:password@` if the
    /// server wants them.
    #[arg(long, env = "VERSORGUNG_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of the digests.
    #[arg(
        long,
        env = "VERSORGUNG_MAIL_FROM",
        default_value = "Versorgung Hessen <noreply@versorgung.invalid>"
    )]
    pub mail_from: String,
    /// How often each instance looks for digests due (one instance sends each digest).
    #[arg(long, env = "VERSORGUNG_DIGEST_INTERVAL", default_value = "5m", value_parser = humantime::parse_duration)]
    pub digest_interval: std::time::Duration,
}

/// Reminders of due duties (`/api/v1/obligations`), sent through the feed and webhooks.
#[derive(Debug, Clone, Args)]
pub struct ReminderArgs {
    /// Days before a due date at which `obligation.due_soon` is sent, each once (comma-separated).
    #[arg(long, env = "VERSORGUNG_REMINDER_LEAD_DAYS", value_delimiter = ',', default_value = "14,3",
          value_parser = clap::value_parser!(i64).range(0..=365))]
    pub reminder_lead_days: Vec<i64>,
    /// How often each instance looks for duties to remind of (one instance at a time sends).
    #[arg(long, env = "VERSORGUNG_REMINDER_INTERVAL", default_value = "10m", value_parser = humantime::parse_duration)]
    pub reminder_interval: std::time::Duration,
}

/// Rate limits of one instance (see docs/security.md for several instances). A rate of 0 turns a limit off.
#[derive(Debug, Clone, Args)]
pub struct RateLimitArgs {
    /// Sustained requests per second allowed for one bearer token.
    #[arg(long, env = "VERSORGUNG_RATE_LIMIT_TOKEN_PER_SECOND", default_value_t = 20)]
    pub rate_limit_token_per_second: u32,
    /// Requests one bearer token may send at once before the sustained rate applies.
    #[arg(long, env = "VERSORGUNG_RATE_LIMIT_TOKEN_BURST", default_value_t = 100)]
    pub rate_limit_token_burst: u32,
    /// Sustained requests per second allowed for one client address (tokens or not).
    #[arg(long, env = "VERSORGUNG_RATE_LIMIT_ADDRESS_PER_SECOND", default_value_t = 50)]
    pub rate_limit_address_per_second: u32,
    /// Requests one client address may send at once before the sustained rate applies.
    #[arg(long, env = "VERSORGUNG_RATE_LIMIT_ADDRESS_BURST", default_value_t = 200)]
    pub rate_limit_address_burst: u32,
    /// Reverse proxies (comma-separated addresses or CIDRs) whose X-Forwarded-For names the client address.
    #[arg(long, env = "VERSORGUNG_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Allow plain-http webhook targets on loopback addresses (development and tests only).
    #[arg(long, env = "VERSORGUNG_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false)]
    pub webhook_allow_loopback: bool,
    /// Networks webhooks never contact (comma-separated CIDRs). Default: link-local and cloud metadata addresses.
    #[arg(
        long,
        env = "VERSORGUNG_WEBHOOK_DENY",
        value_delimiter = ',',
        default_value = "169.254.0.0/16,fe80::/10,100.100.100.200/32,fd00:ec2::254/128"
    )]
    pub webhook_deny: Vec<String>,
    /// Time limit of one delivery attempt.
    #[arg(long, env = "VERSORGUNG_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: std::time::Duration,
    /// Delay before the first retry; it doubles with each further attempt (with ±20 % jitter).
    #[arg(long, env = "VERSORGUNG_WEBHOOK_BACKOFF_BASE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub webhook_backoff_base: std::time::Duration,
    /// Longest delay between two attempts.
    #[arg(long, env = "VERSORGUNG_WEBHOOK_BACKOFF_MAX", default_value = "2h", value_parser = humantime::parse_duration)]
    pub webhook_backoff_max: std::time::Duration,
    /// How long a delivery is retried before it is given up.
    #[arg(long, env = "VERSORGUNG_WEBHOOK_RETRY_WINDOW", default_value = "26h", value_parser = humantime::parse_duration)]
    pub webhook_retry_window: std::time::Duration,
    /// Consecutive failed attempts after which a subscription is disabled.
    #[arg(long, env = "VERSORGUNG_WEBHOOK_DISABLE_AFTER", default_value_t = 50)]
    pub webhook_disable_after: i32,
    /// How often each instance looks for due deliveries when idle.
    #[arg(long, env = "VERSORGUNG_WEBHOOK_INTERVAL", default_value = "500ms", value_parser = humantime::parse_duration)]
    pub webhook_interval: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Bearer token that may read /metrics.
    #[arg(long, env = "VERSORGUNG_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Client addresses or networks that may read /metrics without the token (comma-separated).
    #[arg(
        long,
        env = "VERSORGUNG_METRICS_ALLOW",
        value_delimiter = ',',
        default_value = "127.0.0.1,::1"
    )]
    pub metrics_allow: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Directory for local state: the private PostgreSQL cluster (when DATABASE_URL is unset) and the generated
    /// development JWT secret (when no key is configured).
    #[arg(long, env = "VERSORGUNG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// PostgreSQL connection URL. When unset, a private cluster is started under <data-dir>/postgres from the
    /// local PostgreSQL server binaries.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Maximum number of pooled database connections.
    #[arg(long, env = "VERSORGUNG_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,
    /// How long a request waits for a free database connection before it gets 503 (e.g. "2s", "500ms").
    #[arg(long, env = "VERSORGUNG_DB_POOL_WAIT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub db_pool_wait_timeout: Duration,
    /// PostgreSQL statement_timeout set on every pooled connection (e.g. "5s").
    #[arg(long, env = "VERSORGUNG_DB_STATEMENT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_statement_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// The one JWT algorithm accepted; tokens signed otherwise are refused.
    #[arg(long, env = "VERSORGUNG_JWT_ALGORITHM", value_enum, default_value = "HS256")]
    pub jwt_algorithm: JwtAlgorithm,
    /// Shared secret for HS256 (at least 32 bytes). When no key is configured at all, a random secret is generated
    /// once into <data-dir>/jwt-secret.
    #[arg(long, env = "VERSORGUNG_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with the identity provider's public key (RS256 or ES256).
    #[arg(long, env = "VERSORGUNG_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// JWKS URL of the identity provider (RS256 or ES256); keys are cached and refetched when an unknown `kid`
    /// arrives. Unset with RS256/ES256 and no key file: read from the issuer's OpenID discovery document.
    #[arg(long, env = "VERSORGUNG_JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,
    /// Required `iss` claim (checked only when set). With RS256/ES256 and neither a key file nor a JWKS URL, the
    /// JWKS URL is discovered at `<issuer>/.well-known/openid-configuration`.
    #[arg(long, env = "VERSORGUNG_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Accepted `aud` values (comma-separated; a token must name one of them). Unset: not checked.
    #[arg(long, env = "VERSORGUNG_JWT_AUDIENCE", value_delimiter = ',')]
    pub jwt_audience: Vec<String>,
    /// Accepted clients (comma-separated): the token's `azp`, or its `client_id` when it has no `azp`, must be one
    /// of them. Unset: not checked.
    #[arg(long, env = "VERSORGUNG_JWT_ALLOWED_CLIENTS", value_delimiter = ',')]
    pub jwt_allowed_clients: Vec<String>,
    /// Where the role comes from: a claim path (dots separate levels, e.g. `realm_access.roles`) holding a string,
    /// a space-separated string (such as `scope`) or an array of strings.
    #[arg(long, env = "VERSORGUNG_JWT_ROLE_CLAIM", default_value = "role")]
    pub jwt_role_claim: String,
    /// The provider's values that name a role, as `value=role` pairs (comma-separated; roles `municipality`,
    /// `service_unit`, `ministry`). Other values are ignored. Unset: the role names themselves.
    #[arg(long, env = "VERSORGUNG_JWT_ROLE_MAP", value_delimiter = ',')]
    pub jwt_role_map: Vec<String>,
    /// When a token maps to several roles: the order in which one is chosen (comma-separated roles). Unset: such a
    /// token is refused.
    #[arg(long, env = "VERSORGUNG_JWT_ROLE_PRECEDENCE", value_delimiter = ',')]
    pub jwt_role_precedence: Vec<crate::core::identity::Role>,
    /// Where the organisation comes from: a claim path holding the AGS or the organisation id (a string, or an
    /// array of exactly one string).
    #[arg(long, env = "VERSORGUNG_JWT_ORG_CLAIM", default_value = "org")]
    pub jwt_org_claim: String,
    /// How long fetched keys are used before they are fetched again: a key the provider removed is refused from the
    /// first successful fetch after this long.
    #[arg(long, env = "VERSORGUNG_JWT_JWKS_REFRESH", default_value = "5m", value_parser = humantime::parse_duration)]
    pub jwt_jwks_refresh: Duration,
    /// The shortest time between two fetches of the keys, however many tokens with unknown `kid` arrive (at least
    /// 100 ms).
    #[arg(long, env = "VERSORGUNG_JWT_JWKS_MIN_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub jwt_jwks_min_interval: Duration,
    /// The provider's token endpoint, for the Swagger UI's OAuth 2.0 client-credentials login. Unset: the
    /// `token_endpoint` of the discovery document when the keys are discovered; otherwise only pasted tokens.
    #[arg(long, env = "VERSORGUNG_JWT_TOKEN_URL")]
    pub jwt_token_url: Option<String>,
    /// Clock skew tolerated for `exp` and `nbf`.
    #[arg(long, env = "VERSORGUNG_JWT_LEEWAY", default_value = "30s", value_parser = humantime::parse_duration)]
    pub jwt_leeway: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Largest accepted request body in bytes (larger bodies get 413).
    #[arg(long, env = "VERSORGUNG_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// The address clients reach the service at (`https://versorgung.example.de`), for the absolute URLs of the
    /// OParl interface. Unset: the request's own `Host` (never the Forwarded headers, which a client may set).
    #[arg(long, env = "VERSORGUNG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated list of origins allowed by CORS (none by default).
    #[arg(long, env = "VERSORGUNG_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
    /// Number of HTTP worker threads (default: one per core).
    #[arg(long, env = "VERSORGUNG_WORKERS")]
    pub workers: Option<usize>,
    /// How long requests in flight may take to finish on shutdown.
    #[arg(long, env = "VERSORGUNG_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Role claim: municipality, service_unit or ministry.
    #[arg(long, env = "VERSORGUNG_TOKEN_ROLE")]
    pub role: crate::core::identity::Role,
    /// Organisation claim (AGS or organisation id); required for municipality.
    #[arg(long, env = "VERSORGUNG_TOKEN_ORG")]
    pub org: Option<String>,
    /// Subject claim (the user's name or id).
    #[arg(long, env = "VERSORGUNG_TOKEN_SUB")]
    pub sub: Option<String>,
    /// Lifetime of the token (e.g. "12h", "30m").
    #[arg(long, env = "VERSORGUNG_TOKEN_TTL", default_value = "12h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    /// Data directory whose generated secret signs the token (when VERSORGUNG_JWT_SECRET is unset).
    #[arg(long, env = "VERSORGUNG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub auth: AuthArgs,
}

impl Default for ServeArgs {
    /// The defaults as the command line would give them, for tests and the `openapi` subcommand.
    fn default() -> Self {
        // Parsing an empty command line cannot fail: every option has a default or is optional.
        match Cli::try_parse_from(["versorgung"]) {
            Ok(cli) => cli.serve,
            Err(e) => unreachable_defaults(e),
        }
    }
}

#[cold]
fn unreachable_defaults(e: clap::Error) -> ServeArgs {
    // Only reachable if an environment variable holds an invalid value; report it as clap would.
    e.exit()
}
