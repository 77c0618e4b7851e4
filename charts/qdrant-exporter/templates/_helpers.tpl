{{/* Names, labels and selectors shared by the templates. */}}

{{- define "qdrant-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "qdrant-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespace of every namespaced object the chart makes (monitoring objects may choose their own). */}}
{{- define "qdrant-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "qdrant-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; helm.sh/chart never goes into a selector. */}}
{{- define "qdrant-exporter.labels" -}}
helm.sh/chart: {{ include "qdrant-exporter.chart" . }}
{{ include "qdrant-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "qdrant-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qdrant-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The pods that run the exporter: Qdrant's (sidecar) or this chart's (standalone). */}}
{{- define "qdrant-exporter.podSelectorLabels" -}}
{{- if ne .Values.mode "sidecar" -}}
{{ include "qdrant-exporter.selectorLabels" . }}
{{- else if .Values.qdrant.selectorLabels -}}
{{ toYaml .Values.qdrant.selectorLabels }}
{{- else -}}
app.kubernetes.io/name: qdrant
app.kubernetes.io/instance: {{ .Values.qdrant.release }}
{{- end -}}
{{- end }}

{{/* The official Qdrant chart's fullname for release qdrant.release; its key Secret is <fullname>-apikey. */}}
{{- define "qdrant-exporter.qdrantFullname" -}}
{{- if contains "qdrant" .Values.qdrant.release -}}
{{ .Values.qdrant.release }}
{{- else -}}
{{ printf "%s-qdrant" .Values.qdrant.release }}
{{- end -}}
{{- end }}

{{/* registry/repository:tag, or @digest when one is given; a parent chart's global.imageRegistry wins. */}}
{{- define "qdrant-exporter.image" -}}
{{- $registry := default .Values.image.registry (.Values.global).imageRegistry }}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "qdrant-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "qdrant-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* A probe of the values; pointed at the metrics port, over HTTPS when the web configuration
     turns TLS on (the health listener is plain HTTP). */}}
{{- define "qdrant-exporter.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if and .root.Values.webConfig.tls $probe.httpGet (eq (toString $probe.httpGet.port) "metrics") }}
{{- $_ := set $probe.httpGet "scheme" "HTTPS" }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{- define "qdrant-exporter.apiKeySecretName" -}}
{{- default (include "qdrant-exporter.fullname" .) .Values.qdrant.existingSecret }}
{{- end }}

{{/* The scrape endpoint settings ServiceMonitor and PodMonitor share, after its port:
     dict "monitor" (their values) "root" (the chart's context), and for a /probe target
     "target" (an entry of probe.targets). */}}
{{- define "qdrant-exporter.endpoint" -}}
{{- $web := .root.Values.webConfig }}
{{- $m := .monitor }}
{{- if and $web.basicAuth (not $m.basicAuth) }}
{{- fail "webConfig.basicAuth needs serviceMonitor.basicAuth / podMonitor.basicAuth: the Secret keys of the user and password Prometheus sends" }}
{{- end }}
{{- with .target }}
path: /probe
params:
  target:
    - {{ .url | quote }}
  module:
    - {{ default "default" .module | quote }}
{{- else }}
path: /metrics
{{- end }}
scheme: {{ if $web.tls }}https{{ else }}{{ $m.scheme }}{{ end }}
{{- with $m.interval }}
interval: {{ . }}
{{- end }}
{{- with $m.scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
honorLabels: {{ $m.honorLabels }}
{{- if $m.tlsConfig }}
tlsConfig:
  {{- toYaml $m.tlsConfig | nindent 2 }}
{{- else if and $web.tls $web.tlsSecret }}
tlsConfig:
  ca:
    secret:
      name: {{ $web.tlsSecret }}
      key: ca.crt
  serverName: {{ include "qdrant-exporter.fullname" .root }}.{{ include "qdrant-exporter.namespace" .root }}.svc
{{- end }}
{{- with $m.basicAuth }}
basicAuth:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if or .target $m.relabelings }}
relabelings:
  {{- with .target }}
  {{- /* The Prometheus Operator's multi-target form: the probed URL is the instance. */}}
  - sourceLabels: [__param_target]
    targetLabel: instance
  - targetLabel: target
    replacement: {{ .name | quote }}
  {{- end }}
  {{- with $m.relabelings }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- with $m.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
