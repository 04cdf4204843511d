//! The `pitlane` program: command line, wiring of games, store and
//! listeners. The games live in their own crates; this crate only puts
//! them on the network.

pub mod allocator;
pub mod app;
pub mod cli;
pub mod commands;
pub mod heartbeat;
pub mod hosts;
pub mod logging;
pub mod mco;
pub mod net;
pub mod server;
pub mod tls;

pub use server::{Listening, Server, StartError};
