{{- define "tusgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tusgate.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tusgate.labels" -}}
{{ include "tusgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The --store URL from store.kind. */}}
{{- define "tusgate.storeURL" -}}
{{- $s := .Values.store -}}
{{- if eq $s.kind "s3" -}}
{{- $q := list (printf "region=%s" $s.s3.region) -}}
{{- if $s.s3.endpoint }}{{ $q = append $q (printf "endpoint=%s" $s.s3.endpoint) }}{{ end -}}
{{- if $s.s3.pathStyle }}{{ $q = append $q "path_style=true" }}{{ end -}}
s3://{{ $s.s3.bucket }}/{{ $s.s3.prefix }}?{{ join "&" $q }}
{{- else if eq $s.kind "gcs" -}}
gs://{{ $s.gcs.bucket }}/{{ $s.gcs.prefix }}
{{- else if eq $s.kind "azure" -}}
azblob://{{ $s.azure.container }}/{{ $s.azure.prefix }}?account={{ $s.azure.account }}
{{- else if eq $s.kind "file" -}}
file://{{ $s.file.path }}
{{- else -}}
{{- fail "store.kind must be s3, gcs, azure or file" -}}
{{- end -}}
{{- end -}}

{{/* The --state URL without password; $(REDIS_PASSWORD) is expanded by the kubelet. */}}
{{- define "tusgate.stateURL" -}}
{{- $r := .Values.redis -}}
{{- $scheme := ternary "rediss" "redis" $r.tls -}}
{{- $auth := ternary ":$(REDIS_PASSWORD)@" "" (ne $r.existingSecret "") -}}
{{- $hosts := join "," $r.addresses -}}
{{- if eq $r.mode "standalone" -}}
{{ $scheme }}://{{ $auth }}{{ first $r.addresses }}/{{ $r.db }}
{{- else if eq $r.mode "sentinel" -}}
{{ $scheme }}+sentinel://{{ $auth }}{{ $hosts }}/{{ $r.masterName }}/{{ $r.db }}
{{- else if eq $r.mode "cluster" -}}
{{ $scheme }}+cluster://{{ $auth }}{{ $hosts }}
{{- else -}}
{{- fail "redis.mode must be standalone, sentinel or cluster" -}}
{{- end -}}
{{- end -}}

{{- define "tusgate.credentialsSecret" -}}
{{- if .Values.store.existingSecret -}}
{{ .Values.store.existingSecret }}
{{- else -}}
{{ include "tusgate.fullname" . }}
{{- end -}}
{{- end -}}
