# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The registry_access_info module's run: one parallel batch of lists and reviews, then the safe views of _access.

Runs in the module frame (_module.RegistryAccessModule): the client is the frame's (a dry-run client
in check mode, so the same code path serves both), errors are raised and reported once by the frame.
"""

from __future__ import annotations

from ansible_collections.ocp.registry_access.plugins.module_utils import _access as access
from ansible_collections.ocp.registry_access.plugins.module_utils import _rotation as rotation
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import resource_path
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, InputError

RBAC = 'rbac.authorization.k8s.io'


class RegistryAccessInfo(object):
    """Reads everything in one parallel batch of lists and reviews, then builds safe views."""

    def __init__(self, module):
        self.module, self.params, self.client = module, module.params, module.client

    def run(self):
        p = self.params
        checks = access.can_pull_checks(p['can_pull'])
        declared = self.declaration()
        names, existing = self.module.namespaces()
        present = [n for n in names if n in existing]

        # One parallel batch: each kind listed once (per namespace only when there are few or when a
        # cluster-wide list is forbidden), the global pull secret read, every review asked.
        reads = {}
        if present:
            reads['service_accounts'] = lambda: self.client.list_by_namespace('serviceaccounts', present)
            reads['bindings'] = lambda: self.client.list_by_namespace('rolebindings', present, group=RBAC)
            for secret_type in access.PULL_SECRET_TYPES:
                reads[secret_type] = (lambda t=secret_type: self.client.list_by_namespace(
                    'secrets', present, field_selector='type=%s' % t))
        if p['include_global'] or p['images']:
            reads['global'] = self.read_global
        for index, (subject, from_namespace) in enumerate(checks):
            reads[index] = (lambda s=subject, ns=from_namespace: self.client.ask(
                access.review_path(ns), access.review_for(s, ns)))
        keys = list(reads)
        results = dict(zip(keys, self.client.parallel(lambda key: reads[key](), keys)))
        for key, res in results.items():
            if isinstance(res, ApiError) and res.forbidden and isinstance(key, int):
                raise InputError('can_pull needs the right to create localsubjectaccessreviews.authorization.k8s.io in '
                                 'namespace %s (the ClusterRole ocp-registry-access-subject-access-review bound there), '
                                 'which this user lacks (%s); leave can_pull empty or ask the project admin'
                                 % (checks[key][1], res))
            if isinstance(res, Exception):
                raise res

        service_accounts, bindings = results.get('service_accounts', {}), results.get('bindings', {})
        secrets = dict((ns, []) for ns in present)
        for secret_type in access.PULL_SECRET_TYPES:
            for ns, objs in results.get(secret_type, {}).items():
                secrets[ns].extend(objs)
                self.module.hide_secrets(objs)
        global_pull_secret, global_raw, _global_secret = results.get('global') or (None, None, None)
        if global_pull_secret is not None and not global_pull_secret['readable']:
            global_raw = None
        reviews = [results[index] for index in range(len(checks))]

        other_types = self.other_secret_types(present, secrets, service_accounts)
        pulls = dict((ns, access.explain_namespace(
            p['images'], p['service_account'], service_accounts.get(ns, []), secrets.get(ns, []), other_types.get(ns, {}),
            global_raw, global_pull_secret is not None and global_pull_secret['readable'])) for ns in present)
        if not p['include_global']:
            global_pull_secret = None
        namespaces = [access.namespace_view(ns, ns in existing, secrets.get(ns, []), service_accounts.get(ns, []),
                                            bindings.get(ns, []), other_types.get(ns, {}), pulls.get(ns) if p['images'] else None)
                      for ns in names]
        can_pull = [access.can_pull_view(c[0], c[1], review) for c, review in zip(checks, reviews)]
        report = rotation.report(self.locations(present, secrets, global_pull_secret, results.get('global')), present, declared)
        problems = access.problems_of(namespaces, global_pull_secret) + rotation.problems_of(report)
        summary = access.summary_of(namespaces, can_pull, problems)
        summary.update(stale_credentials=len(report['stale']), missing_credentials=len(report['missing']))
        return dict(changed=False, namespaces=namespaces, global_pull_secret=global_pull_secret, can_pull=can_pull,
                    rotation=report, summary=summary, problems=problems)

    def declaration(self):
        """The declared credentials of the option expected, each pull secret item's namespaces resolved (InputError if bad)."""
        expected = self.params['expected'] or {}
        items = [(item['name'], item['registries']) for item in expected.get('pull_secrets') or []]
        rotation.declaration([(name, [], registries) for name, registries in items], expected.get('global_registries'))
        targets = [self.covered(index, item) for index, item in enumerate(expected.get('pull_secrets') or [])]
        return rotation.declaration([(name, names, registries) for (name, registries), names in zip(items, targets)],
                                    expected.get('global_registries'))

    def covered(self, index, item):
        """The namespaces a declared pull secret covers, or None when its selector cannot be listed (a project's auditor)."""
        try:
            return self.client.namespaces(item['namespace'], item['namespaces'], item['namespace_selector'],
                                          item['exclude_namespaces'])
        except ApiError as e:
            if not e.denied:
                raise
            self.module.warn('expected.pull_secrets[%d]: the namespaces of namespace_selector %s cannot be listed (%s); its '
                             'credentials count for their registries everywhere, and none is reported missing'
                             % (index, item['namespace_selector'], e))
            return None

    def locations(self, present, secrets, global_view, global_read):
        """The docker configs the rotation report reads: the audited pull secrets, and the global one when reported."""
        found = [rotation.location_of(secret) for ns in present for secret in secrets[ns]
                 if secret.get('type') in access.PULL_SECRET_TYPES]
        if global_view is not None:
            secret = global_read[2] if global_view['readable'] else None
            found.append(rotation.location_of(secret, is_global=True) if secret is not None else rotation.Location(
                global_view['namespace'], global_view['name'], None, is_global=True))
        return found

    def read_global(self):
        ns, name = self.params['global_namespace'], self.params['global_name']
        try:
            secret = self.client.get(resource_path('secrets', ns, name))
        except ApiError as e:
            if e.denied:
                return access.global_view(ns, name, reason='forbidden: %s' % e.message), None, None
            raise
        self.module.hide_secrets([secret])
        return access.global_view(ns, name, secret), access.global_document(secret), secret

    def other_secret_types(self, present, secrets, service_accounts):
        """{namespace: {secret name: type or None}} for imagePullSecrets references that are not pull secrets.

        Only those few are read, one GET each, to tell a dangling reference from one to a secret of another type.
        """
        wanted = []
        for ns in present:
            names = [s['metadata']['name'] for s in secrets[ns] if s.get('type') in access.PULL_SECRET_TYPES]
            wanted.extend((ns, ref) for ref in access.unresolved_references(service_accounts.get(ns, []), names))
        found = self.client.parallel(lambda item: self.client.get(resource_path('secrets', item[0], item[1])), wanted)
        types = {}
        for (ns, ref), obj in zip(wanted, found):
            if isinstance(obj, Exception):
                raise obj
            types.setdefault(ns, {})[ref] = None if obj is None else (obj.get('type') or 'Opaque')
        return types
