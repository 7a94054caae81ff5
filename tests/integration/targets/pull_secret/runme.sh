#!/usr/bin/env bash
# The pull_secret suite (tests/integration/test_pull_secret.py).
set -euo pipefail
exec "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/ocp/registry_access/tests/integration/pytest-target.sh" tests/integration/test_pull_secret.py -q -n 2 --dist loadgroup "$@"
