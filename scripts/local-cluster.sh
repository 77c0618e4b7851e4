#!/usr/bin/env bash
# From a checkout to a local Kubernetes cluster (kind, k3d or minikube, the current kubectl
# context), before any release exists: builds the image, loads it into the cluster, installs the
# official Qdrant chart with the exporter as its sidecar (that image), then this chart.
#   scripts/local-cluster.sh               Qdrant + sidecar + Service, ServiceMonitor, rules, dashboard
#   scripts/local-cluster.sh --monitoring  the same, and kube-prometheus-stack to see them
#   scripts/local-cluster.sh --monitoring-only   kube-prometheus-stack alone (what `tilt up` offers)
#   scripts/local-cluster.sh --delete      uninstall all three
# Needs docker, helm, kubectl and the cluster's own tool (kind, k3d or minikube).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=qdrant-exporter:dev
# The versions this path was written against; the upgrade moves Qdrant only when these change.
QDRANT_CHART_VERSION=1.19.0
MONITORING_CHART_VERSION=67.8.0
NAMESPACE=${NAMESPACE:-default}
VALUES=dev/local-cluster

monitoring=false
exporter=true
case "${1:-}" in
  "") ;;
  --monitoring) monitoring=true ;;
  --monitoring-only) monitoring=true exporter=false ;;
  --delete)
    helm uninstall -n "$NAMESPACE" qdrant-exporter qdrant || true
    helm uninstall -n monitoring kube-prometheus-stack || true
    exit 0
    ;;
  *) echo "usage: $0 [--monitoring | --monitoring-only | --delete]" >&2; exit 2 ;;
esac

install_monitoring() {
  helm repo add prometheus-community https://prometheus-community.github.io/helm-charts >/dev/null
  helm repo update prometheus-community >/dev/null
  echo "==> kube-prometheus-stack $MONITORING_CHART_VERSION in namespace monitoring"
  helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
    --version "$MONITORING_CHART_VERSION" -n monitoring --create-namespace \
    -f "$VALUES/monitoring-values.yaml" --wait
}

if ! $exporter; then
  install_monitoring
  exit 0
fi

context=$(kubectl config current-context)
echo "==> building $IMAGE"
docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" -t "$IMAGE" .
echo "==> loading it into $context"
case "$context" in
  kind-*) kind load docker-image "$IMAGE" --name "${context#kind-}" ;;
  k3d-*) k3d image import "$IMAGE" --cluster "${context#k3d-}" ;;
  minikube) minikube image load "$IMAGE" ;;
  docker-desktop) ;; # shares the local image store
  *) echo "context $context is not kind, k3d, minikube or docker-desktop: load $IMAGE yourself" >&2; exit 2 ;;
esac

helm repo add qdrant https://qdrant.github.io/qdrant-helm >/dev/null
helm repo update qdrant >/dev/null

if $monitoring; then
  install_monitoring
else
  # The ServiceMonitor and PrometheusRule need the operator's CRDs, operator or not.
  kubectl apply --server-side --force-conflicts -f tests/schemas/ >/dev/null
fi

echo "==> Qdrant (official chart $QDRANT_CHART_VERSION) with the sidecar $IMAGE"
# $VALUES/sidecar-values.yaml is `kube sidecar --image qdrant-exporter:dev` (a test keeps it so).
helm upgrade --install qdrant qdrant/qdrant --version "$QDRANT_CHART_VERSION" -n "$NAMESPACE" \
  -f "$VALUES/sidecar-values.yaml" --wait
echo "==> this chart"
helm upgrade --install qdrant-exporter charts/qdrant-exporter -n "$NAMESPACE" \
  -f "$VALUES/exporter-values.yaml" --wait

cat <<DONE
Done. The exporter:   kubectl -n $NAMESPACE port-forward svc/qdrant-exporter 9999:9999
                      curl -s localhost:9999/metrics | grep '^qdrant_up'
DONE
if $monitoring; then
  cat <<DONE
Grafana (admin/admin): kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80
                      then Dashboards -> "Qdrant (qdrant-exporter)"
Prometheus:           kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090
DONE
fi
