//! Listeners: binding with errors an operator can act on, and the HTTP
//! accept loop shared by every HTTP service.

pub mod bind;
pub mod http;
pub mod limits;
