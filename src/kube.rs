//! `qdrant-exporter kube sidecar`: the exporter's sidecar container, built
//! with k8s-openapi from the same constants the server uses (port, port name,
//! probe paths, container name), printed as YAML. No Kubernetes API calls.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use crate::endpoints::{
    CONTAINER_NAME, DEFAULT_PORT, HEALTHZ_PATH, HEALTH_PORT, HEALTH_PORT_NAME, IMAGE_REPOSITORY,
    METRICS_PORT_NAME, QDRANT_CONTAINER_NAME, READYZ_PATH,
};

/// Makes `kubectl logs` and `kubectl exec` pick Qdrant, not the sidecar the
/// official chart renders before it.
const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// Where Qdrant's container mounts its storage, and where the sidecar mounts it too.
const STORAGE_MOUNT_PATH: &str = "/qdrant/storage";

/// User and group of the distroless `nonroot` image the Dockerfile builds on.
const NONROOT_UID: i64 = 65532;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `sidecarContainers:` for the official qdrant/qdrant Helm chart's values
    Values,
    /// A strategic-merge patch adding the container to a StatefulSet
    Patch,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SidecarArgs {
    /// Output: a values snippet for the official chart, or a StatefulSet patch
    #[arg(long, value_enum, default_value = "values")]
    pub format: Format,
    /// Container image of the exporter [default: the published image of this version]
    #[arg(long)]
    pub image: Option<String>,
    /// Fullname of the official chart's release (the release name if it contains "qdrant", else <release>-qdrant); its key Secret is <fullname>-apikey
    #[arg(long, default_value = "qdrant")]
    pub qdrant_fullname: String,
    /// Key of that Secret to read; the read-only key is enough
    #[arg(long, default_value = "read-only-api-key")]
    pub api_key_secret_key: String,
    /// Qdrant has no API key: send none
    #[arg(long)]
    pub no_api_key: bool,
    /// Name of the official chart's storage volume (its persistence.storageVolumeName), mounted read-only into the sidecar for the disk figures
    #[arg(long, default_value = "qdrant-storage")]
    pub storage_volume_name: String,
    /// Relay Qdrant's own /metrics: its request counts and latencies, which the error and latency alerts read (about 18 more series per collection and 160 per node)
    #[arg(long)]
    pub native_metrics_relay: bool,
    /// Name of the StatefulSet the patch applies to
    #[arg(long, default_value = "qdrant")]
    pub statefulset: String,
}

impl SidecarArgs {
    pub fn image(&self) -> String {
        self.image
            .clone()
            .unwrap_or_else(|| format!("{IMAGE_REPOSITORY}:{}", env!("CARGO_PKG_VERSION")))
    }

    /// The command line that prints this output, for the generated file's header.
    fn command_line(&self) -> String {
        let format = match self.format {
            Format::Values => "values",
            Format::Patch => "patch",
        };
        let mut line = format!(
            "qdrant-exporter kube sidecar --format {format} --image {} --qdrant-fullname {}",
            self.image(),
            self.qdrant_fullname
        );
        match self.no_api_key {
            true => line.push_str(" --no-api-key"),
            false => line.push_str(&format!(
                " --api-key-secret-key {}",
                self.api_key_secret_key
            )),
        }
        line.push_str(&format!(
            " --storage-volume-name {}",
            self.storage_volume_name
        ));
        if self.native_metrics_relay {
            line.push_str(" --native-metrics-relay");
        }
        if self.format == Format::Patch {
            line.push_str(&format!(" --statefulset {}", self.statefulset));
        }
        line
    }
}

/// The exporter's container, next to Qdrant in the same pod.
pub fn sidecar_container(args: &SidecarArgs) -> Container {
    let mut env = vec![
        EnvVar {
            name: "QDRANT_URL".into(),
            value: Some("http://127.0.0.1:6333".into()),
            ..EnvVar::default()
        },
        // The probes' own listener: a flood of scrapes cannot make the kubelet
        // wait, and so cannot take the Qdrant pod out of its Service.
        EnvVar {
            name: "QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS".into(),
            value: Some(format!(":{HEALTH_PORT}")),
            ..EnvVar::default()
        },
    ];
    // The disk figures: statvfs of Qdrant's storage, mounted read-only below.
    env.push(EnvVar {
        name: "QDRANT_EXPORTER_VOLUMES".into(),
        value: Some(format!("storage={STORAGE_MOUNT_PATH}")),
        ..EnvVar::default()
    });
    if args.native_metrics_relay {
        env.push(EnvVar {
            name: "QDRANT_EXPORTER_NATIVE_METRICS_RELAY".into(),
            value: Some("true".into()),
            ..EnvVar::default()
        });
    }
    if !args.no_api_key {
        env.push(EnvVar {
            name: "QDRANT_API_KEY".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: format!("{}-apikey", args.qdrant_fullname),
                    key: args.api_key_secret_key.clone(),
                    // A Qdrant without API keys has no such Secret; the pod must still start.
                    optional: Some(true),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    let probe = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(HEALTH_PORT_NAME.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(10),
        timeout_seconds: Some(2),
        ..Probe::default()
    };
    let quantities = |pairs: &[(&str, &str)]| -> BTreeMap<String, Quantity> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect()
    };
    Container {
        name: CONTAINER_NAME.into(),
        image: Some(args.image()),
        env: Some(env),
        ports: Some(vec![
            ContainerPort {
                name: Some(METRICS_PORT_NAME.into()),
                container_port: i32::from(DEFAULT_PORT),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some(HEALTH_PORT_NAME.into()),
                container_port: i32::from(HEALTH_PORT),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
        ]),
        liveness_probe: Some(probe(HEALTHZ_PATH)),
        readiness_probe: Some(probe(READYZ_PATH)),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(&[("cpu", "10m"), ("memory", "32Mi")])),
            limits: Some(quantities(&[("memory", "128Mi")])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(restricted_security_context()),
        // The official chart's StatefulSet always has this volume (its
        // volumeClaimTemplates); read-only, the sidecar can never write Qdrant's data.
        volume_mounts: Some(vec![VolumeMount {
            name: args.storage_volume_name.clone(),
            mount_path: STORAGE_MOUNT_PATH.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

/// The Pod Security Standards' "restricted" profile for one container.
fn restricted_security_context() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(NONROOT_UID),
        run_as_group: Some(NONROOT_UID),
        read_only_root_filesystem: Some(true),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

/// The YAML `kube sidecar` prints.
pub fn render(args: &SidecarArgs) -> String {
    let container = sidecar_container(args);
    let annotations = json!({ DEFAULT_CONTAINER_ANNOTATION: QDRANT_CONTAINER_NAME });
    let document = match args.format {
        // The official chart's podAnnotations: Helm merges them with the user's own.
        Format::Values => {
            json!({ "podAnnotations": annotations, "sidecarContainers": [container] })
        }
        // Not built from StatefulSet: its required fields (selector, ...) would be
        // serialized empty and a patch must not set them.
        Format::Patch => json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": { "name": args.statefulset },
            "spec": { "template": {
                "metadata": { "annotations": annotations },
                "spec": { "containers": [container] },
            } },
        }),
    };
    let yaml = serde_yaml::to_string(&document).expect("JSON values always serialize as YAML");
    format!("# Generated by: {}\n{yaml}", args.command_line())
}
