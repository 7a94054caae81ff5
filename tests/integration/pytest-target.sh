#!/usr/bin/env bash
# What each tests/integration/targets/<target>/runme.sh runs: the collection's pytest suites, so
# `ansible-test integration [target] --local` (and tox-ansible) run them as collection users expect.
# Usage: pytest-target.sh <pytest paths and options>...
# ansible-test runs runme.sh in a copy of the target under tests/output/.tmp, with
# ANSIBLE_COLLECTIONS_PATH at the collection's ansible_collections/ parent; the suites run from the
# collection's root, with its venv and local cluster (make venv cluster: reused when present).
set -euo pipefail
root="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/ocp/registry_access"
if [[ ! -f "$root/tests/integration/pytest-target.sh" ]]; then
  echo "pytest-target.sh: no collection at $root (run ansible-test from ansible_collections/ocp/registry_access)" >&2
  exit 1
fi
cd "$root"
# ansible-test's settings (its ansible.cfg, callbacks, collections path) are for its own playbooks;
# the suites set up Ansible themselves.
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(ANSIBLE_|JUNIT_)' || true)
# a .cluster linked to another checkout's (make test-ansible-integration): its real path, so that
# the lock files beside it (tests/cluster/cluster.py, tests/helpers/mco.py) are the ones it uses
if [[ -L .cluster ]]; then CLUSTER_DIR="$(readlink -f .cluster)"; export CLUSTER_DIR; fi
# ansible-test passes no PORT_BASE either: the cluster records the one it was started on
if [[ -f .cluster/port_base ]]; then PORT_BASE="$(cat .cluster/port_base)"; export PORT_BASE; fi
make -s venv cluster >&2
exec .venv/bin/pytest -p no:cacheprovider "$@"
