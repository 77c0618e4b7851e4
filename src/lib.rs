//! qdrant-exporter: a Prometheus exporter for the Qdrant vector database.
//!
//! Data flows one way: [`config`] → [`qdrant`] client → [`collectors`] →
//! snapshot → rendered text ([`metrics`]) → [`cache`] → HTTP ([`startup`]).

pub mod cache;
pub mod collectors;
pub mod config;
pub mod endpoints;
pub mod kube;
pub mod metrics;
pub mod qdrant;
pub mod startup;
pub mod telemetry;
