//! qdrant-exporter: a Prometheus exporter for the Qdrant vector database.
//!
//! Data flows one way: [`config`] → [`qdrant`] client → [`collectors`] →
//! snapshot → rendered text, its gzip and zstd ([`metrics`], [`cache`]) → HTTP ([`startup`]).

pub mod allocator;
mod basic_auth;
pub mod cache;
pub mod collectors;
pub mod config;
pub mod endpoints;
pub mod kube;
pub mod limits;
pub mod metrics;
pub mod probe;
pub mod qdrant;
mod request_log;
mod response;
pub mod server_tls;
pub mod startup;
pub mod target;
pub mod telemetry;
pub mod web_config;
