//! TLS for Pitlane: the private CA and its certificates, the rustls stack
//! for Micro Machines, the legacy OpenSSL stack for Motor City Online, and
//! the ClientHello sniffer that lets both games share port 443.
//!
//! See `docs/tls.md` for what is generated where and why.

pub mod accept;
pub mod certs;
#[cfg(feature = "legacy-tls")]
pub mod legacy;
pub mod rustls_config;
pub mod sniff;

pub use accept::{AcceptError, Accepted, PortAcceptor, ServerTlsStream};
pub use certs::{CertAction, CertError, CertInfo, CertStatus, CertStore, OperatorCert};
#[cfg(feature = "legacy-tls")]
pub use legacy::{LegacyAcceptor, LegacyError};
pub use rustls_config::{acceptor, CertTable, SniResolver, TlsConfigError};
pub use sniff::{ClientHelloInfo, Route, Sniffer};
