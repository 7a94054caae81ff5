#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: prune
short_description: Remove the pull secrets and image-puller grants an owner made that its declaration no longer holds
version_added: 0.1.0
description:
  - Makes the cluster hold exactly a declaration for what its owner manages. Every pull secret that carries the
    C(app.kubernetes.io/managed-by=ocp.registry_access) label and the owner's marker (written by
    M(ocp.registry_access.pull_secret) with O(ocp.registry_access.pull_secret#module:owner)) and is not in
    O(declared_secrets) is first unlinked from every service account of its namespace (C(imagePullSecrets) and
    C(secrets)) and then deleted, so that no service account is left referencing a secret that is gone.
  - Every subject that M(ocp.registry_access.image_puller_binding) granted for the owner (recorded on the RoleBinding)
    and that is not in O(declared_grants) is taken out of the binding; a subject another owner granted too stays. A
    binding left without subject is deleted when the collection created it, unless annotated
    C(rbac.authorization.kubernetes.io/autoupdate=false); OpenShift's C(system:image-pullers) is never touched.
  - Objects without the managed-by label or without this owner's marker are never touched, so two declarations with
    different owners never prune each other.
  - The role C(ocp.registry_access.project_access) runs it with C(project_access_prune=true), passing the results of
    its pull secret and image puller tasks, which name what the declaration holds in check mode too.
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.cluster
  - ocp.registry_access.fingerprint
attributes:
  check_mode:
    support: full
    details: No write request reaches the API server; the result and the diff say what would be pruned.
  diff_mode:
    support: full
    details: The diff lists, per namespace, the secrets (registries and fingerprints, never a credential), the service
      account references and the binding subjects that go.
  idempotent:
    support: full
    details: Once pruned, a second run finds nothing and sends no write request.
options:
  owner:
    description:
      - The declaration's identity, as given to the O(ocp.registry_access.pull_secret#module:owner) and
        O(ocp.registry_access.image_puller_binding#module:owner) options of the modules that wrote the objects.
    type: str
    required: true
  declared_secrets:
    description:
      - The pull secrets the declaration holds, one dict with C(namespace) and C(name) each; other keys are ignored, so
        the RV(ocp.registry_access.pull_secret#module:secrets) results of M(ocp.registry_access.pull_secret) can be
        passed as they are (an entry with C(action=deleted) declares nothing).
    type: list
    elements: dict
    default: []
  declared_grants:
    description:
      - The image-puller grants the declaration holds, one dict with C(namespace), C(subject), C(role) and
        C(role_kind) each, as M(ocp.registry_access.image_puller_binding) returns them in
        RV(ocp.registry_access.image_puller_binding#module:grants).
    type: list
    elements: dict
    default: []
  namespaces:
    description:
      - Look only in these namespaces, each listed on its own; the project role C(rbac/project-access-clusterrole.yaml)
        bound in each of them suffices.
      - Not set - one cluster-wide list of secrets and one of role bindings, each by label selector, which needs
        C(rbac/prune-clusterrole.yaml) bound with a ClusterRoleBinding.
    type: list
    elements: str
seealso:
  - module: ocp.registry_access.pull_secret
  - module: ocp.registry_access.image_puller_binding
'''

EXAMPLES = r'''
- name: Enforce the declaration, recording its owner
  ocp.registry_access.pull_secret:
    name: private-registry
    namespace_selector: team=payments
    owner: payments/enforce
    registries:
      - server: registry.example.com
        username: payments-bot
        password: "{{ vault_registry_password }}"
    service_accounts: [default]
  register: declared
  no_log: true

- name: Remove what the owner made that the declaration no longer holds (unlinked first, then deleted)
  ocp.registry_access.prune:
    owner: payments/enforce
    declared_secrets: "{{ declared.secrets }}"

- name: The same, looking only in named projects (project admin rights)
  ocp.registry_access.prune:
    owner: payments/enforce
    declared_secrets: "{{ declared.secrets }}"
    namespaces: [payments-dev, payments-prod]
'''

RETURN = r'''
secrets:
  description: The pull secrets pruned (or, in check mode, that would be), in the order they were deleted.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the Secret.
      type: str
      returned: always
      sample: payments-old
    name:
      description: Name of the Secret.
      type: str
      returned: always
      sample: private-registry
    action:
      description: V(deleted), or V(kept) when the Secret changed hands since it was listed (someone else now holds it).
      type: str
      returned: always
      sample: deleted
      choices: [deleted, kept]
    unlinked_from:
      description: The service accounts the Secret was unlinked from before it was deleted.
      type: list
      elements: str
      returned: always
      sample: [default, builder]
service_accounts:
  description: One entry per service account and pruned secret it referenced.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the service account.
      type: str
      returned: always
      sample: payments-old
    name:
      description: Name of the service account.
      type: str
      returned: always
      sample: default
    secret:
      description: The pruned Secret it no longer references.
      type: str
      returned: always
      sample: private-registry
    unlinked_for:
      description: Where it referenced the Secret before (V(pull) for C(imagePullSecrets), V(mount) for C(secrets)).
      type: list
      elements: str
      returned: always
      sample: [pull]
    action:
      description: V(unlinked).
      type: str
      returned: always
      sample: unlinked
bindings:
  description: The RoleBindings whose grants were revoked.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the binding.
      type: str
      returned: always
      sample: shared-images
    name:
      description: Name of the binding.
      type: str
      returned: always
      sample: system:image-puller
    action:
      description: V(updated) (subjects taken out) or V(deleted) (no subject left, and the collection created it).
      type: str
      returned: always
      sample: updated
      choices: [updated, deleted]
    removed:
      description: The subjects taken out, as C(system:serviceaccount:<ns>:<name>), C(group:<name>) or C(user:<name>).
      type: list
      elements: str
      returned: always
      sample: ['group:system:serviceaccounts:payments-old']
    subjects:
      description: The binding's subjects after the run (empty when deleted).
      type: list
      elements: str
      returned: always
      sample: ['system:serviceaccount:payments-ci:default']
warnings_from_api:
  description: Warnings the API server sent (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils import _prune as pr
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import resource_path
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import DELETE
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, InputError, RegistryAccessError
from ansible_collections.ocp.registry_access.plugins.module_utils._module import RegistryAccessModule
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import secret_view, unlink_plan
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import subject_to_string

RBAC = 'rbac.authorization.k8s.io'
CLUSTER_WIDE_HINT = ('prune lists the objects of an owner across the cluster: bind rbac/prune-clusterrole.yaml with a '
                     'ClusterRoleBinding, or set namespaces to the namespaces to look in; nothing was changed')


class PruneFailed(RegistryAccessError):
    """Some prunes failed after others were done: the result says what was done."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def argument_spec():
    return dict(
        owner=dict(type='str', required=True),
        declared_secrets=dict(type='list', elements='dict', default=[], no_log=False),  # names, no credential
        declared_grants=dict(type='list', elements='dict', default=[]),
        namespaces=dict(type='list', elements='str'),
    )


class Prune(object):
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
        """Unlink, then delete; if the secret changed since it was listed, look again (it may have changed hands)."""
        state = dict(prune=prune, sas=[])

        def attempt(number):
            if number:
                current = self.client.get(resource_path('secrets', prune.namespace, prune.name))
                if current is None:
                    return self.secret_result(state['prune'], 'deleted'), state['sas']
                self.module.hide_secrets([current])
                if not pr.secrets_to_prune([current], owner, declared):
                    return self.secret_result(state['prune'], 'kept'), state['sas']
                state['prune'] = pr.plan_secret(current, self.client.list(resource_path('serviceaccounts', prune.namespace)))
            plan = state['prune']
            for step in plan.unlinks:
                self.unlink(step)
                state['sas'].append(dict(namespace=step.namespace, name=step.name, secret=step.secret,
                                         unlinked_for=plan.linked[step.name], action='unlinked'))
            self.client.delete(resource_path('secrets', plan.namespace, plan.name), plan.delete.resource_version)
            return self.secret_result(plan, 'deleted'), state['sas']

        return self.client.retry_on_conflict(attempt, 'secret %s/%s' % (prune.namespace, prune.name))

    @staticmethod
    def secret_result(prune, action):
        return dict(namespace=prune.namespace, name=prune.name, action=action,
                    unlinked_from=[step.name for step in prune.unlinks])

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
            if isinstance(res, Exception):
                errors.append('secret %s/%s: %s (not deleted: every service account must be unlinked first)'
                              % (prune.namespace, prune.name, res))
                continue
            secrets_out.append(res[0])
            sas_out.extend(res[1])
        for step, res in zip(binding_steps, binding_results):
            if isinstance(res, Exception):
                errors.append('role binding %s/%s: %s' % (step.namespace, step.name, res))
            elif res is not None:
                bindings_out.append(res)
        result = dict(changed=bool([s for s in secrets_out if s['action'] == 'deleted'] or sas_out or bindings_out),
                      secrets=secrets_out, service_accounts=sas_out, bindings=bindings_out)
        if self.module.diff:
            result['diff'] = diff_of(prunes, secrets_out, sas_out, bindings, bindings_out)
        if errors:
            raise PruneFailed('%d of %d prunes failed: %s' % (
                len(errors), len(prunes) + len(binding_steps), '; '.join(errors[:10])), result)
        return result


def diff_of(prunes, secrets_out, sas_out, bindings, bindings_out):
    """Per namespace: the secrets, service account references and binding subjects before and after (safe views)."""
    before, after = {}, {}
    listed = dict(((p.namespace, p.name), p.secret) for p in prunes)
    for r in secrets_out:
        if r['action'] == 'deleted':
            before.setdefault(r['namespace'], {}).setdefault('secrets', {})[r['name']] = \
                secret_view(listed[(r['namespace'], r['name'])])
            after.setdefault(r['namespace'], {}).setdefault('secrets', {})[r['name']] = None
    for r in sas_out:
        before.setdefault(r['namespace'], {}).setdefault('service_accounts', {}).setdefault(r['name'], {})[r['secret']] = \
            ', '.join(r['unlinked_for'])
        after.setdefault(r['namespace'], {}).setdefault('service_accounts', {}).setdefault(r['name'], {})[r['secret']] = \
            'not linked'
    subjects_before = dict((pr.where(b), b.get('subjects') or []) for b in bindings)
    for r in bindings_out:
        was = subjects_before.get((r['namespace'], r['name']), [])
        before.setdefault(r['namespace'], {}).setdefault('bindings', {})[r['name']] = [subject_to_string(s) for s in was]
        after.setdefault(r['namespace'], {}).setdefault('bindings', {})[r['name']] = \
            None if r['action'] == 'deleted' else r['subjects']
    return {'before': before, 'after': after}


def main():
    module = RegistryAccessModule(argument_spec(), supports_check_mode=True)
    module.run(lambda: Prune(module).run())


if __name__ == '__main__':
    main()
