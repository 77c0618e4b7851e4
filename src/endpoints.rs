//! The exporter's externally visible names: routes, port, container name.
//!
//! The Helm chart, the plain manifests and the generated sidecar all have to
//! agree with these; tests check that they do, so change them only here.

/// Prometheus text exposition.
pub const METRICS_PATH: &str = "/metrics";
/// Liveness: answers while the process serves, never calls Qdrant.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness: answers once serving; does not depend on Qdrant unless configured to.
pub const READYZ_PATH: &str = "/readyz";
/// Multi-target scraping: `?target=<url>&module=<name>`.
pub const PROBE_PATH: &str = "/probe";
/// HTML landing page.
pub const LANDING_PATH: &str = "/";

/// Port the exporter listens on by default.
pub const DEFAULT_PORT: u16 = 9999;
/// Name of that port in Kubernetes objects (container port, Service, ServiceMonitor).
pub const METRICS_PORT_NAME: &str = "metrics";
/// Port of the health listener in the generated sidecar and the chart: the
/// kubelet's probes get a listener of their own (`health_listen_address`).
pub const HEALTH_PORT: u16 = 9998;
/// Name of that port in Kubernetes objects.
pub const HEALTH_PORT_NAME: &str = "health";
/// Name of the exporter's container when it runs as a sidecar.
pub const CONTAINER_NAME: &str = "qdrant-exporter";
/// Name of Qdrant's container in the official chart's pods: the one `kubectl
/// logs` and `kubectl exec` should pick when the sidecar is there too.
pub const QDRANT_CONTAINER_NAME: &str = "qdrant";
/// Where the release workflow publishes the image (a fork's workflow publishes
/// under its own owner and packages its chart to match).
pub const IMAGE_REPOSITORY: &str = "ghcr.io/qdrant-exporter/qdrant-exporter";
