//! Motor City Online in the binary: its keys in the data directory, its
//! NPS listeners, and its plain-text HTTP answers (shard list, patch check,
//! AuthLogin).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use motorcity::http::{AuthFailure, AuthLoginRequest, AuthLoginResponse, ShardEntry};
use motorcity::{DirectorySettings, LoginKey, StoreDirectory};
use pitlane_core::body::Body;
use pitlane_core::config::MotorCitySettings;
use pitlane_core::Clock;
use pitlane_store::Store;

/// The patch server's "you are up to date" answer (community-observed; the
/// client then proceeds).
const CASTANET_UP_TO_DATE: &[u8] = &[0xCA, 0xFE, 0xBE, 0xEF, 0, 0, 0, 0, 0, 0, 0x03];
const PATCH_PREFIX: &str = "/games/ea_seattle/motorcity/";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the MCO key in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the MCO key in {path} is not usable: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Where the MCO login key lives: `<data dir>/mco/`.
pub fn key_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mco")
}

/// Loads the RSA key the client encrypts its session key to, creating it
/// (and the player's `pub.key`) on first use. Returns the key and whether
/// it was just created.
pub fn load_or_create_login_key(data_dir: &Path) -> Result<(LoginKey, bool), KeyError> {
    let dir = key_dir(data_dir);
    let key_path = dir.join("login-key.pem");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    let invalid = |path: &Path, e: motorcity::crypto::CryptoError| KeyError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if key_path.exists() {
        let key = LoginKey::load(&key_path).map_err(|e| invalid(&key_path, e))?;
        return Ok((key, false));
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let key = LoginKey::generate().map_err(|e| invalid(&key_path, e))?;
    let pem = key.to_pkcs8_pem().map_err(|e| invalid(&key_path, e))?;
    write_private(&key_path, pem.as_bytes()).map_err(io(&key_path))?;
    let pub_path = dir.join("pub.key");
    let public = key
        .public_key()
        .to_pub_key_file()
        .map_err(|e| invalid(&pub_path, e))?;
    std::fs::write(&pub_path, public).map_err(io(&pub_path))?;
    Ok((key, true))
}

/// Writes a secret readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(bytes)
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, bytes)
    }
}

pub fn directory_settings(settings: &MotorCitySettings, help_url: String) -> DirectorySettings {
    DirectorySettings {
        ticket_lifetime: Duration::from_secs(settings.ticket_lifetime_secs),
        session_lifetime: Duration::from_secs(settings.session_lifetime_hours * 3600),
        max_personas_per_account: settings.max_personas_per_user,
        help_url,
        population_cap: settings.population_cap,
        password_cache: Duration::from_secs(settings.password_cache_secs),
        ..DirectorySettings::default()
    }
}

/// The HTTP side of MCO.
pub struct McoHttp {
    pub directory: Arc<StoreDirectory>,
    pub settings: MotorCitySettings,
    /// Host name or address the shard list points clients at.
    pub public_host: String,
    /// The login server's port as bound (announced in the shard list).
    pub login_port: u16,
}

impl std::fmt::Debug for McoHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McoHttp")
            .field("public_host", &self.public_host)
            .finish_non_exhaustive()
    }
}

fn text(body: impl Into<Bytes>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(body.into()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

impl McoHttp {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        settings: &MotorCitySettings,
        public_host: String,
        login_port: u16,
    ) -> Self {
        let help = format!("http://{public_host}/");
        Self {
            directory: Arc::new(StoreDirectory::new(
                store,
                clock,
                directory_settings(settings, help),
            )),
            settings: settings.clone(),
            public_host,
            login_port,
        }
    }

    /// Whether a path belongs to MCO's plain-HTTP side.
    pub fn owns_path(path: &str) -> bool {
        let lower = path.to_ascii_lowercase();
        lower == "/shardlist/"
            || lower == "/shardlist"
            || lower.starts_with(PATCH_PREFIX)
            || lower == "/authlogin"
    }

    /// Serves an MCO path. `secure` is whether the request came over TLS:
    /// AuthLogin carries the password in its URL and is refused in clear.
    pub async fn handle(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        peer: SocketAddr,
        secure: bool,
    ) -> Response<Body> {
        let lower = path.to_ascii_lowercase();
        if lower.starts_with(PATCH_PREFIX) {
            return text(
                Bytes::from_static(CASTANET_UP_TO_DATE),
                "application/octet-stream",
            );
        }
        if lower.starts_with("/shardlist") {
            let mut shard = ShardEntry::new(
                &self.settings.shard_name,
                self.settings.shard_id,
                &self.public_host,
            );
            shard.login_port = self.login_port;
            if !self.settings.shard_description.is_empty() {
                shard.description = self.settings.shard_description.clone();
            }
            return text(
                self.directory.shard_list(&[shard]).await,
                motorcity::http::CONTENT_TYPE,
            );
        }
        if method != Method::GET {
            let mut r = text("only GET", "text/plain");
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            return r;
        }
        let refusal = || {
            AuthLoginResponse::Invalid(AuthFailure::invalid_credentials(
                &self.directory.settings().help_url,
            ))
        };
        if !secure {
            tracing::warn!(%peer, "AuthLogin over plain HTTP refused: it carries the password");
            return text(refusal().body(), motorcity::http::CONTENT_TYPE);
        }
        let answer = match AuthLoginRequest::from_query(query.unwrap_or_default()) {
            Ok(request) => {
                self.auth_login(&request.username, &request.password, peer.ip())
                    .await
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "AuthLogin request not understood");
                refusal()
            }
        };
        text(answer.body(), motorcity::http::CONTENT_TYPE)
    }

    async fn auth_login(&self, username: &str, password: &str, ip: IpAddr) -> AuthLoginResponse {
        if self.settings.open_registration {
            match self
                .directory
                .store()
                .mco_accounts()
                .by_name(username)
                .await
            {
                Ok(None) => match self.directory.create_account(username, password).await {
                    Ok(account) => tracing::info!(
                        username,
                        customer = account.customer_id,
                        "account created by open registration"
                    ),
                    Err(e) => tracing::info!(username, error = %e, "open registration refused"),
                },
                Ok(Some(_)) => {}
                Err(e) => tracing::error!(error = %e, "account lookup failed"),
            }
        }
        self.directory.auth_login(username, password, ip).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mco_paths_are_recognised() {
        assert!(McoHttp::owns_path("/ShardList/"));
        assert!(McoHttp::owns_path("/games/EA_Seattle/MotorCity/UpdateInfo"));
        assert!(McoHttp::owns_path("/AuthLogin"));
        assert!(!McoHttp::owns_path(
            "/MMCOS/MMCOS-Account/AccountService.svc/Login"
        ));
    }

    #[test]
    fn the_key_is_created_once_with_its_pub_key() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_login_key(dir.path()).unwrap();
        assert!(created);
        let pub_key = std::fs::read_to_string(dir.path().join("mco/pub.key")).unwrap();
        assert_eq!(pub_key.len(), 324, "hex of a 1024-bit SubjectPublicKeyInfo");
        let (again, created) = load_or_create_login_key(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(
            again.public_key().to_pub_key_file().unwrap(),
            first.public_key().to_pub_key_file().unwrap()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("mco/login-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
