#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules and caches them outside the repo,
# keyed by the versions and the tools modules' checksums, so a second run is instant.
# Prints the directory holding kube-apiserver, kube-controller-manager, kubectl and etcd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KUBE_VERSION=$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$here/kube/go.mod")
ETCD_VERSION=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$here/etcd/go.mod")
[ -n "$KUBE_VERSION" ] || KUBE_VERSION=$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/kube/go.mod")
key=$(cat "$here/kube/go.sum" "$here/etcd/go.sum" | sha256sum | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ocp-registry-access/cluster-${KUBE_VERSION}-etcd-${ETCD_VERSION}-${key}"
bins="kube-apiserver kube-controller-manager kubectl etcd"

complete=1
for b in $bins; do [ -x "$cache/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then echo "$cache"; exit 0; fi

mkdir -p "$cache.tmp"
log="$cache.build.log"
start=$(date +%s)
echo "building kubernetes $KUBE_VERSION and etcd $ETCD_VERSION into $cache (cold build, tens of minutes on 2 cores; log: $log)" >&2
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
date_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date_now"
done
if ! (cd "$here/kube" && go build -tags selinux,notest -ldflags "$ldflags" -o "$cache.tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kubectl) >"$log" 2>&1; then
  echo "error: building kubernetes $KUBE_VERSION failed; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
fi
if ! (cd "$here/etcd" && go build -ldflags "-s -w" -o "$cache.tmp/etcd" go.etcd.io/etcd/server/v3) >>"$log" 2>&1; then
  echo "error: building etcd $ETCD_VERSION failed; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
fi
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "cold build took $(( $(date +%s) - start ))s" | tee "$cache/BUILD_TIME" >&2
echo "$cache"
