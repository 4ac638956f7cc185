{{- define "logship.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "logship.labels" -}}
app.kubernetes.io/name: logship
{{- end -}}
