"""The full argument spec of a module of the collection, as its main() gives it to AnsibleModule.

The module files hold only their own options; the frame (_module.RegistryAccessModule) adds the
namespace, connection and fingerprint options. Tests that need every option a user can pass (the
role argument spec check, the fuzz test) take the spec from main() itself, so they follow the frame.
"""

import importlib
from unittest import mock

from ansible.module_utils import basic


class _Captured(Exception):
    pass


def module_spec(name):
    """The argument spec plugins/modules/<name>.py's main() builds its AnsibleModule with."""
    seen = {}

    def capture(self, argument_spec, **kwargs):
        seen["spec"] = argument_spec
        raise _Captured()

    module = importlib.import_module("ansible_collections.ocp.registry_access.plugins.modules." + name)
    with mock.patch.object(basic.AnsibleModule, "__init__", capture):
        try:
            module.main()
        except _Captured:
            return seen["spec"]
    raise AssertionError("%s's main() did not build an AnsibleModule" % name)
