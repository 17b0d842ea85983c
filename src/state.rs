//! The application state that every request handler and background worker shares. It sits below every handler and
//! imports only configuration, the database pool, the token verifier and the process's counters.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;

use crate::auth::Verifier;
use crate::config::ServeArgs;
use crate::core::counters::{Access, Metrics};
use crate::core::net::parse_networks;
use crate::db::DbPool;

/// What every request handler shares.
pub struct AppState {
    pub pool: DbPool,
    pub verifier: Verifier,
    pub max_body_bytes: usize,
    /// The service's public address for absolute URLs (OParl), when configured.
    pub public_url: Option<String>,
    pub metrics: Metrics,
    pub metrics_access: Access,
    pub webhooks: WebhookSettings,
    pub reminders: ReminderSettings,
    /// Where attachments' content is kept (`object_store`: the local file system, or S3).
    pub storage: Arc<dyn ObjectStore>,
    pub attachments: AttachmentSettings,
    /// The virus scanner, when one is configured.
    pub scanner: Option<Arc<crate::clamav::Scanner>>,
    /// The SMTP connection of the digests, when one is configured.
    pub mail: Option<Arc<crate::mail::Mailer>>,
}

/// Limits and policy of attachments (from configuration).
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    pub max_bytes: u64,
    pub max_total_bytes: u64,
    pub allow_unscanned: bool,
    pub scan_interval: Duration,
    /// Years a grant's files are kept after its settlement.
    pub retention_years: u32,
}

impl AppState {
    pub fn new(pool: DbPool, verifier: Verifier, args: &ServeArgs) -> Result<Self, String> {
        let w = &args.webhooks;
        if let Some(day) = args.today {
            crate::core::time::pin_today(day)?;
            log::warn!("the calendar day is pinned to {day} (VERSORGUNG_TODAY): for tests and training only");
        }
        Ok(Self {
            pool,
            verifier,
            max_body_bytes: args.http.max_body_bytes,
            public_url: args
                .http
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            metrics: Metrics::default(),
            metrics_access: Access {
                token: args.metrics.metrics_token.clone().filter(|t| !t.is_empty()),
                allow: parse_networks(&args.metrics.metrics_allow)?,
            },
            webhooks: WebhookSettings {
                allow_loopback: w.webhook_allow_loopback,
                deny: parse_networks(&w.webhook_deny)?,
                timeout: w.webhook_timeout,
                backoff_base: w.webhook_backoff_base,
                backoff_max: w.webhook_backoff_max,
                retry_window: w.webhook_retry_window,
                disable_after: w.webhook_disable_after.max(1),
                interval: w.webhook_interval,
            },
            reminders: ReminderSettings {
                lead_days: args.reminders.reminder_lead_days.clone(),
                interval: args.reminders.reminder_interval,
            },
            storage: storage(&args.attachments, &args.db.data_dir)?,
            attachments: AttachmentSettings {
                max_bytes: args.attachments.attachment_max_bytes,
                max_total_bytes: args.attachments.attachment_max_total_bytes,
                allow_unscanned: args.attachments.attachment_allow_unscanned,
                scan_interval: args.attachments.clamav_interval,
                retention_years: args.attachments.retention_years,
            },
            scanner: args
                .attachments
                .clamav
                .as_deref()
                .map(crate::clamav::Scanner::parse)
                .transpose()?
                .map(Arc::new),
            mail: args
                .mail
                .smtp_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| crate::mail::Mailer::new(u, &args.mail.mail_from, args.mail.digest_interval))
                .transpose()?
                .map(Arc::new),
        })
    }
}

/// The object store of attachments: an S3-compatible bucket when one is configured (deployments on several
/// instances share it), else a directory on the local file system (created if missing).
pub fn storage(a: &crate::config::AttachmentArgs, data_dir: &std::path::Path) -> Result<Arc<dyn ObjectStore>, String> {
    if let Some(bucket) = &a.s3_bucket {
        let mut s3 = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&a.s3_region)
            .with_allow_http(a.s3_allow_http);
        if let Some(endpoint) = &a.s3_endpoint {
            s3 = s3.with_endpoint(endpoint);
        }
        if let (Some(key), Some(secret)) = (&a.s3_access_key_id, &a.s3_secret_access_key) {
            s3 = s3.with_access_key_id(key).with_secret_access_key(secret);
        }
        return Ok(Arc::new(s3.build().map_err(|e| format!("S3 bucket {bucket}: {e}"))?));
    }
    let dir = a.attachment_dir.clone().unwrap_or_else(|| data_dir.join("attachments"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("attachment directory {}: {e}", dir.display()))?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| format!("attachment directory {}: {e}", dir.display()))?;
    Ok(Arc::new(store))
}

/// When the reminder job sends (from configuration).
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    /// Days before the due date at which `obligation.due_soon` is sent (each once).
    pub lead_days: Vec<i64>,
    /// How often the job looks.
    pub interval: Duration,
}

impl ReminderSettings {
    /// The longest lead time: a duty due within it is `due_soon`.
    pub fn widest_lead(&self) -> i64 {
        self.lead_days.iter().copied().max().unwrap_or(0)
    }
}

/// How the dispatcher behaves (from configuration).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow `http://` targets on loopback addresses (development and tests).
    pub allow_loopback: bool,
    /// Networks never contacted.
    pub deny: Vec<(IpAddr, u8)>,
    pub timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub retry_window: Duration,
    /// Consecutive failed attempts after which a subscription is disabled.
    pub disable_after: i32,
    pub interval: Duration,
}
