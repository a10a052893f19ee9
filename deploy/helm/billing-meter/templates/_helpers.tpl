{{/* The name of every object: release-chart, or the release alone when it names the chart. */}}
{{- define "bm.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bm.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Pods of one role: (dict "root" $ "role" "meter") */}}
{{- define "bm.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "bm.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "bm.fullname" .)) -}}
{{- end -}}

{{/* The meter's consumer group (agents/settings.py: WorkerSettings.group). */}}
{{- define "bm.meterGroup" -}}
{{- printf "%sbilling-meter" .Values.kafka.topicPrefix -}}
{{- end -}}
