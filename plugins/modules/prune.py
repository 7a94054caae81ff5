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
  - Pods are not changed. The kubelet pulls with the C(imagePullSecrets) of the pod itself, copied from its service
    account when the pod was created, so a pod made before the prune still names the deleted secret. It keeps
    running, but an image it must pull again (a container restart with C(imagePullPolicy=Always), or after the
    node removed the image) gets no credential from it. Roll out the workloads that still pull from a registry whose secret was pruned.
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

from ansible_collections.ocp.registry_access.plugins.module_utils._module import RegistryAccessModule
from ansible_collections.ocp.registry_access.plugins.module_utils._prune_apply import Prune

# The frame adds the connection and fingerprint options.
ARGUMENT_SPEC = dict(
    owner=dict(type='str', required=True),
    declared_secrets=dict(type='list', elements='dict', default=[], no_log=False),  # names, no credential
    declared_grants=dict(type='list', elements='dict', default=[]),
    namespaces=dict(type='list', elements='str'),
)


def main():
    module = RegistryAccessModule(ARGUMENT_SPEC, supports_check_mode=True)
    module.run(lambda: Prune(module).run())


if __name__ == '__main__':
    main()
