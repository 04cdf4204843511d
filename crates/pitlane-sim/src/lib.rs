//! Simulated game clients. They speak to a Pitlane server exactly like the
//! real games do (same paths, headers, body layout, one connection per
//! request), so tests, the load generator and `doctor` exercise the real
//! network path.

pub mod doctor;
pub mod egonet;
pub mod http;
pub mod load;
pub mod mco;
pub mod mmws;
pub mod tls;
pub mod xml_shape;
