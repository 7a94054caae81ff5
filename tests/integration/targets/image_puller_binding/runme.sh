#!/usr/bin/env bash
# The image_puller_binding suite (tests/integration/test_image_puller_binding.py).
set -euo pipefail
exec "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/ocp/registry_access/tests/integration/pytest-target.sh" tests/integration/test_image_puller_binding.py -q -n 2 --dist loadgroup "$@"
