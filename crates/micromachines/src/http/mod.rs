//! HTTP face of the services: the route table, reading bodies within
//! limits, and the response forms the client expects.

pub mod responses;
pub mod routes;

pub use responses::{Failure, LimitHit};
pub use routes::{route, Operation};
