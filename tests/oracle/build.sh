#!/usr/bin/env bash
# Builds the two oracle programs (kubelet-oracle, containers-image-oracle) and caches them outside
# the repo, keyed by the oracle modules' go.mod, go.sum and Go sources, so a second run is instant.
# Prints the directory holding both binaries on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cd "$here" && find kubelet containers-image -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) \
        | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ocp-registry-access/oracles-${key}"
bins="kubelet-oracle containers-image-oracle"

complete=1
for b in $bins; do [ -x "$cache/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then echo "$cache"; exit 0; fi

mkdir -p "$(dirname "$cache")"
rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
log="$cache.build.log"
: >"$log"
start=$(date +%s)
echo "building the oracles into $cache (log: $log)" >&2
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
# Same tags as the cluster's kubernetes build, so the kubelet code is compiled the same way.
if ! (cd "$here/kubelet" && go build -tags selinux,notest -ldflags "-s -w" -o "$cache.tmp/kubelet-oracle" .) >>"$log" 2>&1; then
  echo "error: building kubelet-oracle failed; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
fi
if ! (cd "$here/containers-image" && go build -tags containers_image_openpgp,exclude_graphdriver_btrfs \
      -ldflags "-s -w" -o "$cache.tmp/containers-image-oracle" .) >>"$log" 2>&1; then
  echo "error: building containers-image-oracle failed; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1
fi
rm -rf "$cache" && mv "$cache.tmp" "$cache"
echo "build took $(( $(date +%s) - start ))s" | tee "$cache/BUILD_TIME" >&2
echo "$cache"
