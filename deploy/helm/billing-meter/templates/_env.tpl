{{/* A role's environment: (dict "root" $ "role" "meter"). Secrets by key, settings as values. */}}
{{- define "bm.env" -}}
{{- $v := .root.Values -}}
{{- $secret := include "bm.secretName" .root -}}
- {name: KAFKA_BOOTSTRAP, value: {{ $v.kafka.bootstrap | quote }}}
- {name: BILLING_PARTITIONS, value: {{ $v.kafka.partitions | quote }}}
- {name: BILLING_TOPIC_PREFIX, value: {{ $v.kafka.topicPrefix | quote }}}
- {name: BILLING_LOG_LEVEL, value: {{ $v.logLevel | quote }}}
- name: CLICKHOUSE_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: clickhouse-url}}
{{- if has .role (list "web" "billing") }}
- name: BILLING_DB_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: database-url}}
- name: BILLING_API_TOKEN
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: api-token, optional: true}}
{{- end }}
{{- if eq .role "billing" }}
- name: BILLING_WEBHOOK_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: webhook-url, optional: true}}
- name: BILLING_WEBHOOK_SECRET
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: webhook-secret, optional: true}}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
