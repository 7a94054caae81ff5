#!/usr/bin/env bash
# Galaxy's own import check on the tarball users get (make galaxy-import): the collection is built
# with ansible-galaxy (build_ignore of galaxy.yml applies) and imported by galaxy-importer, pinned in
# tests/compat/requirements-galaxy-importer.txt, in a cached venv of its own (tests/compat/compat.py),
# with the settings of tests/compat/galaxy-importer.cfg (its ansible-test step off: make sanity).
# Fails on any error or warning the importer prints (flake8, ansible-lint, ansible-doc, changelog, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD" out=.build/galaxy-import
venv="$(python3 tests/compat/compat.py venv galaxy-importer)"
rm -rf "$out" && mkdir -p "$out"
.venv/bin/ansible-galaxy collection build --output-path "$out" . >/dev/null
tarball="$(ls "$out"/ocp-registry_access-*.tar.gz)"
status=0
(cd "$out" && PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$root/tests/compat/galaxy-importer.cfg" \
  "$venv/bin/python" -m galaxy_importer.main "$(basename "$tarball")") >"$out/import.log" 2>&1 || status=$?
problems="$(grep -E '^(WARNING|ERROR|CRITICAL)|Traceback|[Ee]rror:' "$out/import.log" || true)"
if [[ $status -ne 0 || -n "$problems" || ! -s "$out/importer_result.json" ]]; then
  echo "galaxy-import: galaxy-importer rc=$status on $tarball; what it reported:" >&2
  echo "${problems:-$(tail -20 "$out/import.log")}" >&2
  exit 1
fi
echo "galaxy-import: $(basename "$tarball") imports with no error or warning ($(grep -c '^Loading' "$out/import.log") contents loaded; log $out/import.log)"
