#!/usr/bin/env bash
# (c) of make bench: the job as a shell loop of kubectl commands, the way the OpenShift and
# Kubernetes docs show it, made re-runnable with `create --dry-run=client -o yaml | apply`.
#   KUBECTL=... KUBECONFIG=... SELECTOR=bench=n10 SECRET=bench-pull SOURCE=bench-src \
#   DOCKERCONFIG=path/to/config.json benchmarks/kubectl_loop.sh
# kubectl create secret docker-registry takes one --docker-server; two registries come from a
# docker config file. The patch of imagePullSecrets replaces the whole list (the field has no
# merge strategy): entries that others added are dropped, unlike `oc secrets link`.
set -euo pipefail
: "${KUBECTL:?}" "${KUBECONFIG:?}" "${SELECTOR:?}" "${SECRET:?}" "${SOURCE:?}" "${DOCKERCONFIG:?}"
export KUBECONFIG
k() { "$KUBECTL" "$@"; }

for ns in $(k get namespaces -l "$SELECTOR" -o jsonpath='{.items[*].metadata.name}'); do
  k create secret docker-registry "$SECRET" -n "$ns" --from-file=.dockerconfigjson="$DOCKERCONFIG" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  k patch serviceaccount default -n "$ns" -p "{\"imagePullSecrets\": [{\"name\": \"$SECRET\"}]}" >/dev/null
  k create rolebinding system:image-puller -n "$ns" --clusterrole=system:image-puller \
    --group="system:serviceaccounts:$SOURCE" --dry-run=client -o yaml | k apply -f - >/dev/null
done
