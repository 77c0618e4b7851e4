//! Integration tests: the real server on port 0 against the mock Qdrant.

mod cache;
mod config;
mod failures;
mod helpers;
mod metrics;
mod models;
mod names;
mod process;
mod routes;
