//! Session recording and replay for protocol research (`pitlane serve
//! --record DIR`, `pitlane replay`).
//!
//! - [`writer`]: the [`SessionRecorder`](pitlane_core::recording::SessionRecorder)
//!   behind `--record`: one transcript file per connection, secrets redacted.
//! - [`transcript`]: the line format and its parser.
//! - [`decode`]: what a message means, per channel, and which of its
//!   values are secrets.
//! - [`compare`]: structural comparison of a recorded answer with a fresh one.
//! - [`replay`]: plays the client side of transcripts against a server.
//!
//! The format is described in `docs/recording.md`.

pub mod compare;
pub mod decode;
pub mod http_text;
pub mod replay;
pub mod secrets;
pub mod transcript;
pub mod writer;

pub use replay::{replay, ReplayOptions, ReplayReport, Targets};
pub use transcript::Transcript;
pub use writer::TranscriptDir;
