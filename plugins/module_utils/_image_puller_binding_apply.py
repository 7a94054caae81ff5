# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The image_puller_binding module's run: list the RoleBindings once, plan every namespace (_subjects), write, verify.

Runs in the module frame (_module.RegistryAccessModule): the client is the frame's (a dry-run client
in check mode, so the same code path serves both), errors are raised and reported once by the frame.
"""

from __future__ import annotations

import time

from ansible_collections.ocp.registry_access.plugins.module_utils import _ownership as own
from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj
from ansible_collections.ocp.registry_access.plugins.module_utils._access import review_answer, review_for, review_path
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import (
    CREATE, DELETE, UNCHANGED, UPDATE, reported, resource_path,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import (
    ApiError, InputError, PlanError, RegistryAccessError,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._poll import doubling, poll

RBAC = 'rbac.authorization.k8s.io'
# Seconds to keep asking when an answer is not yet the expected one.
VERIFY_SETTLE_SECONDS = 10
# A binding the collection did not create and adds to as oc does (the default binding choice): nobody's to claim.
SHARED = 'shared'


class ImagePullerBinding(object):
    def __init__(self, module, sleep=time.sleep, clock=time.time):
        self.module = module
        self.params = module.params
        self.client = module.connect()
        self.sleep, self.clock = sleep, clock

    def run(self):
        p = self.params
        subjects = subj.build_subjects(p['service_accounts'], p['all_service_accounts_in'], p['groups'], p['users'])
        ref = subj.role_ref(p['role'], p['role_kind'])
        if p['rolebinding_name'] is not None and p['rolebinding_name'] in subj.PROTECTED_BINDINGS:
            raise subj.SubjectError('rolebinding_name %s is managed by OpenShift and never modified' % p['rolebinding_name'])
        if not subjects and not (p['state'] == 'present' and p['exclusive']):
            raise InputError('give at least one subject: service_accounts, all_service_accounts_in, groups or users')

        own.validate_owner(p['owner'])
        namespaces = self.module.target_namespaces()
        if p['state'] == 'present':
            self.check_role_exists(namespaces)

        bindings = self.client.list_by_namespace('rolebindings', namespaces, group=RBAC)
        plans = {}
        problems, conflicts = [], []
        for ns in namespaces:
            try:
                plans[ns] = self.plan(bindings[ns], ref, subjects)
            except subj.SubjectError as e:
                problems.append('%s: %s' % (ns, e))
            except own.OwnershipConflict as e:
                conflicts.append(('%s/%s' % (ns, p['rolebinding_name']), str(e)))
        if problems:
            raise PlanError('nothing was changed: ' + '; '.join(problems))
        if conflicts:
            raise PlanError(own.conflict_message(conflicts, 'role bindings'))

        results = self.client.parallel(lambda ns: self.apply(ns, plans[ns], ref, subjects), namespaces)
        out, errors = [], []
        for ns, res in zip(namespaces, results):
            if isinstance(res, Exception):
                errors.append('%s: %s' % (ns, res))
            else:
                out.extend(res)
        changed = any(r['action'] != UNCHANGED for r in out)
        # what the declaration grants, for prune (which revokes what an owner granted and no longer declares)
        grants = [dict(namespace=ns, subject=subj.subject_to_string(s), role=p['role'], role_kind=p['role_kind'])
                  for ns in namespaces for s in subjects] if p['state'] == 'present' else []
        result = dict(changed=changed, bindings=out, verification=[], access_remains=[], grants=grants)
        if p['state'] == 'absent':
            result['access_remains'] = self.remaining(namespaces, bindings, plans, ref, subjects)
        if self.module.diff:
            result['diff'] = subj.bindings_diff(bindings, out)
        if errors:
            raise RegistryAccessError('%d of %d namespaces failed: %s' % (len(errors), len(namespaces), '; '.join(errors[:10])),
                                      result=result)
        if p['verify'] and not self.client.dry_run:
            self.verify_result(result, namespaces, subjects)
        return result

    def verify_result(self, result, namespaces, subjects):
        """result['verification'], or a RegistryAccessError (with result) when the API server disagrees."""
        p = self.params
        try:
            result['verification'] = self.verify(namespaces, subjects, result['access_remains'])
        except ApiError as e:
            # the bindings are written: say so, and what they are, whatever went wrong after
            raise RegistryAccessError('%s; cannot verify%s: %s' % (
                'the role bindings were changed (see bindings)' if result['changed'] else 'nothing was changed',
                ' (verify needs the right to create localsubjectaccessreviews.authorization.k8s.io in each namespace)'
                if e.forbidden else '', e), result=result)
        bad = [v for v in result['verification'] if not v['ok']]
        if bad:
            expected = 'may pull' if p['state'] == 'present' else 'may no longer pull through %s bindings' % p['role']
            raise RegistryAccessError('verification failed: %d of %d checks; expected that the subjects %s: %s' % (
                len(bad), len(result['verification']), expected,
                '; '.join('%s in %s: allowed=%s (%s)' % (v['subject'], v['namespace'], v['allowed'], v['reason'] or 'no reason given')
                          for v in bad[:10])), result=result)

    def remaining(self, namespaces, bindings, plans, ref, subjects):
        """Grants of the role that absent leaves in place (bindings it does not manage), each with a warning."""
        remains = []
        for ns in namespaces:
            for subject, name, holder in subj.remaining_grants(bindings[ns], plans[ns], ref, subjects, ns):
                entry = dict(namespace=ns, subject=subj.subject_to_string(subject), binding=name, through=holder)
                remains.append(entry)
                self.module.warn('access remains: %s may still pull from %s through RoleBinding %s (to %s), which this '
                                 'module does not manage%s' % (entry['subject'], ns, name, holder,
                                                               ' (OpenShift restores it)' if name in subj.PROTECTED_BINDINGS else ''))
        return remains

    def check_role_exists(self, namespaces):
        p = self.params
        if p['role_kind'] == 'ClusterRole':
            try:
                if self.client.get(resource_path('clusterroles', name=p['role'], group=RBAC)) is None:
                    raise InputError('ClusterRole %s does not exist; nothing was changed' % p['role'])
            except ApiError as e:
                if not e.forbidden:  # a project admin may not read ClusterRoles: let RBAC decide on write
                    raise
            return
        roles = self.client.objects_by_namespace('roles', p['role'], namespaces, group=RBAC)
        missing = sorted(ns for ns, obj in roles.items() if obj is None)
        if missing:
            raise InputError('Role %s does not exist in %s; nothing was changed' % (p['role'], ', '.join(missing)))

    def plan(self, bindings, ref, subjects):
        """The actions of one namespace, each with the grant records and marks its binding must carry and who held it.

        A binding named by rolebinding_name that this declaration does not hold (the collection did not create it,
        or another owner holds it) raises OwnershipConflict unless unmanaged says adopt (subjects added, the binding
        marked) or overwrite (it holds exactly the declared subjects, as with exclusive).
        """
        p = self.params
        name, exclusive, held = p['rolebinding_name'], p['exclusive'], None
        if name is not None:
            existing = [b for b in bindings if (b.get('metadata') or {}).get('name') == name]
            # a binding of another role is refused by the planner, whoever holds it
            if not existing or subj.same_role_ref(existing[0].get('roleRef'), ref):
                held = own.ownership(existing[0] if existing else None, p['owner'], p['unmanaged'])
                exclusive = exclusive or held == own.OVERWRITTEN
        if p['state'] == 'present':
            actions = subj.plan_add(bindings, ref, subjects, rolebinding_name=name, exclusive=exclusive)
            requested = [subj.subject_to_string(s) for s in subjects]
        else:
            actions = subj.plan_remove(bindings, ref, subjects, rolebinding_name=name)
            requested = []
        claim = name if p['state'] == 'present' and held not in (None, own.CREATED) else None
        marked = own.mark_bindings(actions, p['owner'], requested, claim=claim)
        for action in marked:
            if action['name'] == name and held is not None:
                action['ownership'] = held
            elif action['action'] == CREATE:
                action['ownership'] = own.CREATED
            else:
                action['ownership'] = own.MANAGED if own.is_managed(action['binding']) else SHARED
        return marked

    def apply(self, namespace, actions, ref, subjects):
        """Carry out one namespace's actions; on a conflict list its bindings again and re-plan."""
        planned = [actions]

        def write(attempt):
            if attempt:
                planned[0] = self.plan(self.client.list(resource_path('rolebindings', namespace, group=RBAC)), ref, subjects)
            return [self.apply_one(namespace, action) for action in planned[0]]

        return self.client.retry_on_conflict(write, what='role bindings in %s' % namespace)

    def apply_one(self, namespace, action):
        binding, name, verb = action['binding'], action['name'], action['action']
        if verb != UNCHANGED:
            binding.setdefault('metadata', {})['namespace'] = namespace
        if verb == CREATE:
            self.client.create(resource_path('rolebindings', namespace, group=RBAC), binding)
        elif verb == UPDATE:
            self.client.replace(resource_path('rolebindings', namespace, name, group=RBAC), binding)
        elif verb == DELETE:
            rv = (binding.get('metadata') or {}).get('resourceVersion')
            self.client.delete(resource_path('rolebindings', namespace, name, group=RBAC), resource_version=rv)
        subjects_after = [] if verb == DELETE else [subj.subject_to_string(s) for s in binding.get('subjects') or []]
        return dict(namespace=namespace, name=name, action=reported(verb), subjects=subjects_after,
                    ownership=action.get('ownership'))

    def verify(self, namespaces, subjects, remains=()):
        """One LocalSubjectAccessReview per namespace and subject; unexpected answers are asked again for a
        few seconds, since the API server's authorizer sees new bindings through a watch cache."""
        checks = [(ns, s) for ns in namespaces for s in subjects]
        judged, pending = [None] * len(checks), [list(range(len(checks)))]

        def probe():
            answers = self.client.parallel(
                lambda i: self.client.ask(review_path(checks[i][0]), review_for(checks[i][1], checks[i][0])), pending[0])
            for i, answer in zip(pending[0], answers):
                if isinstance(answer, Exception):
                    raise answer
                judged[i] = self.judge(checks[i][0], checks[i][1], answer, remains)
            pending[0] = [i for i in pending[0] if not judged[i]['ok']]
            return not pending[0]

        poll(probe, VERIFY_SETTLE_SECONDS, doubling(0.1, 1.0), sleep=self.sleep, clock=self.clock)
        return judged

    def judge(self, namespace, subject, review, remains=()):
        p = self.params
        allowed, reason = review_answer(review)
        shown = subj.subject_to_string(subject)
        access_remains = p['state'] == 'absent' and allowed
        remaining = [r for r in remains if r['namespace'] == namespace and r['subject'] == shown]
        if p['state'] == 'present':
            ok = allowed
        else:
            # Still allowed is expected only through a grant this module does not manage (a protected binding, or a
            # binding of the role to a group the subject is in); it is reported, not hidden.
            ok = not allowed or not subj.granted_by_managed_binding(
                reason, namespace, p['role_kind'], p['role'], p['rolebinding_name'], set(r['binding'] for r in remaining))
        note = None
        if access_remains and ok:
            through = ['%s (to %s)' % (r['binding'], r['through']) for r in remaining]
            note = 'access remains through %s, which this module does not manage' % (
                ', '.join(through) if through else 'another grant (%s)' % (reason or 'no reason given'))
            if not through:
                self.module.warn('access remains: %s may still pull from %s: %s' % (shown, namespace, note))
        return dict(namespace=namespace, subject=shown, allowed=allowed, reason=reason, ok=ok,
                    access_remains=access_remains, note=note)
