//! Binding a listener, with a one-line error that names the port, the
//! cause and the fix.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} ({what}): {cause}; {fix}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub what: &'static str,
    pub cause: String,
    pub fix: String,
}

/// Connections the kernel queues before `accept`. The standard library's
/// 128 overflows when a season start or a 512-player load connects at
/// once, and each overflowed client waits a second for its SYN to be
/// resent; the kernel caps this at `net.core.somaxconn` (4096 on current
/// Linux).
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As the standard library does: a restarted server can bind again at
    // once although the old one's connections are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// `what` names the listener for the operator ("Micro Machines HTTP"),
/// `config_key` the `[listen]` key that moves it.
pub async fn bind(
    addr: SocketAddr,
    what: &'static str,
    config_key: &str,
) -> Result<TcpListener, BindError> {
    listen(addr).map_err(|e| {
        let port = addr.port();
        let elsewhere = format!(
            "or set another address in the config file, e.g. [listen] {config_key} = \"{}:{}\"",
            addr.ip(),
            if port < 1024 { 8000 + port } else { port + 1 }
        );
        let (cause, fix) = match e.kind() {
            io::ErrorKind::AddrInUse => (
                format!("port {port} is already in use"),
                format!("stop the program using it (see `ss -ltnp 'sport = :{port}'`), {elsewhere}"),
            ),
            io::ErrorKind::PermissionDenied => (
                format!("no permission to use port {port}"),
                format!(
                    "ports below 1024 need root or `sudo setcap cap_net_bind_service=+ep $(command -v pitlane)`, {elsewhere}"
                ),
            ),
            io::ErrorKind::AddrNotAvailable => (
                format!("{} is not an address of this machine", addr.ip()),
                format!("use --bind with one of this machine's addresses (or 0.0.0.0), {elsewhere}"),
            ),
            _ => (e.to_string(), elsewhere),
        };
        BindError {
            addr,
            what,
            cause,
            fix,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_named_with_a_fix() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind(addr, "Micro Machines HTTP", "mmws_http")
            .await
            .unwrap_err();
        let line = err.to_string();
        assert!(
            line.contains(&format!("port {} is already in use", addr.port())),
            "{line}"
        );
        assert!(line.contains("[listen] mmws_http"), "{line}");
        assert!(!line.contains('\n'));
    }
}
