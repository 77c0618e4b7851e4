//! qdrant-exporter: a Prometheus exporter for the Qdrant vector database.
//!
//! Data flows one way, and imports with it: [`config`] builds each module's
//! settings; [`startup`] serves HTTP; `probe` and `target` hold the Qdrants
//! reported on; `cache` and `exposition` the rendered answer; `refresh`
//! runs the `collectors` over the `qdrant` client's answers; below them, the
//! leaves (`metrics`, `files`, `redaction`, `locks`, [`endpoints`], [`limits`]).

pub mod allocator;
mod basic_auth;
mod cache;
pub mod catalog;
mod collectors;
pub mod config;
mod deadline;
pub mod endpoints;
mod exposition;
mod files;
pub mod kube;
mod landing;
pub mod limits;
mod listener;
mod locks;
pub mod logging;
mod metrics;
mod probe;
mod process;
mod qdrant;
mod rate_limit;
mod redaction;
mod refresh;
mod request_log;
mod response;
mod server_tls;
pub mod startup;
mod target;

pub use collectors::{Collector, Scope};
pub use qdrant::endpoint::ALL as QDRANT_ENDPOINTS;
pub use qdrant::Endpoint;
pub use refresh::REVISION;

#[cfg(test)]
mod test_support;
