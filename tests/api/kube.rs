//! Kubernetes packaging agrees with the server: the generated sidecar and
//! patch, the chart's rendered objects and the plain manifests all use the
//! route paths, port, port name and container name of `endpoints`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Container, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use qdrant_exporter::config::{Cli, Command, KubeCommand, Settings};
use qdrant_exporter::endpoints::{
    CONTAINER_NAME, DEFAULT_PORT, HEALTHZ_PATH, HEALTH_PORT_NAME, IMAGE_REPOSITORY, METRICS_PATH,
    METRICS_PORT_NAME, PROBE_PATH, QDRANT_CONTAINER_NAME, READYZ_PATH,
};
use qdrant_exporter::kube;
use qdrant_exporter::startup::ListenAddress;
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What `qdrant-exporter kube sidecar ARGS` prints, through the real command line.
fn printed(args: &[&str]) -> String {
    let argv = ["qdrant-exporter", "kube", "sidecar"].iter().chain(args);
    match Cli::try_parse_args(argv)
        .expect("valid command line")
        .command
    {
        Some(Command::Kube(KubeCommand::Sidecar(args))) => kube::render(&args),
        other => panic!("parsed as {other:?}"),
    }
}

#[track_caller]
fn assert_is_the_sidecar(container: &Container) {
    assert_eq!(container.name, CONTAINER_NAME);
    let ports = container.ports.as_deref().expect("ports");
    let port = |name: &str| {
        ports
            .iter()
            .find(|port| port.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("a port named {name}"))
            .container_port
    };
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert_eq!(port(METRICS_PORT_NAME), i32::from(DEFAULT_PORT));
    // The probes have a listener of their own, on the port the container names for it.
    let health = container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "QDRANT_EXPORTER_HEALTH_LISTEN_ADDRESS")
        .and_then(|e| e.value.clone());
    assert_eq!(
        health.as_deref().map(ListenAddress::parse),
        Some(Ok(ListenAddress::EveryAddress(
            port(HEALTH_PORT_NAME) as u16
        ))),
        "the health listener takes IPv4 and IPv6 on the health port: {health:?}"
    );
    for (probe, path) in [
        (&container.liveness_probe, HEALTHZ_PATH),
        (&container.readiness_probe, READYZ_PATH),
    ] {
        let get = probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .expect("an HTTP probe");
        assert_eq!(get.path.as_deref(), Some(path));
        assert_eq!(get.port, IntOrString::String(HEALTH_PORT_NAME.into()));
    }
    let security = container
        .security_context
        .as_ref()
        .expect("security context");
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
}

#[test]
fn the_printed_sidecar_uses_the_servers_constants() {
    let values: serde_yaml::Value = serde_yaml::from_str(&printed(&[])).unwrap();
    let containers: Vec<Container> =
        serde_yaml::from_value(values["sidecarContainers"].clone()).unwrap();
    let [container] = containers.as_slice() else {
        panic!("one container")
    };
    assert_is_the_sidecar(container);
    let env = container.env.as_deref().unwrap();
    assert_eq!(env[0].value.as_deref(), Some("http://127.0.0.1:6333"));
    let key = env
        .iter()
        .find(|e| e.name == "QDRANT_API_KEY")
        .and_then(|e| e.value_from.as_ref())
        .and_then(|v| v.secret_key_ref.as_ref())
        .unwrap();
    assert_eq!(
        (key.name.as_str(), key.key.as_str(), key.optional),
        ("qdrant-apikey", "read-only-api-key", Some(true))
    );

    let without_key = printed(&["--no-api-key", "--qdrant-fullname", "prod-qdrant"]);
    assert!(!without_key.contains("QDRANT_API_KEY") && !without_key.contains("apikey"));
}

/// The settings the printed container's plain environment gives the exporter.
fn settings_of(printed: &str) -> Settings {
    let values: serde_yaml::Value = serde_yaml::from_str(printed).unwrap();
    let containers: Vec<Container> =
        serde_yaml::from_value(values["sidecarContainers"].clone()).unwrap();
    let env = containers[0].env.iter().flatten();
    let plain = env.filter_map(|var| Some((var.name.clone(), var.value.clone()?)));
    Settings::from_env(plain).expect("the exporter reads the printed environment")
}

#[test]
fn the_printed_sidecar_relays_qdrants_metrics_only_when_asked() {
    assert_eq!(settings_of(&printed(&[])).native_metrics_relay, None);
    let relaying = printed(&["--native-metrics-relay"]);
    assert_eq!(settings_of(&relaying).native_metrics_relay, Some(true));
    // The generated header names the flag, so the output can be printed again.
    assert!(relaying
        .lines()
        .next()
        .unwrap()
        .ends_with(" --native-metrics-relay"));
}

#[test]
fn the_printed_patch_is_a_statefulset_patch() {
    let patch: StatefulSet =
        serde_yaml::from_str(&printed(&["--format", "patch", "--statefulset", "vectors"])).unwrap();
    assert_eq!(patch.metadata.name.as_deref(), Some("vectors"));
    let template = patch.spec.unwrap().template;
    let annotations = template.metadata.unwrap().annotations.unwrap();
    assert_eq!(
        annotations["kubectl.kubernetes.io/default-container"], QDRANT_CONTAINER_NAME,
        "kubectl logs and exec pick Qdrant, not the sidecar"
    );
    assert_is_the_sidecar(&template.spec.unwrap().containers[0]);
}

#[test]
fn the_committed_snippet_and_patch_are_what_the_subcommand_prints_today() {
    assert_eq!(
        read("charts/qdrant-exporter/files/sidecar-values.yaml"),
        printed(&[])
    );
    assert_eq!(
        read("manifests/sidecar-container/statefulset-patch.yaml"),
        printed(&["--format", "patch"])
    );
    // The from-a-checkout path's snippet: the image scripts/local-cluster.sh builds and loads.
    assert_eq!(
        read("dev/local-cluster/sidecar-values.yaml"),
        printed(&["--image", "qdrant-exporter:dev"])
    );
}

#[test]
fn the_chart_readme_shows_the_printed_snippet() {
    let readme = read("charts/qdrant-exporter/README.md");
    let block = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("   ```").next())
        .expect("a yaml block in the chart README");
    let dedented: String = block
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("   ").unwrap_or(l)))
        .collect();
    assert_eq!(dedented, printed(&[]));
}

#[test]
fn the_chart_image_and_dockerfile_carry_the_crate_version() {
    let version = env!("CARGO_PKG_VERSION");
    let chart: serde_yaml::Value =
        serde_yaml::from_str(&read("charts/qdrant-exporter/Chart.yaml")).unwrap();
    assert_eq!(chart["appVersion"].as_str(), Some(version));
    let values: serde_yaml::Value =
        serde_yaml::from_str(&read("charts/qdrant-exporter/values.yaml")).unwrap();
    let image = format!(
        "{}/{}",
        values["image"]["registry"].as_str().unwrap(),
        values["image"]["repository"].as_str().unwrap()
    );
    assert_eq!(
        image, IMAGE_REPOSITORY,
        "the chart's image is where the workflow publishes"
    );
    let listed = chart["annotations"]["artifacthub.io/images"]
        .as_str()
        .unwrap();
    assert!(
        listed.contains(&format!("image: {IMAGE_REPOSITORY}:{version}")),
        "{listed}"
    );
    assert!(read("Dockerfile").contains(&format!("org.opencontainers.image.version=\"{version}\"")));
    assert!(read("Dockerfile").contains(&format!("EXPOSE {DEFAULT_PORT}")));
}

/// Objects rendered by the chart tests (tests/chart, run by scripts/test.sh first).
fn rendered_objects() -> Vec<(String, serde_yaml::Value)> {
    let dir = root().join("target/chart-rendered");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; scripts/test.sh renders the chart before this test",
                dir.display()
            )
        })
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "every chart scenario and the manifests: {files:?}"
    );
    files
        .iter()
        .flat_map(|path: &PathBuf| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(Path::new(path)).unwrap();
            serde_yaml::Deserializer::from_str(&text)
                .map(|document| {
                    (
                        name.clone(),
                        serde_yaml::Value::deserialize(document).unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
#[ignore = "reads target/chart-rendered, which the chart tests write: scripts/test.sh runs both"]
fn rendered_chart_and_manifests_agree_with_the_servers_constants() {
    let mut checked = BTreeMap::<String, usize>::new();
    for (file, object) in rendered_objects() {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "Service"
                if object["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("exporter")) =>
            {
                let service: Service = serde_yaml::from_value(object).unwrap();
                let [port] = service.spec.unwrap().ports.unwrap().try_into().unwrap();
                assert_eq!(port.name.as_deref(), Some(METRICS_PORT_NAME), "{file}");
                assert_eq!(
                    port.target_port,
                    Some(IntOrString::String(METRICS_PORT_NAME.into())),
                    "{file}"
                );
                assert_eq!(port.port, i32::from(DEFAULT_PORT), "{file}");
            }
            "Deployment" => {
                let deployment: Deployment = serde_yaml::from_value(object).unwrap();
                let mut container =
                    deployment.spec.unwrap().template.spec.unwrap().containers[0].clone();
                // The values may move the port: the exporter must then listen on it.
                let listen = container
                    .env
                    .iter()
                    .flatten()
                    .find(|e| e.name == "QDRANT_EXPORTER_LISTEN_ADDRESS")
                    .and_then(|e| e.value.clone());
                let metrics = container
                    .ports
                    .iter_mut()
                    .flatten()
                    .find(|p| p.name.as_deref() == Some(METRICS_PORT_NAME))
                    .expect("the metrics port");
                assert_eq!(
                    listen.as_deref().map(ListenAddress::parse),
                    Some(Ok(ListenAddress::EveryAddress(
                        metrics.container_port as u16
                    ))),
                    "{file}: the exporter takes IPv4 and IPv6 on the metrics port"
                );
                metrics.container_port = i32::from(DEFAULT_PORT);
                assert_is_the_sidecar(&container);
            }
            "StatefulSet" => {
                let statefulset: StatefulSet = serde_yaml::from_value(object).unwrap();
                let containers = statefulset.spec.unwrap().template.spec.unwrap().containers;
                let exporter = containers
                    .iter()
                    .find(|c| c.name == CONTAINER_NAME)
                    .expect("the sidecar");
                assert_is_the_sidecar(exporter);
            }
            "ServiceMonitor" | "PodMonitor" => {
                let endpoints = &object["spec"][if kind == "PodMonitor" {
                    "podMetricsEndpoints"
                } else {
                    "endpoints"
                }];
                assert_eq!(
                    endpoints[0]["port"].as_str(),
                    Some(METRICS_PORT_NAME),
                    "{file}"
                );
                // A multi-target endpoint probes; any other scrapes the metrics path.
                for endpoint in endpoints.as_sequence().unwrap() {
                    let path = match endpoint["params"]["target"].is_sequence() {
                        true => PROBE_PATH,
                        false => METRICS_PATH,
                    };
                    assert_eq!(endpoint["path"].as_str(), Some(path), "{file}");
                }
            }
            _ => continue,
        }
        *checked.entry(kind).or_default() += 1;
    }
    for kind in [
        "Service",
        "Deployment",
        "StatefulSet",
        "ServiceMonitor",
        "PodMonitor",
    ] {
        assert!(checked.contains_key(kind), "no {kind} checked: {checked:?}");
    }
}
