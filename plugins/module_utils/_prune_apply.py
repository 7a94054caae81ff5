# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The prune module's run: list the owner's objects, plan (_prune), unlink, then delete, revoke."""

from __future__ import annotations

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils import _prune as pr
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import DELETE, resource_path
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, InputError, RegistryAccessError
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import unlink_plan

RBAC = 'rbac.authorization.k8s.io'
CLUSTER_WIDE_HINT = ('prune lists the objects of an owner across the cluster: bind rbac/prune-clusterrole.yaml with a '
                     'ClusterRoleBinding, or set namespaces to the namespaces to look in; nothing was changed')


class PruneFailed(RegistryAccessError):
    """Some prunes failed after others were done: the result says what was done."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class Prune:
    """Read the owner's objects, plan, then unlink and delete (a dry-run client in check mode sends no write)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = module.connect()

    def list_labelled(self, resource, selector, group=None):
        """Every object of resource carrying selector, cluster-wide or in the namespaces given."""
        namespaces = self.params['namespaces']
        if namespaces is None:
            try:
                return self.client.list(resource_path(resource, group=group), label_selector=selector)
            except ApiError as e:
                if e.denied:
                    raise InputError('%s (%s)' % (CLUSTER_WIDE_HINT, e))
                raise
        lists = self.client.parallel(
            lambda ns: self.client.list(resource_path(resource, ns, group=group), label_selector=selector),
            sorted(set(namespaces)))
        found = []
        for objs in lists:
            if isinstance(objs, Exception):
                raise objs
            found.extend(objs)
        return found

    def run(self):
        p = self.params
        try:
            owner = own.validate_owner(p['owner'])
            secrets_declared = pr.declared_secrets(p['declared_secrets'])
            grants_declared = pr.declared_grants(p['declared_grants'])
        except InputError as e:
            raise InputError('%s; nothing was changed' % e)
        listed = self.list_labelled('secrets', own.owner_selector(owner))
        self.module.hide_secrets(listed)
        doomed = pr.secrets_to_prune(listed, owner, secrets_declared)
        accounts = self.client.list_by_namespace('serviceaccounts', sorted(set(s['metadata']['namespace'] for s in doomed)))
        prunes = [pr.plan_secret(s, accounts[s['metadata']['namespace']]) for s in doomed]
        bindings = self.list_labelled('rolebindings', own.grants_label(owner), group=RBAC)
        binding_steps = pr.bindings_to_prune(bindings, owner, grants_declared)

        secret_results = self.client.parallel(lambda sp: self.prune_secret(sp, owner, secrets_declared), prunes)
        binding_results = self.client.parallel(lambda step: self.revoke(step, owner, grants_declared), binding_steps)
        return self.finish(prunes, secret_results, bindings, binding_steps, binding_results)

    # -- writing ----------------------------------------------------------------------------

    def unlink(self, step):
        """Take the secret out of one service account (read-modify-write: entries others added stay in place)."""
        self.client.read_modify_write(resource_path('serviceaccounts', step.namespace, step.name),
                                      lambda current: None if current is None else unlink_plan(current, step.secret),
                                      current=step.current)

    def prune_secret(self, prune, owner, declared):
        """Unlink, then delete; if the secret changed since it was listed, look again (it may have changed hands).

        Returns (result, service accounts unlinked, error): what was done is reported even when a later step failed."""
        state = dict(prune=prune, sas=[])

        def result(action):
            return dict(namespace=prune.namespace, name=prune.name, action=action,
                        unlinked_from=[sa['name'] for sa in state['sas']])

        def attempt(number):
            if number:
                current = self.client.get(resource_path('secrets', prune.namespace, prune.name))
                if current is None:
                    return result('deleted')
                self.module.hide_secrets([current])
                if not pr.secrets_to_prune([current], owner, declared):
                    return result('kept')
                state['prune'] = pr.plan_secret(current, self.client.list(resource_path('serviceaccounts', prune.namespace)))
            plan = state['prune']
            for step in plan.unlinks:
                self.unlink(step)
                state['sas'].append(dict(namespace=step.namespace, name=step.name, secret=step.secret,
                                         unlinked_for=plan.linked[step.name], action='unlinked'))
            self.client.delete(resource_path('secrets', plan.namespace, plan.name), plan.delete.resource_version)
            return result('deleted')

        try:
            return self.client.retry_on_conflict(attempt, 'secret %s/%s' % (prune.namespace, prune.name)), state['sas'], None
        except RegistryAccessError as e:
            return None, state['sas'], e

    def revoke(self, step, owner, declared):
        """Update or delete one binding; on a conflict read it again and plan again."""
        path = resource_path('rolebindings', step.namespace, step.name, group=RBAC)
        state = dict(step=step)

        def attempt(number):
            if number:
                current = self.client.get(path)
                state['step'] = pr.plan_binding(current, owner, declared) if current is not None else None
            todo = state['step']
            if todo is None:
                return None
            if todo.action == DELETE:
                self.client.delete(path, todo.resource_version)
            else:
                self.client.replace(path, todo.body)
            return dict(namespace=todo.namespace, name=todo.name, removed=todo.removed,
                        action='deleted' if todo.action == DELETE else 'updated',
                        subjects=[] if todo.action == DELETE else todo.subjects_after)

        return self.client.retry_on_conflict(attempt, 'role binding %s/%s' % (step.namespace, step.name))

    # -- result -----------------------------------------------------------------------------

    def finish(self, prunes, secret_results, bindings, binding_steps, binding_results):
        errors, secrets_out, sas_out, bindings_out = [], [], [], []
        for prune, res in zip(prunes, secret_results):
            done, unlinked, error = (None, [], res) if isinstance(res, Exception) else res
            sas_out.extend(unlinked)
            if error is not None:
                errors.append('secret %s/%s: %s (not deleted%s)' % (
                    prune.namespace, prune.name, error,
                    '; unlinked from ' + ', '.join(sa['name'] for sa in unlinked) if unlinked else ''))
            else:
                secrets_out.append(done)
        for step, res in zip(binding_steps, binding_results):
            if isinstance(res, Exception):
                errors.append('role binding %s/%s: %s' % (step.namespace, step.name, res))
            elif res is not None:
                bindings_out.append(res)
        result = dict(changed=bool([s for s in secrets_out if s['action'] == 'deleted'] or sas_out or bindings_out),
                      secrets=secrets_out, service_accounts=sas_out, bindings=bindings_out)
        if self.module.diff:
            result['diff'] = pr.diff_of(prunes, secrets_out, sas_out, bindings, bindings_out)
        if errors:
            raise PruneFailed('%d of %d prunes failed: %s' % (
                len(errors), len(prunes) + len(binding_steps), '; '.join(errors[:10])), result)
        return result
