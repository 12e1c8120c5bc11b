{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "catena.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-catena unless the release name already contains the chart name. */}}
{{- define "catena.fullname" -}}
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

{{- define "catena.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "catena.labels" -}}
helm.sh/chart: {{ include "catena.chart" . }}
{{ include "catena.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: catena
{{- end }}

{{/* Labels that identify the release; add app.kubernetes.io/component to tell gateway from worker. */}}
{{- define "catena.selectorLabels" -}}
app.kubernetes.io/name: {{ include "catena.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "catena.gateway.fullname" -}}
{{- printf "%s-gateway" (include "catena.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "catena.worker.fullname" -}}
{{- printf "%s-worker" (include "catena.fullname" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/* Headless Service giving each worker pod a stable DNS name. */}}
{{- define "catena.worker.headless" -}}
{{- printf "%s-headless" (include "catena.worker.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "catena.gateway.selectorLabels" -}}
{{ include "catena.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "catena.worker.selectorLabels" -}}
{{ include "catena.selectorLabels" . }}
app.kubernetes.io/component: worker
{{- end }}

{{- define "catena.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "catena.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "catena.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Worker pods in the StatefulSet: one per stage of every replica. */}}
{{- define "catena.worker.count" -}}
{{- add (mul (int .Values.pipeline.stages) (int .Values.pipeline.replicas)) (int (.Values.pipeline.spares | default 0)) }}
{{- end }}

{{/* DNS name of worker pod <ordinal> (the name it advertises to Pekko as canonical hostname). */}}
{{- define "catena.worker.host" -}}
{{- $root := index . 0 }}
{{- $ordinal := index . 1 }}
{{- printf "%s-%d.%s.%s.svc.%s" (include "catena.worker.fullname" $root) (int $ordinal) (include "catena.worker.headless" $root) $root.Release.Namespace $root.Values.cluster.domain }}
{{- end }}

{{/* Seed nodes as host:port, comma-separated: the first min(seedCount, workers) worker pods. */}}
{{- define "catena.seedNodes" -}}
{{- $n := min (int .Values.cluster.seedCount) (int (include "catena.worker.count" .)) }}
{{- $seeds := list }}
{{- range $i := until (int $n) }}
{{- $seeds = append $seeds (printf "%s:%d" (include "catena.worker.host" (list $ $i)) (int $.Values.worker.pekkoPort)) }}
{{- end }}
{{- join "," $seeds }}
{{- end }}

{{/* Directory the model volume is mounted at (the directory of model.path). */}}
{{- define "catena.model.dir" -}}
{{- dir .Values.model.path }}
{{- end }}

{{/* JAVA_TOOL_OPTIONS for a component: base flags, heap, config file, extra flags. */}}
{{- define "catena.javaOptions" -}}
{{- $root := index . 0 }}
{{- $heap := index . 1 }}
{{- $opts := list $root.Values.jvm.baseOptions (printf "-Xmx%s" $heap) "-Dconfig.file=/etc/catena/application.conf" }}
{{- if $root.Values.jvm.extraOptions }}
{{- $opts = append $opts $root.Values.jvm.extraOptions }}
{{- end }}
{{- join " " $opts | replace "\n" " " }}
{{- end }}

{{/* Volumes shared by gateway and workers: config, /tmp, the model. */}}
{{- define "catena.volumes" -}}
- name: config
  configMap:
    name: {{ include "catena.fullname" . }}
- name: tmp
  emptyDir: {}
- name: model
{{- if .Values.model.url }}
  emptyDir:
    sizeLimit: {{ .Values.model.emptyDirSizeLimit }}
{{- else if .Values.model.hostPath }}
  hostPath:
    path: {{ .Values.model.hostPath }}
    type: Directory
{{- else if .Values.model.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.model.existingClaim }}
    readOnly: true
{{- else }}
{{- fail "model: set one of model.url, model.hostPath or model.existingClaim (where the GGUF file comes from)" }}
{{- end }}
{{- end }}

{{/* Mounts of the main containers; the model is read-only. */}}
{{- define "catena.volumeMounts" -}}
- name: config
  mountPath: /etc/catena
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: model
  mountPath: {{ include "catena.model.dir" . }}
  readOnly: true
{{- end }}

{{/* Init container that downloads model.url (when set), skipping it if a verified copy exists. */}}
{{- define "catena.model.initContainers" -}}
{{- if .Values.model.url }}
- name: download-model
  image: {{ .Values.model.downloadImage }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  env:
    - name: MODEL_URL
      value: {{ .Values.model.url | quote }}
    - name: MODEL_SHA256
      value: {{ .Values.model.sha256 | quote }}
    - name: MODEL_PATH
      value: {{ .Values.model.path | quote }}
  command:
    - sh
    - -ec
    - |
      verify() { [ -z "$MODEL_SHA256" ] || echo "$MODEL_SHA256  $1" | sha256sum -c - >/dev/null 2>&1; }
      if [ -f "$MODEL_PATH" ] && verify "$MODEL_PATH"; then
        echo "model already at $MODEL_PATH"; exit 0
      fi
      curl -fL --retry 5 --retry-delay 5 -o "$MODEL_PATH.part" "$MODEL_URL"
      if ! verify "$MODEL_PATH.part"; then
        echo "sha256 of $MODEL_URL is $(sha256sum "$MODEL_PATH.part" | cut -d' ' -f1), expected $MODEL_SHA256" >&2
        rm -f "$MODEL_PATH.part"; exit 1
      fi
      mv "$MODEL_PATH.part" "$MODEL_PATH"
  volumeMounts:
    - name: model
      mountPath: {{ include "catena.model.dir" . }}
    - name: tmp
      mountPath: /tmp
{{- end }}
{{- end }}

{{/* Arguments every node of the cluster gets from the security values (cluster TLS). */}}
{{- define "catena.clusterTlsArgs" -}}
{{- if .Values.security.clusterTls.secretName }}
- --cluster-tls
- /etc/catena/cluster-tls
{{- end }}
{{- end }}

{{/* Mounts of the security Secrets; pass (list . "gateway") or (list . "worker"). */}}
{{- define "catena.securityMounts" -}}
{{- $ := index . 0 }}{{- $role := index . 1 }}
{{- if $.Values.security.clusterTls.secretName }}
- name: cluster-tls
  mountPath: /etc/catena/cluster-tls
  readOnly: true
{{- end }}
{{- if eq $role "gateway" }}
{{- if $.Values.security.tls.secretName }}
- name: tls
  mountPath: /etc/catena/tls
  readOnly: true
{{- end }}
{{- if $.Values.security.apiKeys.secretName }}
- name: api-keys
  mountPath: /etc/catena/api-keys
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes of the security Secrets; pass (list . "gateway") or (list . "worker"). */}}
{{- define "catena.securityVolumes" -}}
{{- $ := index . 0 }}{{- $role := index . 1 }}
{{- if $.Values.security.clusterTls.secretName }}
- name: cluster-tls
  secret:
    secretName: {{ $.Values.security.clusterTls.secretName }}
{{- end }}
{{- if eq $role "gateway" }}
{{- if $.Values.security.tls.secretName }}
- name: tls
  secret:
    secretName: {{ $.Values.security.tls.secretName }}
{{- end }}
{{- if $.Values.security.apiKeys.secretName }}
- name: api-keys
  secret:
    secretName: {{ $.Values.security.apiKeys.secretName }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the pods find each other through the Kubernetes API (cluster.discovery). */}}
{{- define "catena.discovery.api" -}}
{{- if eq .Values.cluster.discovery "kubernetes-api" }}true{{ end }}
{{- end }}

{{/* "true" when the gateway's plan owner scales the worker StatefulSet. */}}
{{- define "catena.autoscaling.on" -}}
{{- if .Values.autoscaling.workers.enabled }}true{{ end }}
{{- end }}

{{/* "true" when a component's pods call the Kubernetes API; pass (list . "gateway"|"worker"). */}}
{{- define "catena.usesApi" -}}
{{- $ := index . 0 }}{{- $role := index . 1 }}
{{- if or (include "catena.discovery.api" $) (and (eq $role "gateway") (include "catena.autoscaling.on" $)) }}true{{ end }}
{{- end }}

{{/* Label selector (key=value,...) of every gateway and worker pod of the release. */}}
{{- define "catena.k8sSelector" -}}
{{- printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s" (include "catena.name" .) .Release.Name }}
{{- end }}

{{/* Env of a pod that calls the API: who and where it is (downward API), and whom it looks for. */}}
{{- define "catena.k8sEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: CATENA_K8S_SELECTOR
  value: {{ include "catena.k8sSelector" . | quote }}
{{- end }}

{{/*
Worker PDB maxUnavailable: the value when set, else 1 if a whole replica or a spare remains when
one worker is evicted (replicas >= 2, or spares >= 1; the autoscaler's minimum when it is on), else 0.
*/}}
{{- define "catena.worker.maxUnavailable" -}}
{{- $set := .Values.worker.pdb.maxUnavailable }}
{{- if or (kindIs "float64" $set) (kindIs "int" $set) (kindIs "int64" $set) (ne (toString $set) "") }}
{{- $set }}
{{- else }}
{{- $replicas := int .Values.pipeline.replicas }}
{{- if .Values.autoscaling.workers.enabled }}{{ $replicas = int .Values.autoscaling.workers.minReplicas }}{{ end }}
{{- if or (ge $replicas 2) (ge (int (.Values.pipeline.spares | default 0)) 1) }}1{{ else }}0{{ end }}
{{- end }}
{{- end }}

{{/* Env of the test hook's containers: a small client JVM, and the API key when one is given. */}}
{{- define "catena.tests.env" -}}
- name: JAVA_TOOL_OPTIONS
  value: {{ printf "%s -Xmx256m" .Values.jvm.baseOptions | replace "\n" " " | quote }}
{{- with .Values.tests.apiKeySecret }}
{{- if .name }}
- name: CATENA_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}

{{/* Mounts of the test hook's containers: /tmp, and the gateway's TLS Secret for its CA. */}}
{{- define "catena.tests.mounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.security.tls.secretName }}
- name: tls
  mountPath: /etc/catena/tls
  readOnly: true
{{- end }}
{{- end }}
