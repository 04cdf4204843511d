//! The certificates the games are served with, as they are on disk now
//! (renewal replaces them while the server runs), for the overview's
//! expiry dates. Read-only: making and renewing them is `pitlane-tls`'s job.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use pitlane_core::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    pub label: &'static str,
    pub path: PathBuf,
    /// The subject's common name.
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// What stops one certificate from being shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertProblem {
    pub label: &'static str,
    pub path: PathBuf,
    pub problem: String,
}

/// The CA, the Micro Machines server certificate (or the operator's own)
/// and the Motor City one, each that exists. Files that are missing are
/// left out (TLS off, or not made yet); unreadable ones are reported.
pub fn certificates(config: &Config) -> (Vec<CertSummary>, Vec<CertProblem>) {
    let dir = config.server.data_dir.join("certs");
    let server = config
        .tls
        .cert_file
        .clone()
        .unwrap_or_else(|| dir.join("server.pem"));
    let files = [
        ("Private CA (players import it)", dir.join("ca.pem")),
        ("Micro Machines HTTPS", server),
        ("Motor City AuthLogin", dir.join("mco.pem")),
    ];
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (label, path) in files {
        if !path.exists() {
            continue;
        }
        match read_first(&path) {
            Ok((subject, not_after)) => found.push(CertSummary {
                label,
                path,
                subject,
                not_after,
            }),
            Err(problem) => problems.push(CertProblem {
                label,
                path,
                problem,
            }),
        }
    }
    (found, problems)
}

/// Subject CN and expiry of the first certificate in a PEM file.
fn read_first(path: &Path) -> Result<(String, DateTime<Utc>), String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&data).map_err(|e| e.to_string())?;
    let cert = pem.parse_x509().map_err(|e| e.to_string())?;
    let subject = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("")
        .to_string();
    let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or("its expiry date is out of range")?;
    Ok((subject, not_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_left_out_and_garbage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.server.data_dir = dir.path().to_path_buf();
        assert_eq!(certificates(&config), (vec![], vec![]));
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        std::fs::write(dir.path().join("certs/ca.pem"), "not a certificate").unwrap();
        let (found, problems) = certificates(&config);
        assert!(found.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].label.starts_with("Private CA"));
    }
}
