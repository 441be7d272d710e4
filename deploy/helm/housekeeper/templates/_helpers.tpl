{{/*
Chart name, truncated to the 63 characters Kubernetes allows in names.
*/}}
{{- define "housekeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the
release name already contains it.
*/}}
{{- define "housekeeper.fullname" -}}
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

{{- define "housekeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "housekeeper.labels" -}}
helm.sh/chart: {{ include "housekeeper.chart" . }}
{{ include "housekeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ include "housekeeper.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: housekeeper
{{- end }}

{{- define "housekeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "housekeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "housekeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "housekeeper.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "housekeeper.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag | toString }}
{{- end }}

{{/*
Image reference: repository:tag, or repository@digest when a digest is set.
*/}}
{{- define "housekeeper.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "housekeeper.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "housekeeper.configMapName" -}}
{{- printf "%s-config" (include "housekeeper.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The Kubernetes Secret that holds the GitHub App credentials: an existing
Secret, or the one the Infisical operator manages. Fails the render when
neither or both are configured: the chart never renders credentials itself.
*/}}
{{- define "housekeeper.credentialsSecretName" -}}
{{- $existing := .Values.credentials.existingSecret.name }}
{{- $infisical := .Values.credentials.infisical.enabled }}
{{- if and $existing $infisical }}
{{- fail "housekeeper: set either credentials.existingSecret.name or credentials.infisical.enabled, not both" }}
{{- else if $existing }}
{{- $existing }}
{{- else if $infisical }}
{{- default (printf "%s-github-app" (include "housekeeper.fullname" .)) .Values.credentials.infisical.managedSecret.name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- fail "housekeeper: no GitHub App credentials configured. Set credentials.existingSecret.name to a Secret holding the App's private key and webhook secret (see docs/deploy.md), or enable credentials.infisical to have the Infisical operator create it. The chart never takes the private key or the webhook secret as a value." }}
{{- end }}
{{- end }}

{{/*
Checks that the App id can be found: a value, or a key in the credentials
Secret.
*/}}
{{- define "housekeeper.validate" -}}
{{- $_ := include "housekeeper.credentialsSecretName" . }}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "housekeeper.redis" .)) }}
{{- fail (printf "housekeeper: replicaCount %v needs Redis: set redis.url or redis.existingSecret. Replicas share delivery de-duplication, per-commit leases, pacing and the work queue through it; without it run one replica (see docs/deploy.md, High availability)" .Values.replicaCount) }}
{{- end }}
{{- if and .Values.redis.existingSecret.name (not (or .Values.redis.existingSecret.urlKey .Values.redis.existingSecret.passwordKey)) }}
{{- fail "housekeeper: redis.existingSecret needs urlKey and/or passwordKey" }}
{{- end }}
{{- if and .Values.redis.existingSecret.urlKey .Values.redis.url }}
{{- fail "housekeeper: give redis.url or redis.existingSecret.urlKey, not both" }}
{{- end }}
{{- if and (include "housekeeper.redis" .) (not (or .Values.redis.url .Values.redis.existingSecret.urlKey)) }}
{{- fail "housekeeper: redis.existingSecret has a password but no URL: set redis.url or redis.existingSecret.urlKey" }}
{{- end }}
{{- if and (not (toString .Values.github.appId)) (not .Values.credentials.keys.appId) }}
{{- fail "housekeeper: the GitHub App id is missing. Set github.appId, or credentials.keys.appId to the key of the credentials Secret that holds it." }}
{{- end }}
{{- if .Values.credentials.infisical.enabled }}
{{- with .Values.credentials.infisical }}
{{- if not .universalAuth.credentialsSecretName }}
{{- fail "housekeeper: credentials.infisical.universalAuth.credentialsSecretName must name the Secret with the machine identity's clientId and clientSecret" }}
{{- end }}
{{- if not (or .secretsScope.projectSlug .secretsScope.projectId) }}
{{- fail "housekeeper: credentials.infisical.secretsScope needs projectSlug or projectId" }}
{{- end }}
{{- if and .secretsScope.projectSlug .secretsScope.projectId }}
{{- fail "housekeeper: credentials.infisical.secretsScope takes projectSlug or projectId, not both" }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.metricsPort (eq (int .Values.metricsPort) (int .Values.containerPort)) }}
{{- fail "housekeeper: metricsPort must differ from containerPort (0 keeps /metrics on containerPort)" }}
{{- end }}
{{- end }}

{{/* "true" when the replicas share their state through Redis. */}}
{{- define "housekeeper.redis" -}}
{{- if or .Values.redis.url .Values.redis.existingSecret.name }}true{{ end }}
{{- end }}
