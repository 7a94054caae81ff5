#!/usr/bin/env bash
# Every module in check mode and for real, and the demo playbook (tests/compat/test_smoke.py).
set -euo pipefail
exec "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/ocp/registry_access/tests/integration/pytest-target.sh" tests/compat/test_smoke.py -q "$@"
