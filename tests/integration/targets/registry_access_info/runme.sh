#!/usr/bin/env bash
# The registry_access_info suite (tests/integration/test_registry_access_info.py).
set -euo pipefail
exec "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/ocp/registry_access/tests/integration/pytest-target.sh" tests/integration/test_registry_access_info.py -q -n 2 --dist loadgroup "$@"
