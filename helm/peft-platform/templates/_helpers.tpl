{{- define "peft.name" -}}{{ .Release.Name }}{{- end -}}

{{- define "peft.labels" -}}
app.kubernetes.io/part-of: peft-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "peft.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .service }}
{{- end -}}

{{- define "peft.image" -}}
{{ .root.Values.image.registry }}/{{ .service }}:{{ .root.Values.image.tag }}
{{- end -}}

{{- define "peft.secretName" -}}{{ .Release.Name }}-secrets{{- end -}}

{{/* Environment every service that serves internal requests shares: the internal token, and Kafka. */}}
{{- define "peft.commonEnv" -}}
- name: PEFT_INTERNAL_TOKEN
  valueFrom: {secretKeyRef: {name: {{ include "peft.secretName" . }}, key: internal-token}}
{{ include "peft.kafkaEnv" . }}
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
