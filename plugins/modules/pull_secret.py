#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: pull_secret
short_description: Manage registry pull secrets in one or many namespaces and link them to service accounts
version_added: 0.1.0
description:
  - Creates, updates or deletes a C(kubernetes.io/dockerconfigjson) or C(kubernetes.io/dockercfg) Secret
    in one namespace, a list of namespaces or every namespace matching a label selector, and links it to
    service accounts for pulling images (C(imagePullSecrets)) or mounting (C(secrets)).
  - The idempotent equivalent of C(oc create secret docker-registry), C(oc create secret generic --from-file=.dockercfg=...),
    C(oc create secret generic --from-file=.dockerconfigjson=...) and C(oc secrets link <sa> <secret> --for=pull).
  - A Secret means what the kubelet reads from it. It is unchanged when the kubelet would try the same credentials
    for every image (key spelling and base64 text do not count), so a usable entry written another way (unpadded or
    wrapped C(auth), C(Auth)) is kept byte for byte; a Secret whose layout does not match its type (a
    C(kubernetes.io/dockercfg) Secret holding an C(auths) object) gives the kubelet no registry and is rewritten.
  - O(registries) are written as C(kubectl create secret docker-registry) writes them. A server may carry the
    C(https://) or C(http://) prefix that kubectl and the kubelet accept, for example Docker Hub's legacy key
    C(https://index.docker.io/v1/); two keys are the same registry when the kubelet uses either for the same
    images, and the kubelet matches host names as written. O(content) and O(src) are converted to O(type).
  - Entries the kubelet cannot use (for example one holding only an identity token) are reported as warnings.
  - Service accounts are updated by read-modify-write with the object's C(resourceVersion), retried on conflict;
    entries that others added (such as OpenShift's C(<sa>-dockercfg-*)) are kept in place.
  - Many namespaces are handled in one task with one list request per kind of object and parallel writes.
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.cluster
  - ocp.registry_access.fingerprint
  - ocp.registry_access.namespaces
  - ocp.registry_access.registries
attributes:
  check_mode:
    support: full
    details: No write request reaches the API server; the result says what would change.
  diff_mode:
    support: full
    details: The diff shows registries, usernames, emails and fingerprints, never a password or auth value.
  idempotent:
    support: full
    details: A second identical run reports no change and sends no write request.
options:
  name:
    description: Name of the Secret.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the Secret and links it.
      - V(absent) deletes the Secret and removes it from every service account of the namespace that references it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - V(dockerconfigjson) writes type C(kubernetes.io/dockerconfigjson) with key C(.dockerconfigjson), an C(auths) object.
      - V(dockercfg) writes the legacy type C(kubernetes.io/dockercfg) with key C(.dockercfg) (no C(auths) wrapper).
    type: str
    choices: [dockerconfigjson, dockercfg]
    default: dockerconfigjson
  merge:
    description:
      - V(false) makes the Secret hold exactly the given registries, one key per registry (a second spelling of a
        registry, which the kubelet would also try, is dropped).
      - V(true) adds or updates the given registries and keeps the others; a registry already served by a key is
        updated under that key (every such key), never added under a second spelling.
    type: bool
    default: false
  service_accounts:
    description: Service accounts of each namespace to link the Secret to.
    type: list
    elements: str
    default: []
  link_for:
    description:
      - V(pull) links into C(imagePullSecrets) (C(oc secrets link --for=pull)); V(mount) into C(secrets).
    type: list
    elements: str
    choices: [pull, mount]
    default: [pull]
  wait_for:
    description:
      - V(exists) waits for each service account to exist (a new namespace gets C(default) a moment after it is created).
      - V(provisioned) also waits until the service account's integrated-registry pull secret, which OpenShift's
        controller manager generates, can really be used - a pod created before that fails to pull from the integrated
        registry. That is when the Secret is referenced in C(imagePullSecrets), exists, and holds a registry credential.
        On OpenShift 4.16 and later the Secret is the one the C(openshift.io/internal-registry-pull-secret-ref) annotation
        names; the annotation and the reference come first, the Secret later, and its token later still. Before 4.16 it is
        the C(<sa>-dockercfg-<5 random characters>) Secret; for a service account name longer than 47 characters OpenShift
        shortens that prefix to the first 38 characters, a dash and an 8-digit hash of the name (C(naming.GetName)).
      - V(none) fails at once when a service account is missing.
    type: str
    choices: [exists, provisioned, none]
    default: exists
  wait_timeout:
    description: Seconds to wait for the service accounts.
    type: int
    default: 120
  labels:
    description:
      - Labels set on the Secret (others are kept, except when O(unmanaged=overwrite) replaces a Secret someone else held).
        C(app.kubernetes.io/managed-by=ocp.registry_access) is always set.
    type: dict
    default: {}
  annotations:
    description: Annotations set on the Secret (others are kept).
    type: dict
    default: {}
  force:
    description:
      - The type of a Secret cannot be changed, nor the data of an immutable Secret. With V(true) such a Secret is deleted
        and created again; with V(false) the module fails and says so.
    type: bool
    default: false
  owner:
    description:
      - The identity of the declaration this task belongs to, for example C(team-a/enforce), recorded on the Secret (the
        label C(ocp.registry-access/owner), holding the owner itself when it is a valid label value and a shortened form
        with a hash otherwise, and the annotation C(ocp.registry-access/owner) with the owner exactly).
      - M(ocp.registry_access.prune) removes only Secrets that carry its owner's marker, so two declarations with
        different owners never prune each other. A Secret another owner holds is someone else's for O(unmanaged).
      - Not set - the Secret carries no owner (a marker of another owner is removed when O(unmanaged) lets it be taken).
    type: str
  unmanaged:
    description:
      - What to do with an existing Secret of the same name that this declaration does not hold - the collection did not
        create it (it lacks the C(app.kubernetes.io/managed-by=ocp.registry_access) label), or another O(owner) holds
        it. A managed Secret without an owner is this declaration's (it is marked with O(owner)).
      - V(fail) writes nothing in any namespace and names every such Secret, so a secret someone else made is never
        clobbered. This is the default for every declaration, new or not - taking over what someone else made should
        be a decision, and the message says which option makes it.
      - V(adopt) takes the Secret over (marks it managed, with O(owner)) and then applies the declaration with the
        usual rules - O(merge=true) keeps its other registries, and its other labels and annotations stay.
      - V(overwrite) replaces it - it holds exactly the declared registries, O(labels) and O(annotations), whatever
        O(merge) says. A type change still needs O(force).
      - With O(state=absent) too - V(fail) fails and writes nothing (no link is removed either); V(adopt) or
        V(overwrite) unlinks and deletes it.
      - The result says per namespace what happened (RV(secrets[].ownership)).
    type: str
    choices: [fail, adopt, overwrite]
    default: fail
seealso:
  - module: ocp.registry_access.prune
  - module: ocp.registry_access.image_puller_binding
  - module: ocp.registry_access.global_pull_secret
  - name: Using image pull secrets (OpenShift documentation)
    description: The procedures this module implements.
    link: https://docs.openshift.com/container-platform/latest/openshift_images/managing_images/using-image-pull-secrets.html
'''

EXAMPLES = r'''
- name: Create a pull secret for a private registry and link it to default (oc create secret docker-registry; oc secrets link)
  ocp.registry_access.pull_secret:
    name: private-registry
    namespace: project-a
    registries:
      - server: privateregistry.example.com
        username: developer@example.com
        password: "{{ vault_private_registry_password }}"
        email: unused
    service_accounts: [default]
    link_for: [pull]

- name: Delegated authentication, two secrets (the SSO server and the registry), both linked
  ocp.registry_access.pull_secret:
    name: "{{ item.name }}"
    namespace: project-a
    registries:
      - server: "{{ item.server }}"
        username: developer@example.com
        password: "{{ vault_redhat_connect_password }}"
        email: unused
    service_accounts: [default]
  loop:
    - {name: redhat-connect-sso, server: sso.redhat.com}
    - {name: private-registry, server: privateregistry.example.com}
  no_log: true

- name: Create a secret from an existing .dockercfg file (oc create secret generic --from-file=.dockercfg=... --type=kubernetes.io/dockercfg)
  ocp.registry_access.pull_secret:
    name: legacy-registry
    namespace: project-a
    type: dockercfg
    src: /path/to/.dockercfg

- name: Create a secret from a Docker config.json (oc create secret generic --from-file=.dockerconfigjson=... --type=kubernetes.io/dockerconfigjson)
  ocp.registry_access.pull_secret:
    name: my-registries
    namespace: project-a
    src: "{{ lookup('env', 'HOME') }}/.docker/config.json"

- name: Distribute one secret to every namespace of a team, waiting until OpenShift provisioned each default service account
  ocp.registry_access.pull_secret:
    name: team-registry
    namespace_selector: team=payments
    exclude_namespaces: [payments-sandbox-*]
    registries:
      - server: registry.example.com:5000
        username: payments-bot
        password: "{{ vault_payments_token }}"
    service_accounts: [default, builder]
    wait_for: provisioned

- name: Add one registry to an existing secret and keep the others
  ocp.registry_access.pull_secret:
    name: my-registries
    namespace: project-a
    merge: true
    registries:
      - server: quay.io/my-org
        auth: "{{ vault_quay_auth }}"

- name: Remove the secret and its links from every service account
  ocp.registry_access.pull_secret:
    name: private-registry
    namespaces: [project-a, project-b]
    state: absent
'''

RETURN = r'''
secrets:
  description: One entry per namespace.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the Secret.
      type: str
      returned: always
      sample: project-a
    name:
      description: Name of the Secret.
      type: str
      returned: always
      sample: private-registry
    action:
      description:
        - What was done (or, in check mode, would be done).
        - V(restored) when a recreate (O(force)) could not create the new Secret; the previous one was created again
          as it was, and the module fails saying why.
      type: str
      returned: always
      sample: created
      choices: [created, updated, recreated, restored, deleted, unchanged]
    registries:
      description: Registry keys the Secret holds after the run (empty when deleted or absent).
      type: list
      elements: str
      returned: always
      sample: [privateregistry.example.com]
    fingerprint:
      description:
        - First 12 hex digits of a keyed HMAC-SHA256 (see O(fingerprint_key)) over the normalised entries;
          changes when any credential changes.
      type: str
      returned: always
      sample: 3f9a1c0b22de
    ownership:
      description:
        - Who held the Secret - V(created) (it did not exist), V(managed) (this declaration's, or the collection's
          without an owner), V(adopted) or V(overwritten) (someone else's, taken with O(unmanaged)).
        - Null when O(state=absent) found no Secret.
      type: str
      returned: always
      sample: created
      choices: [created, managed, adopted, overwritten]
service_accounts:
  description: One entry per service account considered.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the service account.
      type: str
      returned: always
      sample: project-a
    name:
      description: Name of the service account.
      type: str
      returned: always
      sample: default
    linked_for:
      description: Where the Secret is referenced after the run (V(pull) for C(imagePullSecrets), V(mount) for C(secrets)).
      type: list
      elements: str
      returned: always
      sample: [pull]
    action:
      description: V(linked), V(unlinked) or V(unchanged).
      type: str
      returned: always
      sample: linked
warnings_from_api:
  description: Warnings the API server sent (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._module import RegistryAccessModule
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret_apply import PullSecret

# The frame adds the namespace targeting, connection and fingerprint options.
ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    type=dict(type='str', choices=['dockerconfigjson', 'dockercfg'], default='dockerconfigjson'),
    registries=dict(type='list', elements='dict', options=ro.REGISTRY_OPTIONS),
    content=dict(type='raw', no_log=True),
    src=dict(type='path'),
    merge=dict(type='bool', default=False),
    service_accounts=dict(type='list', elements='str', default=[]),
    link_for=dict(type='list', elements='str', choices=['pull', 'mount'], default=['pull']),
    wait_for=dict(type='str', choices=['exists', 'provisioned', 'none'], default='exists'),
    wait_timeout=dict(type='int', default=120),
    labels=dict(type='dict', default={}),
    annotations=dict(type='dict', default={}),
    force=dict(type='bool', default=False),
    owner=dict(type='str'),
    unmanaged=dict(type='str', choices=['fail', 'adopt', 'overwrite'], default='fail'),
)


def main():
    module = RegistryAccessModule(
        ARGUMENT_SPEC, namespaced=True, supports_check_mode=True,
        mutually_exclusive=[('registries', 'content', 'src')],
        required_if=[('state', 'present', ('registries', 'content', 'src'), True)],
    )
    module.run(lambda: PullSecret(module).run())


if __name__ == '__main__':
    main()
