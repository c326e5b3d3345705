{{/*
The release's base name: fullnameOverride or the release name, cut to 53 characters so that every
name built from it with a service's suffix (the longest is "-artifacts") stays within Kubernetes'
63-character limit for Service names and label values. Helm itself refuses release names over 53.
*/}}
{{- define "peft.fullname" -}}
{{- .Values.fullnameOverride | default .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{/* A service's object names: <fullname>-<service>; called with (dict "root" $ "service" "jobs"). */}}
{{- define "peft.componentName" -}}
{{- printf "%s-%s" (include "peft.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "peft.labels" -}}
app.kubernetes.io/part-of: peft-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* A service's pods: what its Deployment, Service, PodDisruptionBudget and NetworkPolicy select. */}}
{{- define "peft.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .service }}
{{- end -}}

{{/* Labels of a service's own objects: the release's labels and its selector labels. */}}
{{- define "peft.componentLabels" -}}
{{ include "peft.labels" .root }}
app.kubernetes.io/name: {{ .service }}
{{- end -}}

{{- define "peft.image" -}}
{{ .root.Values.image.registry }}/{{ .service }}:{{ .root.Values.image.tag }}
{{- end -}}

{{- define "peft.secretName" -}}{{ include "peft.fullname" . }}-secrets{{- end -}}

{{/* Environment every service that serves internal requests shares: the internal token, and Kafka. */}}
{{- define "peft.commonEnv" -}}
- name: PEFT_INTERNAL_TOKEN
  valueFrom: {secretKeyRef: {name: {{ include "peft.secretName" . }}, key: internal-token}}
{{ include "peft.kafkaEnv" . }}
{{ include "peft.tracingEnv" . }}
{{- end -}}

{{/* Where spans go (monitoring.tracing.endpoint), or tracing off. */}}
{{- define "peft.tracingEnv" -}}
{{- if .Values.monitoring.tracing.endpoint -}}
- name: PEFT_OTLP_ENDPOINT
  value: {{ .Values.monitoring.tracing.endpoint | quote }}
{{- else -}}
- name: PEFT_TRACING_DISABLED
  value: "true"
{{- end -}}
{{- end -}}

{{/* Kafka and topic settings, which every service reads. */}}
{{- define "peft.kafkaEnv" -}}
- name: PEFT_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrapServers is required" .Values.kafka.bootstrapServers | quote }}
- name: PEFT_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
- name: PEFT_KAFKA_REPLICATION
  value: {{ .Values.kafka.replication | quote }}
- name: PEFT_KAFKA_CREATE_TOPICS
  value: {{ .Values.kafka.createTopics | quote }}
{{- end -}}

{{- define "peft.storageEnv" -}}
- name: PEFT_S3_ENDPOINT
  value: {{ required "s3.endpoint is required" .Values.s3.endpoint | quote }}
- name: PEFT_S3_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: PEFT_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.s3.existingSecret | default (include "peft.secretName" .) }}, key: s3-access-key}}
- name: PEFT_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.s3.existingSecret | default (include "peft.secretName" .) }}, key: s3-secret-key}}
{{- end -}}

{{- define "peft.databaseEnv" -}}
- name: PEFT_DB_USER
  value: {{ .Values.postgres.user | quote }}
- name: PEFT_DB_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.postgres.existingSecret | default (include "peft.secretName" .) }}, key: db-password}}
{{- end -}}

{{- define "peft.probes" -}}
startupProbe:
  httpGet: {path: /q/health/started, port: http}
  periodSeconds: 5
  failureThreshold: 60
readinessProbe:
  httpGet: {path: /q/health/ready, port: http}
  periodSeconds: 10
livenessProbe:
  httpGet: {path: /q/health/live, port: http}
  periodSeconds: 20
{{- end -}}

{{/*
Pod-level settings every service shares: no Kubernetes API token (no service calls the API), the
pod's security context and the registry's pull secrets. Indented for a pod spec.
*/}}
{{- define "peft.podSpec" -}}
automountServiceAccountToken: false
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The container's security context: non-root, no privilege escalation, no capabilities, read-only root. */}}
{{- define "peft.containerSecurity" -}}
{{- with .Values.containerSecurityContext -}}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The writable /tmp of a read-only root filesystem: the JVM's and Vert.x's temporary files, the native
libraries JavaCPP (ND4J, OpenBLAS) and DJL (tokenizers) unpack on start, and (artifacts) multipart
uploads spooled by Quarkus under /tmp/uploads. Called with (dict "root" $ "volume" .Values.<service>.tmpVolume).
*/}}
{{- define "peft.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .volume.sizeLimit }}
{{- end -}}

{{/* Training's replicas belong to the HPA or KEDA when either is on; both at once is refused. */}}
{{- define "peft.trainingAutoscaled" -}}
{{- if and .Values.training.autoscaling.enabled .Values.training.keda.enabled -}}
{{- fail "training.autoscaling.enabled and training.keda.enabled are mutually exclusive: KEDA's ScaledObject makes its own HorizontalPodAutoscaler; enable one of them" -}}
{{- end -}}
{{- if or .Values.training.autoscaling.enabled .Values.training.keda.enabled -}}true{{- end -}}
{{- end -}}
