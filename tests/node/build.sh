#!/usr/bin/env bash
# Builds the test node's kubelet from the k8s.io/kubernetes Go module (the control plane's version)
# and caches it outside the repo, keyed by the version and the tools module's checksums, so a
# second run is instant. Prints the directory holding kubelet.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBE_VERSION=$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$here/kubelet/go.mod")
[ -n "$KUBE_VERSION" ] || KUBE_VERSION=$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/kubelet/go.mod")
CLUSTER_VERSION=$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/../cluster/kube/go.mod")
if [ -n "$CLUSTER_VERSION" ] && [ "$CLUSTER_VERSION" != "$KUBE_VERSION" ]; then
  echo "error: tests/node/kubelet/go.mod pins k8s.io/kubernetes $KUBE_VERSION but the control plane runs $CLUSTER_VERSION; pin the same version" >&2
  exit 1
fi
key=$(sha256sum <"$here/kubelet/go.sum" | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ocp-registry-access/kubelet-${KUBE_VERSION}-${key}"

if [ -x "$cache/kubelet" ]; then echo "$cache"; exit 0; fi

mkdir -p "$cache.tmp"
log="$cache.build.log"
start=$(date +%s)
echo "building kubelet $KUBE_VERSION into $cache (minutes on 2 cores; log: $log)" >&2
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
date_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date_now"
done
if ! (cd "$here/kubelet" && go build -tags selinux,notest -ldflags "$ldflags" -o "$cache.tmp/" \
      k8s.io/kubernetes/cmd/kubelet) >"$log" 2>&1; then
  echo "error: building kubelet $KUBE_VERSION failed; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
fi
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "build took $(( $(date +%s) - start ))s" | tee "$cache/BUILD_TIME" >&2
echo "$cache"
