#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: image_puller_binding
short_description: Let service accounts, groups or users of other projects pull images from a project
version_added: 0.1.0
description:
  - Binds subjects to the C(system:image-puller) ClusterRole (or another role) in one or many namespaces, or removes them,
    compatible with C(oc policy add-role-to-user), C(oc policy add-role-to-group) and C(oc policy remove-role-from-*).
  - A subject already bound to the role by any RoleBinding of the namespace is left alone. Missing subjects are added to the
    RoleBinding named after the role (C(system:image-puller)), created if needed; if that name is taken by a binding of
    another role, C(<role>-0) ... C(<role>-99) as oc does.
  - The OpenShift-managed C(system:image-pullers) binding is never modified.
  - With O(verify=true) the API server itself confirms, by a LocalSubjectAccessReview in each namespace (a right the project
    role C(rbac/project-access-clusterrole.yaml) includes; no cluster-wide right is needed), that each subject may (or, for
    O(state=absent), no longer may through these bindings) C(get imagestreams/layers) in each namespace, which is what the
    OpenShift image registry checks before serving a pull.
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.cluster
attributes:
  check_mode:
    support: full
    details: No write request reaches the API server. O(verify) is skipped in check mode (nothing was granted yet).
  diff_mode:
    support: full
    details: The diff lists the subjects of each binding before and after.
  idempotent:
    support: full
    details: A second identical run reports no change and sends no write request.
options:
  namespace:
    description: The project whose images are shared (C(project-b) in C(oc policy add-role-to-user ... -n project-b)).
    type: str
  namespaces:
    description: Several projects whose images are shared.
    type: list
    elements: str
  namespace_selector:
    description: Label selector of the projects whose images are shared.
    type: str
  exclude_namespaces:
    description: Namespace names or shell-style patterns left out of O(namespaces) or O(namespace_selector).
    type: list
    elements: str
    default: []
  service_accounts:
    description:
      - Service accounts that may pull, as C(project-a:default), C(system:serviceaccount:project-a:default), or a dict with
        C(namespace) and C(name).
    type: list
    elements: raw
    default: []
  all_service_accounts_in:
    description: Projects all of whose service accounts may pull (the group C(system:serviceaccounts:<project>)).
    type: list
    elements: str
    default: []
  groups:
    description: Groups that may pull.
    type: list
    elements: str
    default: []
  users:
    description: Users that may pull. C(system:serviceaccount:<ns>:<name>) is a service account, as in oc.
    type: list
    elements: str
    default: []
  role:
    description: The role to bind.
    type: str
    default: system:image-puller
  role_kind:
    description: Whether O(role) is a ClusterRole or a Role of each namespace.
    type: str
    choices: [ClusterRole, Role]
    default: ClusterRole
  rolebinding_name:
    description:
      - Manage this one RoleBinding instead of choosing as oc does. Fails if it exists with another role.
    type: str
  state:
    description:
      - V(present) grants the role to the subjects.
      - V(absent) removes the subjects from every binding of the role (only from O(rolebinding_name) when given); a binding
        left with no subject is deleted unless annotated C(rbac.authorization.kubernetes.io/autoupdate=false).
      - Bindings the module does not manage (OpenShift's C(system:image-pullers), which grants C(system:image-puller) to
        every service account of the project, or another binding of the role to a group the subject is in) are left alone;
        when one of them still grants the role, the module warns that access remains and lists it in RV(access_remains)
        (and in RV(verification) with O(verify=true)).
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With V(true) and O(state=present), the managed binding holds exactly the given subjects; others are removed from it.
        Other bindings are not touched.
    type: bool
    default: false
  verify:
    description:
      - After the change, ask the API server by LocalSubjectAccessReview whether each subject may C(get imagestreams/layers)
        in the C(image.openshift.io) group in each namespace, and fail with the reason when the answer is not the expected
        one. A failure after the bindings were written still reports C(changed=true) and RV(bindings).
      - Needs C(create) on C(localsubjectaccessreviews) in each namespace.
    type: bool
    default: false
seealso:
  - module: ocp.registry_access.pull_secret
  - name: Allowing pods to reference images across projects (OpenShift documentation)
    description: The procedure this module implements.
    link: https://docs.openshift.com/container-platform/latest/openshift_images/managing_images/using-image-pull-secrets.html
'''

EXAMPLES = r'''
# oc policy add-role-to-user system:image-puller system:serviceaccount:project-a:default --namespace=project-b
- name: Let project-a's default service account pull from project-b
  ocp.registry_access.image_puller_binding:
    namespace: project-b
    service_accounts:
      - project-a:default
    verify: true

# oc policy add-role-to-group system:image-puller system:serviceaccounts:project-a --namespace=project-b
- name: Let every service account of project-a pull from project-b
  ocp.registry_access.image_puller_binding:
    namespace: project-b
    all_service_accounts_in:
      - project-a

- name: Let the CI namespace pull from every namespace of a team, except sandboxes
  ocp.registry_access.image_puller_binding:
    namespace_selector: team=payments
    exclude_namespaces: ['*-sandbox']
    service_accounts:
      - {namespace: ci, name: pipeline}

# oc policy remove-role-from-user system:image-puller system:serviceaccount:project-a:default --namespace=project-b
- name: Remove the grant again
  ocp.registry_access.image_puller_binding:
    namespace: project-b
    service_accounts: [project-a:default]
    state: absent
    verify: true

- name: Keep exactly these pullers in a dedicated binding
  ocp.registry_access.image_puller_binding:
    namespace: project-b
    rolebinding_name: image-pullers-from-ci
    all_service_accounts_in: [ci]
    exclusive: true
'''

RETURN = r'''
bindings:
  description: The RoleBindings of the role that were considered, one entry per namespace and binding.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the binding.
      type: str
      returned: always
      sample: project-b
    name:
      description: Name of the binding.
      type: str
      returned: always
      sample: system:image-puller
    action:
      description: What was done (or, in check mode, would be done).
      type: str
      returned: always
      sample: created
      choices: [created, updated, deleted, unchanged]
    subjects:
      description: The binding's subjects after the run, as C(system:serviceaccount:<ns>:<name>), C(group:<name>) or C(user:<name>).
      type: list
      elements: str
      returned: always
      sample: ['system:serviceaccount:project-a:default']
verification:
  description: One entry per namespace and subject when O(verify=true) (empty otherwise and in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace checked.
      type: str
      returned: always
      sample: project-b
    subject:
      description: The subject checked.
      type: str
      returned: always
      sample: system:serviceaccount:project-a:default
    allowed:
      description: The API server's answer to C(get imagestreams/layers) in the namespace.
      type: bool
      returned: always
      sample: true
    reason:
      description: The API server's reason (which binding allowed it), or why it was denied.
      type: str
      returned: always
      sample: RBAC allowed by RoleBinding "system:image-puller/project-b" of ClusterRole "system:image-puller" to ServiceAccount "default/project-a"
    ok:
      description: Whether the answer is the expected one for O(state).
      type: bool
      returned: always
      sample: true
    access_remains:
      description:
        - With O(state=absent), whether the subject may still pull (through a binding this module does not manage, such
          as OpenShift's C(system:image-pullers), when RV(verification[].ok) is true); a warning says so too.
      type: bool
      returned: always
      sample: false
    note:
      description: Through which bindings access remains, or null.
      type: str
      returned: always
      sample: null
access_remains:
  description:
    - With O(state=absent), the grants of O(role) that remain after the run because a binding this module does not
      manage gives it to the subject or to a group the subject is in (OpenShift's C(system:image-pullers) gives
      C(system:image-puller) to C(system:serviceaccounts:<namespace>)); each one is also a warning. Empty otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace.
      type: str
      returned: always
      sample: project-b
    subject:
      description: The subject that keeps access.
      type: str
      returned: always
      sample: system:serviceaccount:project-b:default
    binding:
      description: The RoleBinding that still grants the role.
      type: str
      returned: always
      sample: system:image-pullers
    through:
      description: The subject of that binding that covers the subject (itself or a group it is in).
      type: str
      returned: always
      sample: group:system:serviceaccounts:project-b
warnings_from_api:
  description: Warnings the API server sent (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
  sample: []
'''

import re
import time

from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj
from ansible_collections.ocp.registry_access.plugins.module_utils._access import review_answer, review_for, review_path
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import (
    CONNECTION_ARG_SPEC, MAX_CONFLICT_ATTEMPTS, ApiError, Client, ClusterModule, resource_path,
)

RBAC = 'rbac.authorization.k8s.io'
ACTION_DONE = {'create': 'created', 'update': 'updated', 'delete': 'deleted', 'unchanged': 'unchanged'}
# How the RBAC authorizer names a namespaced grant in a (Local)SubjectAccessReview's reason.
GRANT_REASON = re.compile(r'(?<!Cluster)RoleBinding "([^"/]+)/([^"]+)" of (ClusterRole|Role) "([^"]+)"')
# Seconds to keep asking when an answer is not yet the expected one.
VERIFY_SETTLE_SECONDS = 10


def argument_spec():
    spec = dict(
        namespace=dict(type='str'),
        namespaces=dict(type='list', elements='str'),
        namespace_selector=dict(type='str'),
        exclude_namespaces=dict(type='list', elements='str', default=[]),
        service_accounts=dict(type='list', elements='raw', default=[]),
        all_service_accounts_in=dict(type='list', elements='str', default=[]),
        groups=dict(type='list', elements='str', default=[]),
        users=dict(type='list', elements='str', default=[]),
        role=dict(type='str', default='system:image-puller'),
        role_kind=dict(type='str', choices=['ClusterRole', 'Role'], default='ClusterRole'),
        rolebinding_name=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        exclusive=dict(type='bool', default=False),
        verify=dict(type='bool', default=False),
    )
    spec.update(CONNECTION_ARG_SPEC)
    return spec


class ImagePullerBinding(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = Client.from_module(module)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def run(self):
        p = self.params
        try:
            subjects = subj.build_subjects(p['service_accounts'], p['all_service_accounts_in'], p['groups'], p['users'])
            ref = subj.role_ref(p['role'], p['role_kind'])
            if p['rolebinding_name'] is not None and p['rolebinding_name'] in subj.PROTECTED_BINDINGS:
                raise subj.SubjectError('rolebinding_name %s is managed by OpenShift and never modified' % p['rolebinding_name'])
        except subj.SubjectError as e:
            self.fail(str(e))
        if not subjects and not (p['state'] == 'present' and p['exclusive']):
            self.fail('give at least one subject: service_accounts, all_service_accounts_in, groups or users')

        namespaces = self.client.namespaces(p['namespace'], p['namespaces'], p['namespace_selector'], p['exclude_namespaces'])
        if p['namespace'] or p['namespaces']:
            missing = sorted(set(namespaces) - self.client.existing_namespaces(namespaces))
            if missing:
                self.fail('namespace not found: %s; nothing was changed' % ', '.join(missing))
        if p['state'] == 'present':
            self.check_role_exists(namespaces)

        bindings = self.client.list_by_namespace('rolebindings', namespaces, group=RBAC)
        plans = {}
        problems = []
        for ns in namespaces:
            try:
                plans[ns] = self.plan(bindings[ns], ref, subjects)
            except subj.SubjectError as e:
                problems.append('%s: %s' % (ns, e))
        if problems:
            self.fail('nothing was changed: ' + '; '.join(problems))

        results = self.client.parallel(lambda ns: self.apply(ns, plans[ns], ref, subjects), namespaces)
        out, errors = [], []
        for ns, res in zip(namespaces, results):
            if isinstance(res, Exception):
                errors.append('%s: %s' % (ns, res))
            else:
                out.extend(res)
        changed = any(r['action'] != 'unchanged' for r in out)
        result = dict(changed=changed, bindings=out, verification=[], access_remains=[],
                      warnings_from_api=self.client.api_warnings())
        if p['state'] == 'absent':
            result['access_remains'] = self.remaining(namespaces, bindings, plans, ref, subjects)
        for warning in self.client.api_warnings():
            self.module.warn(warning)
        if self.module._diff:
            result['diff'] = diff_of(bindings, out)
        if errors:
            self.fail('%d of %d namespaces failed: %s' % (len(errors), len(namespaces), '; '.join(errors[:10])), **result)
        if p['verify'] and not self.module.check_mode:
            try:
                result['verification'] = self.verify(namespaces, subjects, ref, result['access_remains'])
            except ApiError as e:
                # the bindings are written: say so, and what they are, whatever went wrong after
                self.fail('%s; cannot verify%s: %s' % (
                    'the role bindings were changed (see bindings)' if changed else 'nothing was changed',
                    ' (verify needs the right to create localsubjectaccessreviews.authorization.k8s.io in each namespace)'
                    if e.status == 403 else '', e), **result)
            bad = [v for v in result['verification'] if not v['ok']]
            if bad:
                expected = 'may pull' if p['state'] == 'present' else 'may no longer pull through %s bindings' % p['role']
                self.fail('verification failed: %d of %d checks; expected that the subjects %s: %s' % (
                    len(bad), len(result['verification']), expected,
                    '; '.join('%s in %s: allowed=%s (%s)' % (v['subject'], v['namespace'], v['allowed'], v['reason'] or 'no reason given')
                              for v in bad[:10])), **result)
        return result

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
                    self.fail('ClusterRole %s does not exist; nothing was changed' % p['role'])
            except ApiError as e:
                if e.status != 403:  # a project admin may not read ClusterRoles: let RBAC decide on write
                    raise
            return
        roles = self.client.objects_by_namespace('roles', p['role'], namespaces, group=RBAC)
        missing = sorted(ns for ns, obj in roles.items() if obj is None)
        if missing:
            self.fail('Role %s does not exist in %s; nothing was changed' % (p['role'], ', '.join(missing)))

    def plan(self, bindings, ref, subjects):
        p = self.params
        if p['state'] == 'present':
            return subj.plan_add(bindings, ref, subjects, rolebinding_name=p['rolebinding_name'], exclusive=p['exclusive'])
        return subj.plan_remove(bindings, ref, subjects, rolebinding_name=p['rolebinding_name'])

    def apply(self, namespace, actions, ref, subjects):
        """Carry out one namespace's actions; on a conflict list its bindings again and re-plan."""
        for _attempt in range(MAX_CONFLICT_ATTEMPTS):
            try:
                return [self.apply_one(namespace, action) for action in actions]
            except ApiError as e:
                if e.status != 409:
                    raise
            self.client.conflict_pause()
            bindings = self.client.list(resource_path('rolebindings', namespace, group=RBAC))
            actions = self.plan(bindings, ref, subjects)
        raise ApiError(409, 'Conflict', 'role bindings in %s kept changing; try again' % namespace)

    def apply_one(self, namespace, action):
        binding = action['binding']
        name = action['name']
        if not self.module.check_mode and action['action'] != 'unchanged':
            binding.setdefault('metadata', {})['namespace'] = namespace
            if action['action'] == 'create':
                self.client.create(resource_path('rolebindings', namespace, group=RBAC), binding)
            elif action['action'] == 'update':
                self.client.replace(resource_path('rolebindings', namespace, name, group=RBAC), binding)
            elif action['action'] == 'delete':
                rv = (binding.get('metadata') or {}).get('resourceVersion')
                self.client.delete(resource_path('rolebindings', namespace, name, group=RBAC), resource_version=rv)
        subjects_after = [] if action['action'] == 'delete' else [subj.subject_to_string(s) for s in binding.get('subjects') or []]
        return dict(namespace=namespace, name=name, action=ACTION_DONE[action['action']], subjects=subjects_after)

    def verify(self, namespaces, subjects, ref, remains=()):
        """One LocalSubjectAccessReview per namespace and subject; unexpected answers are asked again for a
        few seconds, since the API server's authorizer sees new bindings through a watch cache."""
        checks = [(ns, s) for ns in namespaces for s in subjects]
        judged, pending = [None] * len(checks), list(range(len(checks)))
        deadline, delay = time.time() + VERIFY_SETTLE_SECONDS, 0.1
        while True:
            answers = self.client.parallel(
                lambda i: self.client.create(review_path(checks[i][0]), review_for(checks[i][1], checks[i][0])),
                pending)
            for i, answer in zip(pending, answers):
                if isinstance(answer, Exception):
                    raise answer
                judged[i] = self.judge(checks[i][0], checks[i][1], answer, remains)
            pending = [i for i in pending if not judged[i]['ok']]
            if not pending or time.time() >= deadline:
                return judged
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def judge(self, namespace, subject, review, remains=()):
        allowed, reason = review_answer(review)
        shown = subj.subject_to_string(subject)
        access_remains = self.params['state'] == 'absent' and allowed
        remaining = [r for r in remains if r['namespace'] == namespace and r['subject'] == shown]
        if self.params['state'] == 'present':
            ok = allowed
        else:
            # Still allowed is expected only through a grant this module does not manage (a protected binding, or a
            # binding of the role to a group the subject is in); it is reported, not hidden.
            ok = not allowed or not self.granted_by_managed_binding(reason, namespace, set(r['binding'] for r in remaining))
        note = None
        if access_remains and ok:
            through = ['%s (to %s)' % (r['binding'], r['through']) for r in remaining]
            note = 'access remains through %s, which this module does not manage' % (
                ', '.join(through) if through else 'another grant (%s)' % (reason or 'no reason given'))
            if not through:
                self.module.warn('access remains: %s may still pull from %s: %s' % (shown, namespace, note))
        return dict(namespace=namespace, subject=shown, allowed=allowed, reason=reason, ok=ok,
                    access_remains=access_remains, note=note)

    def granted_by_managed_binding(self, reason, namespace, unmanaged=()):
        """Whether the API server's reason names a RoleBinding of the role this run was to clear (not one of unmanaged)."""
        p = self.params
        for name, ns, kind, role in GRANT_REASON.findall(reason):
            if ns != namespace or kind != p['role_kind'] or role != p['role'] or name in subj.PROTECTED_BINDINGS:
                continue
            if name in unmanaged:
                continue
            if p['rolebinding_name'] is None or name == p['rolebinding_name']:
                return True
        return False


def diff_of(bindings_before, results):
    before, after = {}, {}
    for r in results:
        if r['action'] == 'unchanged':
            continue
        old = [b for b in bindings_before.get(r['namespace'], []) if b['metadata']['name'] == r['name']]
        before.setdefault(r['namespace'], {})[r['name']] = (
            [subj.subject_to_string(s) for s in old[0].get('subjects') or []] if old else None)
        after.setdefault(r['namespace'], {})[r['name']] = None if r['action'] == 'deleted' else r['subjects']
    return {'before': before, 'after': after}


def main():
    module = ClusterModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('namespace', 'namespaces', 'namespace_selector')],
        required_one_of=[('namespace', 'namespaces', 'namespace_selector')],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**ImagePullerBinding(module).run())
    except ApiError as e:
        module.fail_json(msg=str(e))


if __name__ == '__main__':
    main()
