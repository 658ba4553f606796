{{/*
The suite's components: values key -> Kubernetes name, the module `python -m edgewatch.<module>` runs, its NATS
user (nats-<user>.password in the Secret; none for the receiver, which is not on the bus) and its REST ports
(edgewatch.common.contracts.ports; the first one is SERVICE_PORT and the probes' port).
*/}}
{{- define "edgewatch.components" -}}
core:
  name: core
  module: core
  natsUser: core
  ports: [{name: metadata, port: 59881}, {name: data, port: 59880}]
coreCommand:
  name: core-command
  module: core
  natsUser: core-command
  ports: [{name: command, port: 59882}]
ingest:
  name: ingest
  module: ingest
  natsUser: ingest
  ports: [{name: http, port: 59900}]
features:
  name: features
  module: features
  natsUser: features
  ports: [{name: http, port: 59910}]
inference:
  name: inference
  module: inference
  natsUser: inference
  ports: [{name: http, port: 59920}]
rules:
  name: rules
  module: rules
  natsUser: rules
  ports: [{name: http, port: 59930}]
sync:
  name: sync
  module: sync
  natsUser: sync
  ports: [{name: http, port: 59940}]
console:
  name: console
  module: console
  natsUser: console
  ports: [{name: http, port: 59960}]
receiver:
  name: receiver
  module: receiver
  natsUser: ""
  ports: [{name: http, port: 59950}]
{{- end }}

{{/* The order components are rendered in. */}}
{{- define "edgewatch.componentKeys" -}}
{{- list "core" "coreCommand" "ingest" "features" "inference" "rules" "sync" "console" "receiver" | toJson -}}
{{- end }}

{{/* A resource name: namePrefix + component. */}}
{{- define "edgewatch.name" -}}
{{- printf "%s%s" .root.Values.namePrefix .component | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* The secrets mount point (contract with `edgewatch secrets init`). */}}
{{- define "edgewatch.secretsDir" -}}/run/secrets/edgewatch{{- end }}

{{/* Labels every object carries. */}}
{{- define "edgewatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: edgewatch
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "edgewatch.selectorLabels" . }}
{{- end }}

{{/* Labels that select one component's pods. */}}
{{- define "edgewatch.selectorLabels" -}}
app.kubernetes.io/name: edgewatch
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference from {repository, tag}: tag, else imageTag, else the chart's appVersion. */}}
{{- define "edgewatch.image" -}}
{{- $tag := .image.tag | default .root.Values.imageTag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end }}

{{/* The client Service of nats-server, as seen from the release's namespace. */}}
{{- define "edgewatch.natsHost" -}}
{{- include "edgewatch.name" (dict "root" . "component" "nats") -}}
{{- end }}

{{/* http or https for the REST APIs. */}}
{{- define "edgewatch.scheme" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end -}}
{{- end }}

{{/* The three probes on GET /api/v3/ping of the named port. */}}
{{- define "edgewatch.probes" -}}
{{- $p := .root.Values.probes -}}
{{- $get := dict "path" "/api/v3/ping" "port" .port "scheme" (upper (include "edgewatch.scheme" .root)) -}}
startupProbe:
  httpGet: {{ toJson $get }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
readinessProbe:
  httpGet: {{ toJson $get }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  httpGet: {{ toJson $get }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end }}

{{/*
Environment every bus service gets: REST on all interfaces, its own NATS user and password file, the REST token
file, TLS files when tls.enabled. Arguments: root, user (NATS user, "" = none), natsHost, port.
*/}}
{{- define "edgewatch.commonEnv" -}}
{{- $dir := include "edgewatch.secretsDir" . -}}
- {name: SERVICE_HOST, value: "0.0.0.0"}
- {name: SERVICE_PORT, value: {{ .port | quote }}}
- {name: EDGEWATCH_DATA_DIR, value: /data}
- {name: WRITABLE_LOGLEVEL, value: {{ .root.Values.logLevel | quote }}}
- {name: PYTHONUNBUFFERED, value: "1"}
{{- if .user }}
- {name: MESSAGEBUS_HOST, value: {{ .natsHost | quote }}}
- {name: MESSAGEBUS_PORT, value: "4222"}
- {name: MESSAGEBUS_USER, value: {{ .user | quote }}}
- {name: MESSAGEBUS_PASSWORDFILE, value: {{ printf "%s/nats-%s.password" $dir .user | quote }}}
{{- if .root.Values.nats.mqtt.enabled }}
- {name: MESSAGEBUS_FORMAT, value: json}
{{- end }}
{{- if .root.Values.tls.enabled }}
- {name: MESSAGEBUS_TLSCAFILE, value: {{ printf "%s/ca.pem" $dir | quote }}}
{{- end }}
{{- end }}
{{- if .root.Values.tls.enabled }}
- {name: SERVICE_TLSCERTFILE, value: {{ printf "%s/tls.pem" $dir | quote }}}
- {name: SERVICE_TLSKEYFILE, value: {{ printf "%s/tls-key.pem" $dir | quote }}}
{{- end }}
{{- end }}

{{/* Extra env from a {NAME: value} map, sorted. */}}
{{- define "edgewatch.extraEnv" -}}
{{- range $k, $v := . }}
- {name: {{ $k | quote }}, value: {{ $v | toString | quote }}}
{{- end }}
{{- end }}
