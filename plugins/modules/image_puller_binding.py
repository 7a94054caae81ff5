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
  - The namespaces (O(namespace), O(namespaces) or O(namespace_selector)) are the projects whose images are shared
    (C(project-b) in C(oc policy add-role-to-user ... -n project-b)).
  - With O(verify=true) the API server itself confirms, by a LocalSubjectAccessReview in each namespace (a right the project
    role C(rbac/project-access-clusterrole.yaml) includes; no cluster-wide right is needed), that each subject may (or, for
    O(state=absent), no longer may through these bindings) C(get imagestreams/layers) in each namespace, which is what the
    OpenShift image registry checks before serving a pull.
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.cluster
  - ocp.registry_access.namespaces
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
  owner:
    description:
      - The identity of the declaration this task belongs to, for example C(team-a/enforce). Each binding the module
        writes records which subjects this owner granted (annotation C(ocp.registry-access/grants), and a label
        C(grants.ocp.registry-access/<owner>) to find it), so that M(ocp.registry_access.prune) revokes exactly the
        grants this owner made and no longer declares. A subject another owner granted too is shared (both recorded);
        a subject someone bound by hand is never recorded. A binding the module creates also carries
        C(app.kubernetes.io/managed-by=ocp.registry_access) and the owner's marker.
      - Not set - nothing is recorded (subjects taken out of a binding are still forgotten from its records).
    type: str
  unmanaged:
    description:
      - With O(rolebinding_name) - what to do when that RoleBinding exists and this declaration does not hold it (the
        collection did not create it, or another O(owner) holds it). Without O(rolebinding_name) the module adds to
        bindings as C(oc policy) does and this does not apply.
      - V(fail) writes nothing in any namespace and names every such binding; V(adopt) marks it (managed-by and
        O(owner)) and adds the subjects; V(overwrite) marks it and makes it hold exactly the given subjects, as
        O(exclusive=true) does.
    type: str
    choices: [fail, adopt, overwrite]
    default: fail
seealso:
  - module: ocp.registry_access.pull_secret
  - module: ocp.registry_access.prune
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
    ownership:
      description:
        - Who held the binding - V(created) (this run creates it), V(managed) (the collection created it), V(shared)
          (someone else did, and the module adds to it as C(oc policy) does), or for O(rolebinding_name) V(adopted) or
          V(overwritten) (taken with O(unmanaged)).
      type: str
      returned: always
      sample: created
      choices: [created, managed, shared, adopted, overwritten]
grants:
  description:
    - With O(state=present), what the declaration grants - one entry per namespace and subject, whether the module
      wrote it or found it granted. Pass the entries to M(ocp.registry_access.prune) as O(ocp.registry_access.prune#module:declared_grants).
    - Empty with O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace whose images are shared.
      type: str
      returned: always
      sample: project-b
    subject:
      description: The subject, as in RV(bindings[].subjects).
      type: str
      returned: always
      sample: system:serviceaccount:project-a:default
    role:
      description: The role granted.
      type: str
      returned: always
      sample: system:image-puller
    role_kind:
      description: V(ClusterRole) or V(Role).
      type: str
      returned: always
      sample: ClusterRole
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

from ansible_collections.ocp.registry_access.plugins.module_utils._image_puller_binding_apply import ImagePullerBinding
from ansible_collections.ocp.registry_access.plugins.module_utils._module import RegistryAccessModule

# The frame adds the namespace targeting (the projects whose images are shared) and connection options.
ARGUMENT_SPEC = dict(
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
    owner=dict(type='str'),
    unmanaged=dict(type='str', choices=['fail', 'adopt', 'overwrite'], default='fail'),
)


def main():
    module = RegistryAccessModule(ARGUMENT_SPEC, namespaced=True, fingerprints=False, supports_check_mode=True)
    module.run(lambda: ImagePullerBinding(module).run())


if __name__ == '__main__':
    main()
