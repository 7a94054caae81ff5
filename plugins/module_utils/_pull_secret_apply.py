# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The pull_secret module's run: read once, plan every namespace (_pull_secret), then write what differs in parallel.

Runs in the module frame (_module.RegistryAccessModule): the client is the frame's (a dry-run client
in check mode, so the same code path serves both), errors are raised and reported once by the frame.
"""

from __future__ import annotations

import time

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils import _pull_secret as ps
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._config_file import load_config
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import (
    CREATE, UNCHANGED, UPDATE, resource_path,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import (
    ApiError, InputError, PlanError, RegistryAccessError,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._poll import poll, steady
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import SubjectError, validate_object_name


class WriteFailed(Exception):
    """A namespace's writes stopped part way: why, and the result entry of what is on the server now."""

    def __init__(self, message, written):
        super().__init__(message)
        self.written = written


def check_names(params):
    """InputError on a secret or service account name the API server would refuse, before any request.

    Otherwise check mode would report a change that cannot be made, a run would send a write the
    server rejects, and wait_for would wait out its timeout for a service account that cannot exist.
    """
    try:
        validate_object_name(params['name'], 'secret name')
        for sa in params['service_accounts']:
            validate_object_name(sa, 'service account name')
    except SubjectError as e:
        raise InputError('%s; nothing was changed' % e)


def desired_auths(params):
    """The registries the Secret must hold, from registries, content or src; InputError on bad input."""
    try:
        if params['registries'] is not None:
            for reg in params['registries']:
                rk.validate_server(reg['server'])
            return ro.entries_from_options(params['registries'])
        config = load_config(params['content'], params['src'])
        if not config.auths:
            raise dc.DockerConfigError('%s holds no registry' % ('src %s' % params['src'] if params['src'] else 'content'))
        for key in config.auths:
            rk.validate_server(key)
        return config.auths
    except dc.DockerConfigError as e:
        raise InputError('registries: %s' % e if params['registries'] is not None else str(e))


def wait_for_service_accounts(client, namespaces, names, mode, timeout, sleep=time.sleep, clock=time.time):
    """{(namespace, name): service account}, once each exists (and is provisioned, if asked); PlanError if not in time.

    Reads only: one list per service account name, then GETs of the ones still pending (and, for
    provisioned, of the pull secret each one names). The pull secret's content is only inspected,
    never returned.
    """
    found = {}
    for name in names:
        for ns, obj in client.objects_by_namespace('serviceaccounts', name, namespaces).items():
            found[(ns, name)] = obj
    gaps = {}
    state = {'pending': None}

    def read(keys, path_of):
        objs = client.parallel(lambda key: client.get(path_of(key)), keys)
        for obj in objs:
            if isinstance(obj, Exception):
                raise obj
        return dict(zip(keys, objs))

    def probe():
        keys = state['pending']
        if keys is None:
            keys = sorted(found)
        else:
            found.update(read(keys, lambda key: resource_path('serviceaccounts', key[0], key[1])))
        pull_secrets = {}
        if mode == 'provisioned':
            named = [k for k in keys if found[k] is not None and ps.provisioned_secret_name(found[k])]
            pull_secrets = read(named, lambda key: resource_path('secrets', key[0], ps.provisioned_secret_name(found[key])))
        for key in keys:
            gaps.pop(key, None)
        gaps.update(ps.service_account_gaps(found, keys, mode, pull_secrets))
        first = state['pending'] is None
        state['pending'] = sorted(k for k in keys if k in gaps)
        if first and state['pending'] and mode == 'none':
            raise ps.service_accounts_not_found(state['pending'])
        return not state['pending']

    if not poll(probe, timeout, steady(1), sleep=sleep, clock=clock):
        raise ps.wait_timed_out(mode, timeout, state['pending'], gaps)
    return found


class PullSecret(object):
    """Orchestration: read once, plan every namespace, then write what differs in parallel."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = module.connect()

    def run(self):
        p = self.params
        check_names(p)
        own.validate_owner(p['owner'])
        auths = None
        if p['state'] == 'present':
            auths = desired_auths(p)
            self.module.hide(dc.secret_values(auths))
        namespaces = self.module.target_namespaces()
        secrets = self.client.objects_by_namespace('secrets', p['name'], namespaces)
        self.module.hide_secrets(secrets.values())
        if p['state'] == 'present':
            return self.present(namespaces, secrets, auths)
        return self.absent(namespaces, secrets)

    # -- present --------------------------------------------------------------------------

    def plan(self, namespace, existing, auths):
        """The SecretPlan of one namespace; OwnershipConflict when someone else holds the Secret and unmanaged is fail.

        The Secret carries the managed-by label and the owner's marker; what it held besides stays, except with
        unmanaged: overwrite, where it holds exactly the declaration (its registries, labels and annotations).
        """
        p = self.params
        held = own.ownership(existing, p['owner'], p['unmanaged'])
        kept = ((existing or {}).get('metadata') or {}) if held in (own.MANAGED, own.ADOPTED) else {}
        labels, annotations = own.marked_metadata(
            {'labels': dict(kept.get('labels') or {}, **p['labels']),
             'annotations': dict(kept.get('annotations') or {}, **p['annotations'])}, p['owner'])
        merge = p['merge'] and held != own.OVERWRITTEN
        plan = ps.plan_secret(namespace, p['name'], existing, auths, p['type'], merge, labels, annotations, p['force'],
                              exact_metadata=True)
        plan.ownership = held
        self.module.hide_secrets([plan.body])  # the whole document as it will be sent
        return plan

    def check_ownership(self, namespaces, secrets):
        """{namespace: ownership} of the existing Secrets; PlanError naming every one someone else holds (unmanaged: fail)."""
        held, conflicts = {}, []
        for ns in namespaces:
            try:
                held[ns] = own.ownership(secrets[ns], self.params['owner'], self.params['unmanaged'])
            except own.OwnershipConflict as e:
                conflicts.append(('%s/%s' % (ns, self.params['name']), str(e)))
        if conflicts:
            raise PlanError(own.conflict_message(conflicts, 'secrets'))
        return held

    def present(self, namespaces, secrets, auths):
        p = self.params
        self.check_ownership(namespaces, secrets)
        plans = {}
        problems = []
        for ns in namespaces:
            try:
                plans[ns] = self.plan(ns, secrets[ns], auths)
            except PlanError as e:
                problems.append('%s/%s: %s' % (ns, p['name'], e))
        if problems:
            raise PlanError('nothing was changed: ' + '; '.join(problems))
        for warning in ps.kubelet_warnings(auths, p['type']):
            self.module.warn(warning)
        sa_objects = {}
        if p['service_accounts']:
            try:
                sa_objects = wait_for_service_accounts(self.client, namespaces, p['service_accounts'], p['wait_for'],
                                                       p['wait_timeout'])
            except PlanError as e:
                raise PlanError('%s; nothing was changed' % e if p['wait_for'] == 'none' else str(e))
        secret_results = self.client.parallel(lambda ns: self.apply_secret(plans[ns]), namespaces)
        # A service account is linked only where its secret was written as planned: a failed write must not
        # leave a reference to a secret that is not there (or not what was asked for).
        written = set(ns for ns, res in zip(namespaces, secret_results) if not isinstance(res, Exception))
        sa_items = [(ns, sa) for ns in namespaces if ns in written for sa in p['service_accounts']]
        sa_results = self.client.parallel(lambda item: self.link(item[0], item[1], sa_objects.get(item)), sa_items)
        notes = ['service accounts in %s were not linked: its secret was not written' % ns
                 for ns in namespaces if ns not in written and p['service_accounts']]
        return self.finish(namespaces, secret_results, sa_items, sa_results,
                           before=dict((ns, ps.secret_view(secrets[ns])) for ns in namespaces),
                           after=dict((ns, plans[ns].view) for ns in namespaces), notes=notes)

    def apply_secret(self, plan):
        """Write one namespace's planned secret; on a conflict re-read and re-plan."""
        planned = [plan]

        def write(attempt):
            if attempt:
                current = self.client.get(resource_path('secrets', plan.namespace, plan.name))
                self.module.hide_secrets([current])
                planned[0] = self.plan(plan.namespace, current, plan.auths_given)
            now = planned[0]
            if now.action == CREATE:
                self.client.create(resource_path('secrets', now.namespace), now.body)
            elif now.action == UPDATE:
                self.client.replace(resource_path('secrets', now.namespace, now.name), now.body)
            elif now.action != UNCHANGED:  # RECREATE: the type (or immutability) cannot change in place
                self.recreate(now)
            return now.result()

        return self.client.retry_on_conflict(write, what='secret %s/%s' % (plan.namespace, plan.name))

    def recreate(self, plan):
        """Delete and create again; if the create fails (quota, admission), put the previous Secret back.

        A 409 from the delete (the Secret changed since it was read) or from the create (someone else
        created it meanwhile) is left to the caller's re-read and re-plan: nothing was lost then.
        """
        path = resource_path('secrets', plan.namespace, plan.name)
        if not self.client.delete(path, plan.resource_version):
            self.client.create(resource_path('secrets', plan.namespace), plan.body)  # gone already: nothing to restore
            return
        try:
            self.client.create(resource_path('secrets', plan.namespace), plan.body)
        except ApiError as e:
            if e.conflict:
                raise
            what = 'secret %s/%s: recreating it as %s failed (%s)' % (plan.namespace, plan.name, plan.view['type'], e)
            try:
                self.client.create(resource_path('secrets', plan.namespace), plan.previous)
            except ApiError as again:
                raise WriteFailed('%s, and restoring the previous secret failed too (%s): the secret was deleted'
                                  % (what, again),
                                  dict(plan.result(), action='deleted', registries=[], fingerprint=''))
            raise WriteFailed('%s; the previous secret was restored (same type, data, labels and annotations, '
                              'new uid)' % what, ps.restored_result(plan, ps.secret_view(plan.previous)))

    def link(self, namespace, sa_name, sa_object):
        p = self.params
        path = resource_path('serviceaccounts', namespace, sa_name)
        if sa_object is None:
            sa_object = self.client.get(path)
        outcome = {}

        def mutate(current):
            if current is None:
                raise ApiError(404, 'NotFound', 'service account %s/%s not found' % (namespace, sa_name))
            desired, outcome['linked_for'] = ps.link_plan(current, p['name'], p['link_for'])
            outcome['action'] = 'unchanged' if desired is None else 'linked'
            return desired

        self.client.read_modify_write(path, mutate, current=sa_object)
        return dict(namespace=namespace, name=sa_name, linked_for=outcome['linked_for'], action=outcome['action'])

    # -- absent ---------------------------------------------------------------------------

    def absent(self, namespaces, secrets):
        p = self.params
        held = self.check_ownership(namespaces, secrets)
        referencing = [sa for objs in self.client.list_by_namespace('serviceaccounts', namespaces).values()
                       for sa in objs if ps.unlink_plan(sa, p['name']) is not None]
        sa_results = self.client.parallel(self.unlink, referencing)
        sa_items = [(sa['metadata']['namespace'], sa['metadata']['name']) for sa in referencing]
        # The secret stays where a service account still references it: deleting it would leave that
        # reference dangling, and the next run can finish the job.
        still_linked = {}
        for (ns, sa), res in zip(sa_items, sa_results):
            if isinstance(res, Exception):
                still_linked.setdefault(ns, []).append(sa)

        def delete(ns):
            if secrets[ns] is None:
                return dict(namespace=ns, name=p['name'], action='unchanged', registries=[], fingerprint='',
                            ownership=None)
            if ns in still_linked:
                raise WriteFailed('not deleted, because service account(s) %s could not be unlinked'
                                  % ', '.join(sorted(still_linked[ns])), None)
            self.client.delete(resource_path('secrets', ns, p['name']))
            return dict(namespace=ns, name=p['name'], action='deleted', registries=[], fingerprint='',
                        ownership=held[ns])

        secret_results = self.client.parallel(delete, namespaces)
        return self.finish(namespaces, secret_results, sa_items, sa_results,
                           before=dict((ns, ps.secret_view(secrets[ns])) for ns in namespaces),
                           after=dict((ns, None) for ns in namespaces))

    def unlink(self, sa_object):
        ns, name = sa_object['metadata']['namespace'], sa_object['metadata']['name']
        self.client.read_modify_write(resource_path('serviceaccounts', ns, name),
                                      lambda current: current and ps.unlink_plan(current, self.params['name']),
                                      current=sa_object)
        return dict(namespace=ns, name=name, linked_for=[], action='unlinked')

    # -- result ---------------------------------------------------------------------------

    def finish(self, namespaces, secret_results, sa_items, sa_results, before, after, notes=()):
        errors = []
        secrets_out, sas_out = [], []
        for ns, res in zip(namespaces, secret_results):
            if isinstance(res, WriteFailed) and res.written is not None:
                errors.append(str(res))
                secrets_out.append(res.written)
            elif isinstance(res, Exception):
                errors.append('secret %s/%s: %s' % (ns, self.params['name'], res))
            else:
                secrets_out.append(res)
        for (ns, sa), res in zip(sa_items, sa_results):
            if isinstance(res, Exception):
                errors.append('service account %s/%s: %s' % (ns, sa, res))
            else:
                sas_out.append(res)
        changed = any(r['action'] != 'unchanged' for r in secrets_out + sas_out)
        result = dict(changed=changed, secrets=secrets_out, service_accounts=sas_out)
        if self.module.diff:
            result['diff'] = ps.diff_of(before, after, secrets_out, sas_out)
        if errors:
            shown = errors[:10] + (['... and %d more' % (len(errors) - 10)] if len(errors) > 10 else [])
            shown += list(notes)[:10]
            raise RegistryAccessError('%d of %d operations failed: %s' % (
                len(errors), len(secret_results) + len(sa_results), '; '.join(shown)), result=result)
        return result
