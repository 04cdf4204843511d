//! `--record DIR`: a transcript file per connection.
//!
//! Files are named `<opened>-<n>-<channel>.txt` (UTC time, then a counter of
//! the recording), so sorting the names puts a session's connections in
//! the order they were opened, which is the order the replayer plays them.
//! Each message is written and flushed when it passes, so a transcript is
//! useful even when the server is killed.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pitlane_core::recording::{Channel, ConnectionRecorder, SessionRecorder};

use crate::decode::decode;
use crate::secrets::{redact, redact_text, Registry, Secret};
use crate::transcript::{
    header_text, message_text, secret_text, Direction, Header, Message, SecretLine,
};

/// Writes every connection of a server into `dir`.
#[derive(Debug)]
pub struct TranscriptDir {
    dir: PathBuf,
    record_secrets: bool,
    registry: Arc<Registry>,
    count: AtomicU64,
}

impl TranscriptDir {
    /// Creates `dir` if needed. `record_secrets`: write passwords, tickets,
    /// session keys and tokens as they are (local research only).
    pub fn create(dir: &Path, record_secrets: bool) -> std::io::Result<TranscriptDir> {
        std::fs::create_dir_all(dir)?;
        Ok(TranscriptDir {
            dir: dir.to_path_buf(),
            record_secrets,
            registry: Arc::new(Registry::default()),
            count: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl SessionRecorder for TranscriptDir {
    fn open(
        &self,
        channel: Channel,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Arc<dyn ConnectionRecorder> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let now = chrono::Utc::now();
        let name = format!("{}-{n:05}-{channel}.txt", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = self.dir.join(name);
        let header = Header {
            channel,
            server: local.to_string(),
            client: peer.to_string(),
            opened: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            secrets_recorded: self.record_secrets,
        };
        let file = match File::create(&path) {
            Ok(mut file) => {
                if let Err(e) = file.write_all(header_text(&header).as_bytes()) {
                    tracing::warn!(path = %path.display(), error = %e, "cannot write transcript");
                }
                Some(file)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot create transcript; this connection is not recorded");
                None
            }
        };
        Arc::new(FileRecorder {
            file: Mutex::new(file),
            channel,
            port: local.port(),
            opened: Instant::now(),
            registry: self.registry.clone(),
            record_secrets: self.record_secrets,
        })
    }
}

struct FileRecorder {
    file: Mutex<Option<File>>,
    channel: Channel,
    port: u16,
    opened: Instant,
    registry: Arc<Registry>,
    record_secrets: bool,
}

impl FileRecorder {
    fn write(&self, text: &str) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = file.as_mut() {
            if let Err(e) = f.write_all(text.as_bytes()).and_then(|()| f.flush()) {
                tracing::warn!(error = %e, "cannot write transcript; stopping this one");
                *file = None;
            }
        }
    }

    fn redactions(&self) -> Vec<Secret> {
        if self.record_secrets {
            Vec::new()
        } else {
            // Longest first, so a secret containing another is cut whole.
            let mut all = self.registry.all();
            all.sort_by_key(|s| std::cmp::Reverse(s.value.len()));
            all
        }
    }

    fn message(&self, direction: Direction, plain: &[u8], raw: &[u8]) {
        let decoded = decode(self.channel, direction, plain, raw);
        for (kind, value) in &decoded.secrets {
            self.registry.register(kind, value);
        }
        let secrets = self.redactions();
        let message = Message {
            direction,
            at: self.opened.elapsed().as_secs_f64(),
            port: self.port,
            summary: redact_text(&decoded.summary, &secrets),
            decoded: decoded
                .lines
                .iter()
                .map(|l| redact_text(l, &secrets))
                .collect(),
            plain: redact(plain, &secrets),
            raw: (!raw.is_empty() && raw != plain).then(|| redact(raw, &secrets)),
        };
        self.write(&message_text(&message));
    }
}

impl ConnectionRecorder for FileRecorder {
    fn inbound(&self, plain: &[u8], raw: &[u8]) {
        self.message(Direction::ToServer, plain, raw);
    }

    fn outbound(&self, plain: &[u8], raw: &[u8]) {
        self.message(Direction::ToClient, plain, raw);
    }

    fn secret(&self, kind: &'static str, value: &[u8]) {
        if let Some(secret) = self.registry.register(kind, value) {
            self.write(&secret_text(&SecretLine {
                label: secret.label,
                value: self.record_secrets.then(|| value.to_vec()),
            }));
        }
    }
}
