//! The `Error` member every result carries. The official server never sent
//! a non-nil one, so its shape is ours (see docs/mmws-protocol.md): an
//! `ErrorCode` (the HTTP status we answer with) and a `Message` in English.

use crate::xml::{Contract, XmlWriter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub code: u16,
    pub message: String,
}

impl Contract for ServiceError {
    fn write_members(&self, w: &mut XmlWriter) {
        w.int("ErrorCode", i64::from(self.code));
        w.text("Message", &self.message);
    }
}

/// A result document that carries only its `Error`.
pub struct ErrorOnly<'a>(pub &'a ServiceError);

impl Contract for ErrorOnly<'_> {
    fn write_members(&self, w: &mut XmlWriter) {
        w.object("Error", self.0);
    }
}
