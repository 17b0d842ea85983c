//! The ClamAV daemon (clamd) as the service talks to it: where it listens, and its verdict on a stream (INSTREAM
//! through the `clamav-client` crate). Below the state, which holds the configured scanner; the attachments' scanning
//! job uses it.

use std::path::PathBuf;

/// Where clamd listens.
#[derive(Debug, Clone)]
pub enum Scanner {
    /// `tcp://host:port`
    Tcp(String),
    /// `unix:///run/clamav/clamd.ctl`
    Socket(PathBuf),
}

/// What clamd found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name.
    Infected(String),
}

impl Scanner {
    /// `tcp://host:port` or `unix:///path`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(address) = url.strip_prefix("tcp://") {
            Ok(Self::Tcp(address.trim_end_matches('/').to_owned()))
        } else if let Some(path) = url.strip_prefix("unix://") {
            Ok(Self::Socket(PathBuf::from(path)))
        } else {
            Err(format!(
                "VERSORGUNG_CLAMAV must be tcp://host:port or unix:///path, not {url:?}"
            ))
        }
    }

    /// Streams `data` to clamd and reads its verdict. Anything but `... OK` or `... FOUND` (clamd's own errors,
    /// such as a stream above its StreamMaxLength) is an error: the file stays pending.
    pub async fn scan<S>(&self, data: S) -> std::io::Result<Verdict>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>>,
    {
        let answer = match self {
            Self::Tcp(address) => {
                let tcp = clamav_client::tokio::Tcp {
                    host_address: address.as_str(),
                };
                clamav_client::tokio::scan_stream(data, tcp, None).await?
            }
            Self::Socket(path) => {
                let socket = clamav_client::tokio::Socket {
                    socket_path: path.as_path(),
                };
                clamav_client::tokio::scan_stream(data, socket, None).await?
            }
        };
        verdict(&answer)
    }
}

/// clamd's answer to INSTREAM: `stream: OK`, `stream: <signature> FOUND`, or an error line.
fn verdict(answer: &[u8]) -> std::io::Result<Verdict> {
    let text = String::from_utf8_lossy(answer);
    let text = text.trim_end_matches(['\0', '\n']).trim();
    let body = text.strip_prefix("stream:").map_or(text, str::trim);
    if body == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(name) = body.strip_suffix("FOUND") {
        Ok(Verdict::Infected(name.trim().to_owned()))
    } else {
        Err(std::io::Error::other(format!("clamd answered {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamd_answers_are_read_strictly() {
        assert_eq!(verdict(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(
            verdict(b"stream: Eicar-Test-Signature FOUND\0").unwrap(),
            Verdict::Infected("Eicar-Test-Signature".into())
        );
        assert!(verdict(b"INSTREAM size limit exceeded. ERROR\0").is_err());
        assert!(verdict(b"").is_err());
    }

    #[test]
    fn the_scanner_address_is_tcp_or_a_socket() {
        assert!(matches!(Scanner::parse("tcp://127.0.0.1:3310"), Ok(Scanner::Tcp(a)) if a == "127.0.0.1:3310"));
        assert!(matches!(
            Scanner::parse("unix:///run/clamav/clamd.ctl"),
            Ok(Scanner::Socket(_))
        ));
        assert!(Scanner::parse("http://x").is_err());
    }
}
