{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "item-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name prefix: "<release>-<chart>" unless the release name already has it. */}}
{{- define "item-sync.fullname" -}}
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

{{/* Worker Deployment name. */}}
{{- define "item-sync.workerName" -}}
{{- printf "%s-worker" (include "item-sync.fullname" . | trunc 56 | trimSuffix "-") }}
{{- end }}

{{/* Migration hook resources' name. */}}
{{- define "item-sync.migrateName" -}}
{{- printf "%s-migrate" (include "item-sync.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "item-sync.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "item-sync.labels" -}}
app.kubernetes.io/name: {{ include "item-sync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "item-sync.commonLabels" . }}
{{- end }}

{{/* Labels of every object except the selector ones (name, instance). */}}
{{- define "item-sync.commonLabels" -}}
helm.sh/chart: {{ include "item-sync.chart" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: imrt
{{- end }}

{{/* Labels of a component's pods: call with (dict "root" $ "component" "serve"). */}}
{{- define "item-sync.podLabels" -}}
{{ include "item-sync.selectorLabels" . }}
{{ include "item-sync.commonLabels" .root }}
{{- with .root.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of a component: call with (dict "root" $ "component" "serve"). */}}
{{- define "item-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "item-sync.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "item-sync.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/* The Secret every secret variable is read from. */}}
{{- define "item-sync.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "item-sync.fullname" .) }}
{{- end }}

{{/* Variables whose values are secrets, and which of them every pod needs. */}}
{{- define "item-sync.secretVariables" -}}
GITLAB_TOKEN API_TOKENS WEBHOOK_SECRET DATABASE_URL AMQP_URL AUTH_CLIENT_SECRET
{{- end }}
{{- define "item-sync.requiredSecretVariables" -}}
GITLAB_TOKEN DATABASE_URL AMQP_URL
{{- end }}

{{/*
env entries for secret variables, each a secretKeyRef (never a plain value).
Call with (dict "root" $ "vars" (list "DATABASE_URL" …)). Optional ones get optional: true so an
existing Secret may leave them out.
*/}}
{{- define "item-sync.secretEnv" -}}
{{- $root := .root }}
{{- $required := splitList " " (include "item-sync.requiredSecretVariables" $root) }}
{{- $webhookEnabled := include "item-sync.webhookEnabled" $root }}
{{- range $var := .vars }}
{{- if or (ne $var "WEBHOOK_SECRET") $webhookEnabled }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "item-sync.secretName" $root }}
      key: {{ index $root.Values.secrets.keys $var | default $var }}
      {{- if not (has $var $required) }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"true" unless config.WEBHOOK_ENABLED turns the webhook receiver off (false, 0 or no, as the binary
reads booleans); empty otherwise. Without the receiver no WEBHOOK_SECRET is generated, required or
passed to the pods.
*/}}
{{- define "item-sync.webhookEnabled" -}}
{{- $v := .Values.config.WEBHOOK_ENABLED | toString | lower | trim }}
{{- if not (has $v (list "false" "0" "no")) }}true{{ end }}
{{- end }}

{{/*
WEBHOOK_SECRET of the chart-managed Secret: secrets.values.WEBHOOK_SECRET (at least 24
characters), else the one the release's Secret already holds, else 32 random characters (kept on
upgrades through lookup), so serve always has a strong one.
*/}}
{{- define "item-sync.webhookSecret" -}}
{{- $given := .Values.secrets.values.WEBHOOK_SECRET | default "" | toString }}
{{- if $given }}
{{- $given }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "item-sync.fullname" .) }}
{{- $key := .Values.secrets.keys.WEBHOOK_SECRET | default "WEBHOOK_SECRET" }}
{{- if and $existing $existing.data (hasKey $existing.data $key) }}
{{- index $existing.data $key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
{{- end }}

{{/* DB_MIGRATE for serve and worker pods, from migrations.mode. */}}
{{- define "item-sync.dbMigrate" -}}
{{- if eq .Values.migrations.mode "startup" }}true{{ else }}false{{ end }}
{{- end }}

{{/* INGEST_ENABLED for serve: serve.ingestEnabled, or automatic (off when the worker runs). */}}
{{- define "item-sync.serveIngestEnabled" -}}
{{- if kindIs "invalid" .Values.serve.ingestEnabled }}
{{- if .Values.worker.enabled }}false{{ else }}true{{ end }}
{{- else }}
{{- .Values.serve.ingestEnabled | toString }}
{{- end }}
{{- end }}

{{/* Checks of values that would otherwise deploy something broken or leak a secret. */}}
{{- define "item-sync.validate" -}}
{{- $secretVars := splitList " " (include "item-sync.secretVariables" .) }}
{{- range $key, $_ := .Values.config }}
{{- if has $key $secretVars }}
{{- fail (printf "config.%s is a secret: set secrets.values.%s or use secrets.existingSecret" $key $key) }}
{{- end }}
{{- if has $key (list "PORT" "METRICS_PORT" "INGEST_ENABLED" "DB_MIGRATE") }}
{{- fail (printf "config.%s is set by the chart (serve.containerPort, metrics.port, serve.ingestEnabled, migrations.mode)" $key) }}
{{- end }}
{{- end }}
{{- if and (hasPrefix "http://" (.Values.config.WEBHOOK_URL | default "" | toString | lower)) (ne (.Values.config.ALLOW_INSECURE_URLS | default "false" | toString) "true") }}
{{- fail "config.WEBHOOK_URL must be an https URL: GitLab sends the webhook secret to it with every delivery (or set config.ALLOW_INSECURE_URLS=\"true\", never in production)" }}
{{- end }}
{{- $webhookSecret := .Values.secrets.values.WEBHOOK_SECRET | default "" | toString }}
{{- if and (not .Values.secrets.existingSecret) (include "item-sync.webhookEnabled" .) $webhookSecret (lt (len $webhookSecret) 24) }}
{{- fail "secrets.values.WEBHOOK_SECRET must be at least 24 characters (or leave it empty: the chart generates one)" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- range $entry := splitList "," (.Values.secrets.values.API_TOKENS | default "" | toString) }}
{{- $entry = trim $entry }}
{{- if and $entry (not (regexMatch "^[A-Za-z0-9._~+/-]{16,}=*(:\\s*(?i:read|operate|admin))?$" $entry)) }}
{{- fail "secrets.values.API_TOKENS: each comma-separated entry must be TOKEN or TOKEN:ROLE, TOKEN at least 16 characters of letters, digits and - . _ ~ + / (no spaces), ROLE read, operate or admin" }}
{{- end }}
{{- end }}
{{- end }}
{{- if not (has .Values.migrations.mode (list "startup" "hook" "none")) }}
{{- fail (printf "migrations.mode must be startup, hook or none (got %q)" (toString .Values.migrations.mode)) }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) 25 }}
{{- fail "terminationGracePeriodSeconds must be above 25 (the service's graceful shutdown time)" }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.serve.containerPort) }}
{{- fail "metrics.port must differ from serve.containerPort" }}
{{- end }}
{{- if lt (int .Values.serve.replicaCount) 1 }}
{{- fail "serve.replicaCount must be at least 1" }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every pod. */}}
{{- define "item-sync.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* Pod annotations: config and secret checksums (pods roll when either changes), extras. */}}
{{- define "item-sync.podAnnotations" -}}
{{- $root := .root }}
checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
{{- if not $root.Values.secrets.existingSecret }}
checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
{{- end }}
{{- with $root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Annotations of serve and worker pods: those of item-sync.podAnnotations plus, with
metrics.podAnnotations, the prometheus.io scrape annotations (both serve /metrics on the metrics
port). Call with (dict "root" $ "extra" .Values.<component>.podAnnotations).
*/}}
{{- define "item-sync.scrapedPodAnnotations" -}}
{{- $root := .root }}
{{- $extra := .extra | default dict | deepCopy }}
{{- if $root.Values.metrics.podAnnotations }}
{{- $_ := set $extra "prometheus.io/scrape" "true" }}
{{- $_ := set $extra "prometheus.io/port" (toString $root.Values.metrics.port) }}
{{- $_ := set $extra "prometheus.io/path" "/metrics" }}
{{- end }}
{{- include "item-sync.podAnnotations" (dict "root" $root "extra" $extra) }}
{{- end }}
