//! The private CA and the certificates it signs.
//!
//! The games only talk to the names they were built for
//! (`mmcos.codemasters.com`, ...), so no public CA will ever sign a
//! certificate for a Pitlane server. Instead every server makes its own root,
//! each player imports that root once, and the server may then re-issue its
//! leaf certificates as often as it likes: as long as the CA stays, players
//! never have to touch their PC again. That is why this module treats the CA
//! as precious (created once, never replaced while it is usable) and the
//! leaves as disposable (re-issued whenever anything about them is off).
//!
//! Everything is RSA: the Windows versions the games ran on predate wide
//! ECDSA support, and the MCO client (Windows XP) needs a small RSA key. The
//! keys come from the `rsa` crate because rcgen, built on `ring` to avoid
//! the cmake/nasm build of aws-lc, cannot generate RSA keys itself; rcgen
//! signs with the CA key given to it as PKCS#8.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber, SubjectPublicKeyInfo,
    PKCS_RSA_SHA256,
};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::public_key::PublicKey;

/// The three host names the unmodified Micro Machines client connects to.
pub const MMWS_HOST_NAMES: [&str; 3] = [
    "mmcos.codemasters.com",
    "prod.egonet.codemasters.com",
    "ecdn.codemasters.com",
];

/// Key size of the CA and the Micro Machines server certificate. 2048 is the
/// smallest size every current client accepts and the largest that the
/// oldest Windows releases the games ran on handle without trouble.
pub const RSA_BITS: usize = 2048;

/// Key size the Windows XP-era MCO client is known to accept (the community
/// server's certificate); larger keys are reported to fail on XP.
pub const DEFAULT_MCO_KEY_BITS: usize = 1024;

/// How long before expiry a generated leaf certificate is re-issued.
pub const DEFAULT_RENEW_BEFORE: Duration = Duration::days(30);

const CA_LIFETIME: Duration = Duration::days(3650);
const LEAF_LIFETIME: Duration = Duration::days(365);
/// Player PCs with a slow clock must not see a brand-new certificate as
/// "not yet valid".
const BACKDATE: Duration = Duration::days(1);
/// Replacing the CA means every player re-imports it, so the operator needs
/// months of notice, not days.
const CA_WARN_BEFORE: Duration = Duration::days(180);
/// Operator-supplied certificates are not renewed by us; warn early enough
/// to get a new one.
const OPERATOR_WARN_BEFORE: Duration = Duration::days(30);

/// Why certificate handling failed. Problems that still leave a working
/// server (a certificate expiring soon, a name missing from an operator's
/// certificate) are warnings in [`CertStatus`], not errors.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("building a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("generating an RSA key: {0}")]
    Key(String),
    #[error("{0:?} is not a valid host name")]
    BadName(String),
    #[error("RSA key size {0} is not supported (1024..=4096, a multiple of 8)")]
    KeySize(usize),
}

pub type Result<T, E = CertError> = std::result::Result<T, E>;

/// Where the store's files live. Public so the binary can print them (for
/// example the `ca.cer` a player must import).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    pub dir: PathBuf,
    /// CA private key, PKCS#8 PEM, mode 0600.
    pub ca_key: PathBuf,
    /// CA certificate, PEM.
    pub ca_pem: PathBuf,
    /// CA certificate, PEM, under the extension Windows' file dialogs offer.
    pub ca_crt: PathBuf,
    /// CA certificate, DER: what `certutil -addstore` and a double-click on
    /// Windows import.
    pub ca_cer: PathBuf,
    /// Micro Machines server key, PKCS#8 PEM, mode 0600.
    pub server_key: PathBuf,
    /// Micro Machines server certificate followed by the CA.
    pub server_pem: PathBuf,
    /// MCO AuthLogin key (small, see [`DEFAULT_MCO_KEY_BITS`]), mode 0600.
    pub mco_key: PathBuf,
    /// MCO AuthLogin certificate followed by the CA.
    pub mco_pem: PathBuf,
}

impl CertPaths {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            ca_key: dir.join("ca.key"),
            ca_pem: dir.join("ca.pem"),
            ca_crt: dir.join("ca.crt"),
            ca_cer: dir.join("ca.cer"),
            server_key: dir.join("server.key"),
            server_pem: dir.join("server.pem"),
            mco_key: dir.join("mco.key"),
            mco_pem: dir.join("mco.pem"),
        }
    }
}

/// A certificate and key pair on disk, supplied by the operator instead of
/// generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCert {
    /// PEM: the leaf first, then any intermediates.
    pub chain: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// What `ensure` did to one certificate, so the binary can log it and tell
/// the operator when players must act (only when the CA is new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertAction {
    /// The existing certificate was fine and left alone.
    Kept,
    /// There was none; a new one was made.
    Created,
    /// The existing one was replaced; `reason` is a sentence for the log.
    Renewed { reason: String },
    /// The operator's own certificate is in use; nothing was written.
    OperatorSupplied,
}

/// What a certificate on disk says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub common_name: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// RSA modulus size; `None` for other key types.
    pub rsa_bits: Option<usize>,
    /// PEM file with the certificate (for leaves: followed by its chain).
    pub cert_path: PathBuf,
    /// PEM private key.
    pub key_path: PathBuf,
}

impl CertInfo {
    /// Whole days left, rounded down; negative once expired.
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }
}

/// The result of [`CertStore::ensure`] / [`CertStore::ensure_mco`].
#[derive(Debug, Clone)]
pub struct CertStatus {
    /// Our CA; `None` when the operator supplied the leaf certificate.
    pub ca: Option<CertInfo>,
    pub ca_action: CertAction,
    /// The certificate the server presents, with the paths to load.
    pub leaf: CertInfo,
    pub leaf_action: CertAction,
    /// Sentences for the log at warn level, ahead of trouble.
    pub warnings: Vec<String>,
}

/// A directory of certificates, created on demand.
#[derive(Debug, Clone)]
pub struct CertStore {
    paths: CertPaths,
    renew_before: Duration,
    ca_common_name: Option<String>,
    operator_server: Option<OperatorCert>,
    operator_mco: Option<OperatorCert>,
}

impl CertStore {
    /// Nothing is read or written until [`ensure`](Self::ensure), so opening
    /// never fails on a fresh data directory.
    pub fn open(dir: impl AsRef<Path>) -> Self {
        Self {
            paths: CertPaths::new(dir.as_ref()),
            renew_before: DEFAULT_RENEW_BEFORE,
            ca_common_name: None,
            operator_server: None,
            operator_mco: None,
        }
    }

    pub fn paths(&self) -> &CertPaths {
        &self.paths
    }

    /// Re-issue generated leaves this long before they expire.
    pub fn with_renew_before(mut self, window: Duration) -> Self {
        self.renew_before = window;
        self
    }

    /// Common name of a CA created from now on (an existing CA keeps its
    /// name). Players see it in Windows' certificate manager, and
    /// `certutil -delstore Root "<name>"` removes it, so it should say whose
    /// server it belongs to. Default: `Pitlane Root CA <8 random hex digits>`,
    /// unique so that removing one server's CA never removes another's.
    pub fn with_ca_common_name(mut self, name: impl Into<String>) -> Self {
        self.ca_common_name = Some(name.into());
        self
    }

    /// Serve the operator's own Micro Machines certificate instead of a
    /// generated one. It is only checked, never written or renewed.
    pub fn with_operator_server_cert(mut self, cert: OperatorCert) -> Self {
        self.operator_server = Some(cert);
        self
    }

    /// Same as [`with_operator_server_cert`](Self::with_operator_server_cert)
    /// for the MCO AuthLogin certificate.
    pub fn with_operator_mco_cert(mut self, cert: OperatorCert) -> Self {
        self.operator_mco = Some(cert);
        self
    }

    /// Make sure a usable Micro Machines server certificate exists for the
    /// three game host names, `localhost`, `extra_names` and `ips`, creating
    /// the CA and re-issuing the leaf as needed.
    ///
    /// Call it at start-up and then periodically (daily is plenty): a server
    /// that runs for a year must renew without a restart.
    pub fn ensure(
        &self,
        extra_names: &[String],
        ips: &[IpAddr],
        now: DateTime<Utc>,
    ) -> Result<CertStatus> {
        let mut names: Vec<String> = MMWS_HOST_NAMES.iter().map(|s| s.to_string()).collect();
        names.push("localhost".into());
        names.extend(extra_names.iter().cloned());
        let wanted = Wanted::new(&names, ips, RSA_BITS)?;
        self.ensure_leaf(
            &wanted,
            self.operator_server.as_ref(),
            &self.paths.server_pem,
            &self.paths.server_key,
            "server",
            now,
        )
    }

    /// Make sure the MCO AuthLogin certificate exists for `names` (the
    /// client's `AuthLoginServer` registry value; `localhost` is always
    /// added) and `ips`, signed by the same CA so a player imports one root
    /// for both games. `key_bits` is a parameter because the XP client is
    /// said to need 1024 while clients on newer Windows accept more.
    pub fn ensure_mco(
        &self,
        names: &[String],
        ips: &[IpAddr],
        key_bits: usize,
        now: DateTime<Utc>,
    ) -> Result<CertStatus> {
        if !(1024..=4096).contains(&key_bits) || key_bits % 8 != 0 {
            return Err(CertError::KeySize(key_bits));
        }
        let mut all: Vec<String> = names.to_vec();
        all.push("localhost".into());
        let wanted = Wanted::new(&all, ips, key_bits)?;
        self.ensure_leaf(
            &wanted,
            self.operator_mco.as_ref(),
            &self.paths.mco_pem,
            &self.paths.mco_key,
            "MCO certificate",
            now,
        )
    }

    /// The CA as it is on disk, without creating anything: for commands
    /// that only report (the CA's name goes into the player's
    /// `certutil -delstore` command) and must not make a CA as a side
    /// effect.
    pub fn ca_info(&self) -> Result<Option<CertInfo>> {
        if !self.paths.ca_pem.exists() {
            return Ok(None);
        }
        let der = read_first_cert(&self.paths.ca_pem)?;
        let (_, cert) = parse_cert(&der, &self.paths.ca_pem)?;
        Ok(Some(cert_info(
            &cert,
            &self.paths.ca_pem,
            &self.paths.ca_key,
        )))
    }

    fn ensure_leaf(
        &self,
        wanted: &Wanted,
        operator: Option<&OperatorCert>,
        pem_path: &Path,
        key_path: &Path,
        what: &str,
        now: DateTime<Utc>,
    ) -> Result<CertStatus> {
        let mut warnings = Vec::new();
        if let Some(op) = operator {
            let leaf = check_operator_cert(op, wanted, what, now, &mut warnings)?;
            return Ok(CertStatus {
                ca: None,
                ca_action: CertAction::OperatorSupplied,
                leaf,
                leaf_action: CertAction::OperatorSupplied,
                warnings,
            });
        }

        create_dir(&self.paths.dir)?;
        let (ca, ca_action) = self.ensure_ca(now, &mut warnings)?;
        let ca_days = ca.info.days_left(now);
        if ca.info.not_after - now <= CA_WARN_BEFORE {
            warnings.push(format!(
                "CA certificate \"{}\" expires in {ca_days} days; after that every player must import a new CA (delete {} to make one now)",
                ca.info.common_name,
                self.paths.ca_pem.display()
            ));
        }
        warn_if_readable(&self.paths.ca_key, &mut warnings);

        let problem = match leaf_problem(&ca, wanted, pem_path, key_path, now, self.renew_before) {
            Ok(problem) => problem,
            Err(e) => Some(LeafProblem::Unreadable(e.to_string())),
        };
        let leaf_action = match problem {
            None => CertAction::Kept,
            Some(LeafProblem::Missing) => {
                issue_leaf(&ca, wanted, pem_path, key_path, now)?;
                CertAction::Created
            }
            Some(p) => {
                issue_leaf(&ca, wanted, pem_path, key_path, now)?;
                CertAction::Renewed {
                    reason: format!("{what} {p}"),
                }
            }
        };
        warn_if_readable(key_path, &mut warnings);

        let der = read_first_cert(pem_path)?;
        let (_, cert) = parse_cert(&der, pem_path)?;
        let leaf = cert_info(&cert, pem_path, key_path);
        // A leaf cannot outlive its CA in the eyes of a client.
        if ca.info.not_after < leaf.not_after {
            warnings.push(format!(
                "{what} is valid until {} but the CA only until {}",
                leaf.not_after.date_naive(),
                ca.info.not_after.date_naive()
            ));
        }
        Ok(CertStatus {
            ca: Some(ca.info),
            ca_action,
            leaf,
            leaf_action,
            warnings,
        })
    }

    fn ensure_ca(
        &self,
        now: DateTime<Utc>,
        warnings: &mut Vec<String>,
    ) -> Result<(LoadedCa, CertAction)> {
        let p = &self.paths;
        let existing = if p.ca_pem.exists() || p.ca_key.exists() {
            match load_ca(p) {
                Ok(ca) if ca.info.not_after <= now => {
                    Err(format!("expired on {}", ca.info.not_after.date_naive()))
                }
                Ok(ca) => Ok(Some(ca)),
                Err(e) => Err(e.to_string()),
            }
        } else {
            Ok(None)
        };
        match existing {
            Ok(Some(ca)) => {
                // The copies for Windows are derived files: restore them if
                // someone deleted one, without touching the CA itself.
                if !p.ca_cer.exists() || !p.ca_crt.exists() {
                    write_ca_exports(p, &ca.der)?;
                }
                Ok((ca, CertAction::Kept))
            }
            Ok(None) => {
                let ca = self.create_ca(now)?;
                Ok((ca, CertAction::Created))
            }
            Err(reason) => {
                let ca = self.create_ca(now)?;
                warnings.push(format!(
                    "the old CA was unusable ({reason}); a new CA \"{}\" was made and every player must import {}",
                    ca.info.common_name,
                    p.ca_cer.display()
                ));
                Ok((
                    ca,
                    CertAction::Renewed {
                        reason: format!("CA {reason}"),
                    },
                ))
            }
        }
    }

    fn create_ca(&self, now: DateTime<Utc>) -> Result<LoadedCa> {
        let p = &self.paths;
        let cn = match &self.ca_common_name {
            Some(cn) => cn.clone(),
            None => {
                let mut id = [0u8; 4];
                rand::thread_rng().fill_bytes(&mut id);
                format!("Pitlane Root CA {}", hex(&id))
            }
        };
        let rsa_key = generate_rsa(RSA_BITS)?;
        let pkcs8 = rsa_key
            .to_pkcs8_der()
            .map_err(|e| CertError::Key(e.to_string()))?;
        let key_pair = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8.as_bytes()),
            &PKCS_RSA_SHA256,
        )?;

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        dn.push(DnType::OrganizationName, "Pitlane");
        params.distinguished_name = dn;
        // Path length 0: this CA signs leaves only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial());
        params.not_before = to_time(now - BACKDATE)?;
        params.not_after = to_time(now + CA_LIFETIME)?;
        let cert = params.self_signed(&key_pair)?;

        let key_pem = rsa_key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| CertError::Key(e.to_string()))?;
        // Key first: a CA certificate without its key would be useless.
        write_atomic(&p.ca_key, key_pem.as_bytes(), true)?;
        write_atomic(&p.ca_pem, cert.pem().as_bytes(), false)?;
        let der = cert.der().to_vec();
        write_ca_exports(p, &der)?;
        load_ca(p)
    }
}

/// The names and key size a leaf must have.
#[derive(Debug)]
struct Wanted {
    /// Lower-case, deduplicated, in the caller's order (the first one
    /// becomes the common name).
    names: Vec<String>,
    ips: Vec<IpAddr>,
    key_bits: usize,
}

impl Wanted {
    fn new(names: &[String], ips: &[IpAddr], key_bits: usize) -> Result<Self> {
        let mut out_names: Vec<String> = Vec::new();
        let mut out_ips: Vec<IpAddr> = Vec::new();
        for raw in names {
            let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
            // An address given as a name still belongs in the certificate,
            // just as an IP entry.
            if let Ok(ip) = name.parse::<IpAddr>() {
                if !out_ips.contains(&ip) {
                    out_ips.push(ip);
                }
                continue;
            }
            if !valid_dns_name(&name) {
                return Err(CertError::BadName(raw.clone()));
            }
            if !out_names.contains(&name) {
                out_names.push(name);
            }
        }
        for ip in ips {
            if !out_ips.contains(ip) {
                out_ips.push(*ip);
            }
        }
        Ok(Self {
            names: out_names,
            ips: out_ips,
            key_bits,
        })
    }
}

fn valid_dns_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[derive(Debug)]
enum LeafProblem {
    Missing,
    Unreadable(String),
    NotFromCa,
    KeyMismatch,
    NotYetValid,
    Expiring(i64),
    MissingNames(Vec<String>),
    KeySize { have: Option<usize>, want: usize },
}

impl fmt::Display for LeafProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeafProblem::Missing => write!(f, "was missing"),
            LeafProblem::Unreadable(e) => write!(f, "was unreadable ({e})"),
            LeafProblem::NotFromCa => write!(f, "was not signed by the current CA"),
            LeafProblem::KeyMismatch => write!(f, "did not match its key"),
            LeafProblem::NotYetValid => write!(f, "was not valid yet (clock moved back?)"),
            LeafProblem::Expiring(d) if *d < 0 => write!(f, "had expired"),
            LeafProblem::Expiring(d) => write!(f, "expires in {d} days"),
            LeafProblem::MissingNames(n) => write!(f, "did not cover {}", n.join(", ")),
            LeafProblem::KeySize { have, want } => match have {
                Some(h) => write!(f, "had a {h}-bit key instead of {want}"),
                None => write!(f, "had a non-RSA key instead of RSA {want}"),
            },
        }
    }
}

/// `Ok(None)` when the existing leaf can stay.
fn leaf_problem(
    ca: &LoadedCa,
    wanted: &Wanted,
    pem_path: &Path,
    key_path: &Path,
    now: DateTime<Utc>,
    renew_before: Duration,
) -> Result<Option<LeafProblem>> {
    if !pem_path.exists() || !key_path.exists() {
        return Ok(Some(LeafProblem::Missing));
    }
    let der = read_first_cert(pem_path)?;
    let (_, cert) = parse_cert(&der, pem_path)?;
    let ca_cert = parse_cert(&ca.der, &ca.info.cert_path)?.1;
    if cert.issuer().as_raw() != ca_cert.subject().as_raw()
        || cert.verify_signature(Some(ca_cert.public_key())).is_err()
    {
        return Ok(Some(LeafProblem::NotFromCa));
    }
    let key = read_rsa_key(key_path)?;
    let spki = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| CertError::Key(e.to_string()))?;
    if spki.as_bytes() != cert.public_key().raw {
        return Ok(Some(LeafProblem::KeyMismatch));
    }
    let info = cert_info(&cert, pem_path, key_path);
    if info.rsa_bits != Some(wanted.key_bits) {
        return Ok(Some(LeafProblem::KeySize {
            have: info.rsa_bits,
            want: wanted.key_bits,
        }));
    }
    if info.not_before > now {
        return Ok(Some(LeafProblem::NotYetValid));
    }
    if info.not_after - now <= renew_before {
        return Ok(Some(LeafProblem::Expiring(info.days_left(now))));
    }
    let missing = missing_names(&info, wanted);
    if !missing.is_empty() {
        return Ok(Some(LeafProblem::MissingNames(missing)));
    }
    Ok(None)
}

fn missing_names(info: &CertInfo, wanted: &Wanted) -> Vec<String> {
    let mut missing: Vec<String> = wanted
        .names
        .iter()
        .filter(|n| !info.dns_names.iter().any(|san| dns_matches(san, n)))
        .cloned()
        .collect();
    missing.extend(
        wanted
            .ips
            .iter()
            .filter(|ip| !info.ip_addresses.contains(ip))
            .map(|ip| ip.to_string()),
    );
    missing
}

/// A SAN entry matches a name exactly or as a one-label wildcard, the way
/// TLS clients check (operators may bring a `*.example.org` certificate).
fn dns_matches(san: &str, name: &str) -> bool {
    let san = san.to_ascii_lowercase();
    if san == name {
        return true;
    }
    match san.strip_prefix("*.") {
        Some(suffix) => match name.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == suffix,
            None => false,
        },
        None => false,
    }
}

fn issue_leaf(
    ca: &LoadedCa,
    wanted: &Wanted,
    pem_path: &Path,
    key_path: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let key = generate_rsa(wanted.key_bits)?;
    let spki_der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| CertError::Key(e.to_string()))?;
    // Given as a bare public key, so that rcgen (on ring, which refuses RSA
    // keys under 2048 bits) never has to load the small MCO key.
    let public = SubjectPublicKeyInfo::from_der(spki_der.as_bytes())?;

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let cn = wanted
        .names
        .first()
        .cloned()
        .or_else(|| wanted.ips.first().map(|ip| ip.to_string()))
        .unwrap_or_else(|| "localhost".into());
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Pitlane");
    params.distinguished_name = dn;
    for name in &wanted.names {
        params
            .subject_alt_names
            .push(SanType::DnsName(name.clone().try_into()?));
    }
    for ip in &wanted.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.is_ca = IsCa::ExplicitNoCa;
    // KeyEncipherment as well as DigitalSignature: the MCO client's cipher
    // suites (RC4-SHA, DES-CBC3-SHA) use RSA key exchange, and Windows
    // refuses a certificate whose key usage does not allow it.
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    params.not_before = to_time(now - BACKDATE)?;
    let mut not_after = now + LEAF_LIFETIME;
    if not_after > ca.info.not_after {
        not_after = ca.info.not_after;
    }
    params.not_after = to_time(not_after)?;

    let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(ca.der.as_slice()), &ca.key)?;
    let cert = params.signed_by(&public, &issuer)?;

    let key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| CertError::Key(e.to_string()))?;
    let mut chain = cert.pem();
    chain.push_str(&pem_of(&ca.der));
    write_atomic(key_path, key_pem.as_bytes(), true)?;
    write_atomic(pem_path, chain.as_bytes(), false)?;
    Ok(())
}

fn check_operator_cert(
    op: &OperatorCert,
    wanted: &Wanted,
    what: &str,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<CertInfo> {
    let der = read_first_cert(&op.chain)?;
    let (_, cert) = parse_cert(&der, &op.chain)?;
    let info = cert_info(&cert, &op.chain, &op.key);
    // The key must at least be readable; whether it matches is checked when
    // the TLS stack loads it (it knows every key type).
    let key_pem = fs::read(&op.key).map_err(|source| CertError::Io {
        path: op.key.clone(),
        source,
    })?;
    if rustls_pki_types::PrivateKeyDer::from_pem_slice(&key_pem).is_err() {
        return Err(CertError::Invalid {
            path: op.key.clone(),
            reason: "no PEM private key found".into(),
        });
    }
    let days = info.days_left(now);
    if info.not_after <= now {
        warnings.push(format!(
            "operator-supplied {what} {} expired on {}; clients will refuse it",
            op.chain.display(),
            info.not_after.date_naive()
        ));
    } else if info.not_after - now <= OPERATOR_WARN_BEFORE {
        warnings.push(format!(
            "operator-supplied {what} {} expires in {days} days; Pitlane does not renew it",
            op.chain.display()
        ));
    }
    if info.not_before > now {
        warnings.push(format!(
            "operator-supplied {what} {} is not valid before {}",
            op.chain.display(),
            info.not_before
        ));
    }
    let missing = missing_names(&info, wanted);
    if !missing.is_empty() {
        warnings.push(format!(
            "operator-supplied {what} {} does not cover {}; clients using those names will refuse it",
            op.chain.display(),
            missing.join(", ")
        ));
    }
    warn_if_readable(&op.key, warnings);
    Ok(info)
}

struct LoadedCa {
    der: Vec<u8>,
    key: KeyPair,
    info: CertInfo,
}

fn load_ca(p: &CertPaths) -> Result<LoadedCa> {
    let der = read_first_cert(&p.ca_pem)?;
    let key_pem = read_string(&p.ca_key)?;
    let key = KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &PKCS_RSA_SHA256).map_err(|e| {
        CertError::Invalid {
            path: p.ca_key.clone(),
            reason: e.to_string(),
        }
    })?;
    let (_, cert) = parse_cert(&der, &p.ca_pem)?;
    if key.subject_public_key_info() != cert.public_key().raw {
        return Err(CertError::Invalid {
            path: p.ca_key.clone(),
            reason: "does not match ca.pem".into(),
        });
    }
    let info = cert_info(&cert, &p.ca_pem, &p.ca_key);
    Ok(LoadedCa { der, key, info })
}

fn write_ca_exports(p: &CertPaths, der: &[u8]) -> Result<()> {
    write_atomic(&p.ca_cer, der, false)?;
    write_atomic(&p.ca_crt, pem_of(der).as_bytes(), false)
}

fn cert_info(cert: &X509Certificate<'_>, cert_path: &Path, key_path: &Path) -> CertInfo {
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns_names.push(n.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(b) = <[u8; 4]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(b));
                    } else if let Ok(b) = <[u8; 16]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(b));
                    }
                }
                _ => {}
            }
        }
    }
    let rsa_bits = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    };
    CertInfo {
        common_name,
        not_before: from_asn1_time(cert.validity().not_before.timestamp()),
        not_after: from_asn1_time(cert.validity().not_after.timestamp()),
        dns_names,
        ip_addresses,
        rsa_bits,
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
    }
}

fn from_asn1_time(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn to_time(t: DateTime<Utc>) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| CertError::Key(format!("date out of range: {e}")))
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    // Positive and without a leading zero byte, as RFC 5280 asks.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn generate_rsa(bits: usize) -> Result<RsaPrivateKey> {
    RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(|e| CertError::Key(e.to_string()))
}

fn read_rsa_key(path: &Path) -> Result<RsaPrivateKey> {
    let pem = read_string(path)?;
    RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| CertError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CertError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_first_cert(path: &Path) -> Result<Vec<u8>> {
    let data = fs::read(path).map_err(|source| CertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match CertificateDer::pem_slice_iter(&data).next() {
        Some(Ok(der)) => Ok(der.to_vec()),
        Some(Err(e)) => Err(CertError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
        None => Err(CertError::Invalid {
            path: path.to_path_buf(),
            reason: "no PEM certificate found".into(),
        }),
    }
}

fn parse_cert<'a>(der: &'a [u8], path: &Path) -> Result<(&'a [u8], X509Certificate<'a>)> {
    x509_parser::parse_x509_certificate(der).map_err(|e| CertError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        // The directory holds private keys.
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| CertError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Write to a temporary file and rename it over the target, so a crash or a
/// concurrent reader never sees half a key or certificate.
fn write_atomic(path: &Path, data: &[u8], private: bool) -> Result<()> {
    let io_err = |source| CertError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut suffix = [0u8; 4];
    rand::thread_rng().fill_bytes(&mut suffix);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", hex(&suffix)));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}

fn warn_if_readable(path: &Path, warnings: &mut Vec<String>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                warnings.push(format!(
                    "{} can be read by other users of this machine (chmod 600 it)",
                    path.display()
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, warnings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_covers_one_label_only() {
        assert!(dns_matches("*.codemasters.com", "mmcos.codemasters.com"));
        assert!(!dns_matches(
            "*.codemasters.com",
            "prod.egonet.codemasters.com"
        ));
        assert!(!dns_matches("*.codemasters.com", "codemasters.com"));
        assert!(dns_matches("LOCALHOST", "localhost"));
    }

    #[test]
    fn names_are_checked_and_addresses_moved() {
        let w = Wanted::new(
            &[
                "Example.ORG.".into(),
                "10.0.0.1".into(),
                "example.org".into(),
            ],
            &[],
            2048,
        )
        .unwrap();
        assert_eq!(w.names, vec!["example.org"]);
        assert_eq!(w.ips, vec!["10.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(Wanted::new(&["bad name".into()], &[], 2048).is_err());
        assert!(Wanted::new(&["".into()], &[], 2048).is_err());
        assert!(Wanted::new(&["-x.org".into()], &[], 2048).is_err());
    }
}
