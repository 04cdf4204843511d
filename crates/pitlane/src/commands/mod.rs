//! The one-shot commands besides `serve`: what an operator runs to set up
//! a server and what a player runs (or is given) to reach it.

pub mod backup;
pub mod doctor;
pub mod init;
pub mod setup;
