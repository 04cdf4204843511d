//! The two XML dialects of MMCOS: what the WCF service wrote (compact,
//! members in alphabetical order, `i:nil` for nulls) and what the Unity
//! client sends (pretty-printed, its own element order).

pub mod reader;
pub mod writer;

pub use reader::{Element, ParseLimits, XmlError};
pub use writer::{Contract, XmlWriter};
