# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The frame every module of the collection runs in.

    module = RegistryAccessModule(argument_spec(), namespaced=True, supports_check_mode=True, ...)
    module.run(lambda: MyModule(module).run())      # returns the result dict; exit_json/fail_json here

The frame adds the connection options (doc fragment ocp.registry_access.cluster), the fingerprint
options, and with namespaced=True the namespace targeting options and their rules (doc fragment
ocp.registry_access.namespaces). run() creates the client (a dry-run client in check mode), catches
every RegistryAccessError once and fails with its message redacted, and surfaces the API's
warnings both as Ansible warnings and as warnings_from_api. hide() learns credentials (strings, or
Secrets read from the server) so that no output (messages, warnings, results) shows them.
"""

from __future__ import annotations

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import CONNECTION_ARG_SPEC, Client, ClusterModule
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError, RegistryAccessError

# The options that pick namespaces (doc fragment ocp.registry_access.namespaces) and their rules.
NAMESPACE_ARG_SPEC = dict(
    namespace=dict(type='str'),
    namespaces=dict(type='list', elements='str'),
    namespace_selector=dict(type='str'),
    exclude_namespaces=dict(type='list', elements='str', default=[]),
)
NAMESPACE_CHOICE = ('namespace', 'namespaces', 'namespace_selector')
NAMESPACE_RULES = dict(mutually_exclusive=[NAMESPACE_CHOICE], required_one_of=[NAMESPACE_CHOICE])


def module_arg_spec(spec, namespaced=False, fingerprints=True):
    """spec with the options the frame adds: namespace targeting (if namespaced), connection, fingerprint (if fingerprints)."""
    full = dict(NAMESPACE_ARG_SPEC) if namespaced else {}
    full.update(spec)
    full.update(CONNECTION_ARG_SPEC)
    if fingerprints:
        full.update(ro.FINGERPRINT_OPTIONS)
    return full


class RegistryAccessModule(object):
    """An AnsibleModule (self.ansible) with the client, the credentials to hide and the one failure path."""

    def __init__(self, argument_spec, namespaced=False, mutually_exclusive=(), required_one_of=(), fingerprints=True, **kwargs):
        rules = NAMESPACE_RULES if namespaced else dict(mutually_exclusive=[], required_one_of=[])
        self.ansible = ClusterModule(argument_spec=module_arg_spec(argument_spec, namespaced, fingerprints),
                                     mutually_exclusive=rules['mutually_exclusive'] + list(mutually_exclusive),
                                     required_one_of=rules['required_one_of'] + list(required_one_of), **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.diff = self.ansible._diff
        self.secret_values = set()
        self.result = {}  # what the module has done so far: returned with a failure too
        self.client = None
        self._warned = set()
        dc.set_fingerprint_key(self.params.get('fingerprint_key'))

    # -- credentials ------------------------------------------------------------------------

    def hide(self, values):
        """Keep values (strings) out of every output."""
        for value in values:
            if isinstance(value, str) and value:
                self.secret_values.add(value)
                self.ansible.no_log_values.add(value)

    def hide_secrets(self, secrets):
        """Keep the credentials of Secrets (read from the server or about to be sent) out of every output."""
        for secret in secrets:
            if secret is not None:
                self.hide(dc.secret_object_values(secret))

    def redact(self, text):
        return dc.redact(text, self.secret_values)

    # -- client and namespaces ----------------------------------------------------------------

    def connect(self):
        """The client (a dry-run client in check mode); ConfigError when the connection options are unusable."""
        if self.client is None:
            self.client = Client.from_params(self.params, redact=self.redact, dry_run=self.check_mode,
                                             hide=self.ansible.no_log_values.add)
        return self.client

    def namespaces(self):
        """(names, existing): the target namespace names (sorted) and which of them exist.

        Names picked by namespace_selector exist by definition; named ones are looked up."""
        p, client = self.params, self.connect()
        names = client.namespaces(p['namespace'], p['namespaces'], p['namespace_selector'], p['exclude_namespaces'])
        existing = set(names) if p['namespace_selector'] is not None else client.existing_namespaces(names)
        return names, existing

    def target_namespaces(self):
        """The target namespace names; InputError when a named one does not exist (nothing is written then)."""
        names, existing = self.namespaces()
        missing = [n for n in names if n not in existing]
        if missing:
            raise InputError('namespace not found: %s; nothing was changed' % ', '.join(missing))
        return names

    # -- output ---------------------------------------------------------------------------------

    def warn(self, message):
        self.ansible.warn(self.redact(message))

    def _api_warnings(self, result):
        """The API's warnings as Ansible warnings (each once) and as result['warnings_from_api']."""
        warnings = self.client.api_warnings() if self.client is not None else []
        for warning in warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.ansible.warn(warning)
        result['warnings_from_api'] = warnings
        return result

    def fail(self, msg, **result):
        """The one failure path: msg redacted, the API's warnings with the result."""
        if self.client is not None:
            self._api_warnings(result)
        self.ansible.fail_json(msg=self.redact(str(msg)), **result)

    def exit(self, **result):
        self.ansible.exit_json(**self._api_warnings(result))

    def run(self, body):
        """Connect, then exit with body()'s result, or fail with the message of the RegistryAccessError it raised.

        The failure returns self.result (what the module did before the error) and the error's own .result."""
        try:
            self.connect()
            result = body()
        except RegistryAccessError as e:
            failed = dict(self.result)
            failed.update(getattr(e, 'result', None) or {})
            self.fail(e, **failed)
        self.exit(**result)
