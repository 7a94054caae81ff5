#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_access_info
short_description: Audit who may pull which images in one or many namespaces
version_added: 0.1.0
description:
  - Reports, per namespace, its registry pull secrets (C(kubernetes.io/dockerconfigjson) and C(kubernetes.io/dockercfg)) with
    their registries, usernames and fingerprints, and judges each by the consumer that reads it - the kubelet for namespace
    pull secrets - saying which entries it cannot use and why (RV(namespaces[].pull_secrets[].problems)).
  - Reports each service account with the pull secrets it references in C(imagePullSecrets), flagging references to secrets
    that do not exist (dangling) or that are not pull secrets (the kubelet ignores those).
  - Reports the RoleBindings that let others pull images from the namespace (roles C(system:image-puller),
    C(system:image-pusher) and C(registry-viewer)), marking the ones OpenShift manages itself (C(system:image-pullers)).
  - Reports the registries of the cluster-wide pull secret, judged by the nodes' container runtime (containers/image, as
    CRI-O reads it), or why it could not be read.
  - Answers "why ImagePullBackOff?" with O(images) - for each namespace and image, the credentials the kubelet will try, in
    order, for a pod run as O(service_account) (RV(namespaces[].pulls)).
  - Answers O(can_pull) questions (may this service account pull images from that project?) with the API server's own
    LocalSubjectAccessReview in that namespace, so grants through any role or group count.
  - Never returns a credential, only registries, usernames, emails and fingerprints (the first 12 hex digits of a keyed
    HMAC-SHA256 of the normalised entry, to tell whether two secrets hold the same credentials; see O(fingerprint_key)).
  - Reads with a bounded number of requests, whatever the number of namespaces (one list per kind of object, reviews in
    parallel).
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.attributes.INFO_MODULE
  - ocp.registry_access.cluster
  - ocp.registry_access.fingerprint
  - ocp.registry_access.namespaces
options:
  namespaces:
    description: Several namespaces to audit. A namespace that does not exist is reported with RV(namespaces[].exists=false).
    type: list
    elements: str
  include_global:
    description:
      - Whether to report the registries of the cluster-wide pull secret O(global_namespace)/O(global_name).
      - When it cannot be read (forbidden, missing, invalid) the result says why in RV(global_pull_secret.reason); the
        module does not fail.
    type: bool
    default: true
  global_namespace:
    description: Namespace of the cluster-wide pull secret.
    type: str
    default: openshift-config
  global_name:
    description: Name of the cluster-wide pull secret.
    type: str
    default: pull-secret
  can_pull:
    description:
      - Questions answered by a LocalSubjectAccessReview in O(can_pull[].from_namespace) - may this service account pull
        images from that namespace (C(get) on C(imagestreams/layers) in C(image.openshift.io), which the OpenShift image
        registry checks before a pull)?
      - Asking needs the right to create C(localsubjectaccessreviews) in that namespace (a project admin has it; or bind
        the ClusterRole C(ocp-registry-access-subject-access-review) there with a RoleBinding). No cluster-wide right.
    type: list
    elements: dict
    default: []
    suboptions:
      service_account:
        description: The service account, as C(project-a:default) or C(system:serviceaccount:project-a:default).
        type: str
        required: true
      from_namespace:
        description: The namespace whose images it would pull.
        type: str
        required: true
  images:
    description:
      - Image references (for example C(quay.io/org/app:1), C(nginx)) to explain, the answer to "why ImagePullBackOff?" -
        for each audited namespace and image, the credentials the kubelet will try, in order, for a pod run as
        O(service_account) (RV(namespaces[].pulls)).
      - The service account's C(imagePullSecrets), as the ServiceAccount admission plugin copies them into the pod, come
        first (secret name, registry key, username, fingerprint), then the node's C(/var/lib/kubelet/config.json), which on
        OpenShift is the cluster-wide pull secret O(global_namespace)/O(global_name). When the kubelet has no credential
        for the image, the container runtime (CRI-O) reads the same pull secret itself - that answer is
        RV(namespaces[].pulls[].runtime).
      - A pod's own C(imagePullSecrets) are not known here (they are not part of the service account); the kubelet tries
        them together with the service account's, in the pod's order.
      - Answers come from a model of the kubelet's credential keyring (Kubernetes 1.36) and containers/image (5.42),
        tested against their code. Credentials a node gets from a kubelet credential provider plugin or a namespaced
        auth file are not shown.
      - Reads the cluster-wide pull secret even when O(include_global=false); when it cannot be read, the result says
        so in RV(namespaces[].pulls[].notes).
    type: list
    elements: str
    default: []
  service_account:
    description: The service account whose pods O(images) explains, in each audited namespace.
    type: str
    default: default
  expected:
    description:
      - The declaration the rotation report (RV(rotation)) compares with - the pull secrets and the entries of the global
        pull secret as the enforce playbook declares them (C(project_access_pull_secrets), C(cluster_pull_secret_registries)).
      - Every audited namespace whose pull secrets hold, for a declared registry, a credential other than the declared
        one, and the global pull secret when it does, is flagged in RV(rotation.stale); every declared credential that is
        not in place, in RV(rotation.missing). Both are lines of RV(problems).
      - Credentials are compared by fingerprint with this run's key, on what a registry checks (username, password,
        identity token); none is shown.
    type: dict
    suboptions:
      pull_secrets:
        description:
          - Declared pull secrets, as the items of C(project_access_pull_secrets) (only these keys).
          - A declaration is judged in the audited namespaces it covers; an audited namespace that no declaration covers
            may hold any credential declared for the registry, and no other.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The declared secret. Unset - any pull secret of the namespace may hold the credential.
            type: str
          namespace:
            description: The namespace it is declared in.
            type: str
          namespaces:
            description: The namespaces it is declared in.
            type: list
            elements: str
          namespace_selector:
            description: Label selector of the namespaces it is declared in.
            type: str
          exclude_namespaces:
            description: Names or shell-style patterns left out of them.
            type: list
            elements: str
            default: []
          registries:
            description: The declared credentials, one entry per registry.
            type: list
            elements: dict
            required: true
            suboptions:
                  server:
                    description:
                      - The registry, as the enforcing module takes it (C(host[:port][/path])). Keys that serve the same images are
                        one registry, as their consumer reads them.
                    type: str
                    required: true
                  username:
                    description: User name.
                    type: str
                  password:
                    description: Password or token.
                    type: str
                  email:
                    description: Email address (not compared - a registry does not check it).
                    type: str
                  auth:
                    description: Base64 of C(username:password), instead of the username and password.
                    type: str
                  identity_token:
                    description: An identity token.
                    type: str
      global_registries:
        description: Declared entries of the global pull secret O(global_namespace)/O(global_name), as C(cluster_pull_secret_registries).
        type: list
        elements: dict
        default: []
        suboptions:
          server:
            description:
              - The registry, as global_pull_secret takes it (C(host[:port][/path])). Keys that serve the same images are
                one registry, as the nodes' container runtime reads them.
            type: str
            required: true
          username:
            description: User name.
            type: str
          password:
            description: Password or token.
            type: str
          email:
            description: Email address (not compared - a registry does not check it).
            type: str
          auth:
            description: Base64 of C(username:password), instead of the username and password.
            type: str
          identity_token:
            description: An identity token.
            type: str
notes:
  - Needs C(list) on secrets, serviceaccounts and rolebindings (cluster-wide for more than two namespaces, else per namespace),
    C(get) on the cluster-wide pull secret, and C(create) on localsubjectaccessreviews in each O(can_pull[].from_namespace).
  - Only C(create localsubjectaccessreviews) is sent besides reads; a review changes nothing on the cluster.
seealso:
  - module: ocp.registry_access.pull_secret
  - module: ocp.registry_access.image_puller_binding
  - module: ocp.registry_access.global_pull_secret
'''

EXAMPLES = r'''
- name: Audit two projects
  ocp.registry_access.registry_access_info:
    namespaces: [project-a, project-b]
  register: audit

- name: Show dangling pull secret references
  ansible.builtin.debug:
    msg: "{{ audit.problems }}"

- name: Audit every project of a team, without the global pull secret
  ocp.registry_access.registry_access_info:
    namespace_selector: team=payments
    exclude_namespaces: ['*-sandbox']
    include_global: false

- name: May project-a's default service account pull images from project-b?
  ocp.registry_access.registry_access_info:
    namespace: project-b
    can_pull:
      - service_account: project-a:default
        from_namespace: project-b
  register: audit

- name: Fail unless it may
  ansible.builtin.assert:
    that: audit.can_pull[0].allowed
    fail_msg: "{{ audit.can_pull[0].reason }}"

- name: Why ImagePullBackOff? Which credentials will the builder's pods use for these images?
  ocp.registry_access.registry_access_info:
    namespace: project-a
    service_account: builder
    images:
      - quay.io/my-org/app:1.2
      - nginx
  register: audit

- name: Show, per image, the keys and usernames the kubelet tries, in order, and what is wrong
  ansible.builtin.debug:
    msg: >-
      {{ item.image }}: {{ item.attempts | map(attribute='key') | list }}
      {{ item.error or '' }} {{ item.notes }}
  loop: "{{ audit.namespaces[0].pulls }}"
  loop_control:
    label: "{{ item.image }}"

- name: After a rotation, prove that no namespace of the team and no node still has the old credential
  ocp.registry_access.registry_access_info:
    namespace_selector: team=payments
    expected:
      pull_secrets:
        - name: private-registry
          namespace_selector: team=payments
          registries:
            - {server: registry.example.com, username: payments-bot, password: "{{ vault_registry_password }}"}
      global_registries:
        - {server: registry.example.com, username: payments-bot, password: "{{ vault_registry_password }}"}
  register: audit

- name: Fail while any place holds another credential for the registry, or lacks the new one
  ansible.builtin.assert:
    that: audit.rotation.stale | length == 0 and audit.rotation.missing | length == 0
    fail_msg: "{{ (audit.rotation.stale + audit.rotation.missing) | map(attribute='message') | list }}"

- name: Audit every namespace except OpenShift's own
  ocp.registry_access.registry_access_info:
    namespace_selector: ""
    exclude_namespaces: ['openshift', 'openshift-*', 'kube-*']
'''

RETURN = r'''
namespaces:
  description: The audited namespaces, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The namespace.
      type: str
      returned: always
      sample: project-a
    exists:
      description: Whether the namespace exists (a name given in O(namespace) or O(namespaces) may not).
      type: bool
      returned: always
      sample: true
    pull_secrets:
      description: Secrets of type C(kubernetes.io/dockerconfigjson) or C(kubernetes.io/dockercfg), sorted by name.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: Name of the Secret.
          type: str
          returned: always
          sample: private-registry
        type:
          description: Type of the Secret.
          type: str
          returned: always
          sample: kubernetes.io/dockerconfigjson
        registries:
          description: One entry per registry key (empty when the secret is invalid).
          type: list
          elements: dict
          returned: always
          contains:
            server:
              description: The registry key as stored.
              type: str
              returned: always
              sample: privateregistry.example.com
            username:
              description: The user name the entry gives (decoded from C(auth) when needed), or null.
              type: str
              returned: always
              sample: developer@example.com
            email:
              description: The email of the entry, or null.
              type: str
              returned: always
              sample: developer@example.com
            fingerprint:
              description:
                - First 12 hex digits of a keyed HMAC-SHA256 (see O(fingerprint_key)) of the entry's decoded credentials.
              type: str
              returned: always
              sample: 3f1a2b4c5d6e
        fingerprint:
          description: Fingerprint of the whole docker config (registries and credentials), or null when invalid.
          type: str
          returned: always
          sample: 9c0d1e2f3a4b
        invalid:
          description:
            - Why the kubelet (which reads namespace pull secrets) cannot use the secret, or null when it can - it cannot
              read it (every pull of a pod using it fails), its layout does not match its type, or no entry gives it a
              credential.
          type: str
          returned: always
          sample: "the kubelet cannot read this secret, so every pull of a pod that uses it fails: invalid character '}'"
        problems:
          description: Every reason the kubelet cannot (fully) use the secret or one of its entries.
          type: list
          elements: dict
          returned: always
          contains:
            consumer:
              description: Who reads it - C(kubelet) (namespace pull secrets) or C(containers-image) (the global pull secret, read by CRI-O).
              type: str
              returned: always
              sample: kubelet
            key:
              description: The registry key concerned (any C(user:password@) part masked), or null for the whole document.
              type: str
              returned: always
              sample: quay.io/my-org
            code:
              description:
                - What is wrong, for example C(unparsable), C(layout-mismatch), C(dead-key), C(no-credential),
                  C(same-registry), C(host-case), C(path-prefix), C(bad-auth), C(cred-helper).
              type: str
              returned: always
              sample: no-credential
            message:
              description: The explanation, naming keys and fields, never a credential.
              type: str
              returned: always
              sample: registry 'quay.io/my-org' gives the kubelet no username or password (it ignores identitytoken)
            fatal:
              description: Whether pulls fail because of it (not only "this entry gives no credential").
              type: bool
              returned: always
              sample: false
        managed:
          description: Whether the secret carries the label C(app.kubernetes.io/managed-by=ocp.registry_access).
          type: bool
          returned: always
          sample: true
    service_accounts:
      description: The namespace's service accounts, sorted by name.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: Name of the service account.
          type: str
          returned: always
          sample: default
        image_pull_secrets:
          description: Names of the secrets in its C(imagePullSecrets), in order.
          type: list
          elements: str
          returned: always
          sample: [default-dockercfg-x7k2p, private-registry]
        missing:
          description: Referenced pull secrets that do not exist (dangling references).
          type: list
          elements: str
          returned: always
          sample: [old-registry]
        not_pull_secrets:
          description: Referenced secrets that exist but are not of a pull secret type; the kubelet ignores them.
          type: list
          elements: str
          returned: always
          sample: []
        provisioned:
          description:
            - Whether OpenShift has given it its integrated-registry pull secret (a C(<sa>-dockercfg-*) reference or the
              C(openshift.io/internal-registry-pull-secret-ref) annotation).
          type: bool
          returned: always
          sample: true
    image_pullers:
      description: RoleBindings of C(system:image-puller), C(system:image-pusher) or C(registry-viewer), sorted by name.
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: Name of the RoleBinding.
          type: str
          returned: always
          sample: system:image-puller
        role:
          description: The bound role.
          type: str
          returned: always
          sample: system:image-puller
        role_kind:
          description: C(ClusterRole) or C(Role).
          type: str
          returned: always
          sample: ClusterRole
        subjects:
          description: Subjects as C(system:serviceaccount:<ns>:<name>), C(group:<name>) or C(user:<name>).
          type: list
          elements: str
          returned: always
          sample: ['system:serviceaccount:project-a:default', 'group:system:serviceaccounts:project-a']
        protected:
          description: Whether OpenShift manages the binding itself (C(system:image-pullers) and the like).
          type: bool
          returned: always
          sample: false
    pulls:
      description:
        - The answer to O(images) - "why ImagePullBackOff?" - one entry per image, in the order given; empty without
          O(images) or when the namespace does not exist.
      type: list
      elements: dict
      returned: always
      contains:
        image:
          description: The image reference asked about.
          type: str
          returned: always
          sample: quay.io/my-org/app:1.2
        service_account:
          description: The service account whose pods are explained (O(service_account)).
          type: str
          returned: always
          sample: default
        repository:
          description:
            - The repository the kubelet looks credentials up for (Docker Hub images get C(docker.io/library/)), or null
              when the image reference does not parse.
          type: str
          returned: always
          sample: quay.io/my-org/app
        error:
          description:
            - Why the pull fails before any credential is tried, or null - the service account does not exist, the image
              reference does not parse, or a referenced pull secret cannot be read, which makes the kubelet fail the whole
              pull whatever the other secrets hold.
          type: str
          returned: always
          sample: null
        attempts:
          description:
            - The credentials the kubelet sends, in the order it tries them until the registry accepts one - the service
              account's pull secrets (more specific keys first), then the node's config.json (the global pull secret).
          type: list
          elements: dict
          returned: always
          contains:
            from:
              description: C(service_account) (one of its C(imagePullSecrets)) or C(global_pull_secret) (the node's config.json).
              type: str
              returned: always
              sample: service_account
            secret:
              description: Name of the pull secret, or null for the global pull secret.
              type: str
              returned: always
              sample: private-registry
            key:
              description: The registry key of the entry, as written (any C(user:password@) part masked).
              type: str
              returned: always
              sample: quay.io/my-org
            username:
              description: The user name sent, or null (the entry gives no username).
              type: str
              returned: always
              sample: my-org+robot
            fingerprint:
              description: Fingerprint of the credential, the same as the entry's in RV(namespaces[].pull_secrets[].registries).
              type: str
              returned: always
              sample: 3f1a2b4c5d6e
            problems:
              description: What the kubelet says of this entry (messages of RV(namespaces[].pull_secrets[].problems)).
              type: list
              elements: str
              returned: always
              sample: []
            other_consumer_problems:
              description: What the other consumer (the container runtime reading it as an auth file) would say of this entry.
              type: list
              elements: str
              returned: always
              sample: []
        ordered:
          description: False when Go map order decides the order among some attempts (two keys of one secret naming one registry).
          type: bool
          returned: always
          sample: true
        anonymous:
          description: True when no credential is sent at all - the image is pulled anonymously.
          type: bool
          returned: always
          sample: false
        runtime:
          description:
            - When the kubelet sends no credential, what the container runtime (CRI-O, through containers/image) takes from
              its own auth file, the global pull secret; null otherwise.
          type: dict
          returned: always
          sample: null
          contains:
            name:
              description: The name it looks the credential up for.
              type: str
              returned: when the kubelet sends no credential and the global pull secret was read
              sample: docker.io/library/nginx
            ordered:
              description: False when Go map order picks among several keys.
              type: bool
              returned: when the kubelet sends no credential and the global pull secret was read
              sample: true
            answers:
              description: Every possible answer (one unless RV(namespaces[].pulls[].runtime.ordered=false)).
              type: list
              elements: dict
              returned: when the kubelet sends no credential and the global pull secret was read
              contains:
                key:
                  description: The key of the global pull secret used, or null (no credential).
                  type: str
                  returned: always
                  sample: docker.io
                username:
                  description: The user name, or null.
                  type: str
                  returned: always
                  sample: my-hub-user
                fingerprint:
                  description: Fingerprint of the credential, or null.
                  type: str
                  returned: always
                  sample: 5e6f7a8b9c0d
                error:
                  description: Why the runtime fails the pull, or null.
                  type: str
                  returned: always
                  sample: null
        missing_secrets:
          description: Pull secrets the service account references that do not exist; the kubelet skips them.
          type: list
          elements: str
          returned: always
          sample: []
        ignored_secrets:
          description: Referenced secrets that are not of a pull secret type; the kubelet ignores them.
          type: list
          elements: str
          returned: always
          sample: []
        notes:
          description:
            - One readable line per finding - no credential (anonymous pull), a key shadowed by a more specific key,
              several possible orders, a key usable by one consumer only, missing or ignored secrets.
          type: list
          elements: str
          returned: always
          sample: ["key quay.io of secret old-robot is shadowed by a more specific key: tried only if quay.io/my-org of secret private-registry is refused"]
global_pull_secret:
  description: The cluster-wide pull secret; null when O(include_global=false).
  returned: always
  type: dict
  contains:
    namespace:
      description: Its namespace.
      type: str
      returned: always
      sample: openshift-config
    name:
      description: Its name.
      type: str
      returned: always
      sample: pull-secret
    readable:
      description: Whether it was read and the nodes' container runtime (containers/image) can use it.
      type: bool
      returned: always
      sample: true
    reason:
      description: Why it is not readable (forbidden, missing, invalid), or null.
      type: str
      returned: always
      sample: null
    registries:
      description: One entry per registry key, as in RV(namespaces[].pull_secrets[].registries).
      type: list
      elements: dict
      returned: always
      contains:
        server:
          description: The registry key as stored.
          type: str
          returned: always
          sample: quay.io
        username:
          description: The user name, or null.
          type: str
          returned: always
          sample: my-quay-user
        email:
          description: The email, or null.
          type: str
          returned: always
          sample: owner@example.com
        fingerprint:
          description: Fingerprint of the entry's decoded credentials.
          type: str
          returned: always
          sample: 5e6f7a8b9c0d
    fingerprint:
      description: Fingerprint of the whole document, or null when not readable.
      type: str
      returned: always
      sample: 0a1b2c3d4e5f
    problems:
      description:
        - Every reason the nodes' container runtime (containers/image, which reads the global pull secret) cannot (fully)
          use it or one of its entries, as in RV(namespaces[].pull_secrets[].problems) with C(consumer=containers-image).
      type: list
      elements: dict
      returned: always
      sample: []
      contains:
        consumer:
          description: Who reads it - C(kubelet) (namespace pull secrets) or C(containers-image) (the global pull secret, read by CRI-O).
          type: str
          returned: always
          sample: kubelet
        key:
          description: The registry key concerned (any C(user:password@) part masked), or null for the whole document.
          type: str
          returned: always
          sample: quay.io/my-org
        code:
          description:
            - What is wrong, for example C(unparsable), C(layout-mismatch), C(dead-key), C(no-credential),
              C(same-registry), C(host-case), C(path-prefix), C(bad-auth), C(cred-helper).
          type: str
          returned: always
          sample: no-credential
        message:
          description: The explanation, naming keys and fields, never a credential.
          type: str
          returned: always
          sample: registry 'quay.io/my-org' gives the kubelet no username or password (it ignores identitytoken)
        fatal:
          description: Whether pulls fail because of it (not only "this entry gives no credential").
          type: bool
          returned: always
          sample: false
can_pull:
  description: The answers to O(can_pull), in order.
  returned: always
  type: list
  elements: dict
  contains:
    service_account:
      description: The service account, as C(system:serviceaccount:<ns>:<name>).
      type: str
      returned: always
      sample: system:serviceaccount:project-a:default
    from_namespace:
      description: The namespace whose images it would pull.
      type: str
      returned: always
      sample: project-b
    allowed:
      description: The API server's answer.
      type: bool
      returned: always
      sample: true
    reason:
      description: The API server's reason (which binding allowed it), empty when denied without one.
      type: str
      returned: always
      sample: RBAC allowed by RoleBinding "system:image-puller/project-b" of ClusterRole "system:image-puller" to ServiceAccount "default/project-a"
rotation:
  description:
    - The rotation report - per registry, which credential fingerprints are present in which namespaces' pull secrets and
      in the global pull secret, and, given O(expected), what differs from the declaration.
    - Registries are grouped as their consumers group keys - the kubelet for namespace pull secrets, the nodes' container
      runtime for the global pull secret - so C(docker.io) and C(https://index.docker.io/v1/) are one registry.
  returned: always
  type: dict
  contains:
    compared:
      description: Whether a declaration was compared (O(expected) declares something in an audited place).
      type: bool
      returned: always
      sample: true
    registries:
      description: The registries found or declared, sorted.
      type: list
      elements: dict
      returned: always
      contains:
        registry:
          description: The registry - as declared, else its first key found (any C(user:password@) part masked).
          type: str
          returned: always
          sample: registry.example.com
        declared:
          description: Whether O(expected) declares it.
          type: bool
          returned: always
          sample: true
        declared_fingerprints:
          description: Fingerprints of the credentials declared for it.
          type: list
          elements: str
          returned: always
          sample: [9c0d1e2f3a4b]
        credentials:
          description: Each credential found for it (the declared ones first), with where it is.
          type: list
          elements: dict
          returned: always
          contains:
            fingerprint:
              description: The entry's fingerprint, as in RV(namespaces[].pull_secrets[].registries[].fingerprint).
              type: str
              returned: always
              sample: 3f1a2b4c5d6e
            username:
              description: The user name, or null.
              type: str
              returned: always
              sample: payments-bot
            declared:
              description: Whether it is a credential declared for the registry; null when the registry is not declared.
              type: bool
              returned: always
              sample: false
            namespaces:
              description: The namespaces whose pull secrets hold it, sorted.
              type: list
              elements: str
              returned: always
              sample: [payments-dev, payments-prod]
            global:
              description: Whether the global pull secret holds it.
              type: bool
              returned: always
              sample: true
            locations:
              description: Every entry that holds it.
              type: list
              elements: dict
              returned: always
              contains:
                global:
                  description: Whether it is the global pull secret.
                  type: bool
                  returned: always
                  sample: false
                namespace:
                  description: The namespace of the secret.
                  type: str
                  returned: always
                  sample: payments-dev
                secret:
                  description: The name of the secret.
                  type: str
                  returned: always
                  sample: private-registry
                key:
                  description: The registry key of the entry (any C(user:password@) part masked).
                  type: str
                  returned: always
                  sample: registry.example.com
    stale:
      description:
        - Every entry that holds, for a declared registry, a credential other than the declared one - in a namespace that a
          declaration covers, the credentials declared there; elsewhere, any credential declared for the registry.
      type: list
      elements: dict
      returned: always
      contains:
        global:
          description: Whether it is the global pull secret (else a namespace's pull secret).
          type: bool
          returned: always
          sample: false
        namespace:
          description: The namespace (of the global pull secret, when RV(rotation.stale[].global)).
          type: str
          returned: always
          sample: payments-dev
        secret:
          description: The secret holding it.
          type: str
          returned: always
          sample: private-registry
        registry:
          description: The registry, as the declaration names it.
          type: str
          returned: always
          sample: registry.example.com
        key:
          description: The registry key of the entry (any C(user:password@) part masked).
          type: str
          returned: always
          sample: registry.example.com
        username:
          description: The user name of the entry, or null.
          type: str
          returned: always
          sample: payments-bot
        fingerprint:
          description: The fingerprint of the entry.
          type: str
          returned: always
          sample: 3f1a2b4c5d6e
        expected:
          description: The fingerprints of the credentials declared for it there.
          type: list
          elements: str
          returned: always
          sample: [9c0d1e2f3a4b]
        message:
          description: The finding as one line, as in RV(problems).
          type: str
          returned: always
          sample: >-
            secret payments-dev/private-registry still holds credential 3f1a2b4c5d6e (username payments-bot) for registry
            registry.example.com, not the declared 9c0d1e2f3a4b
    missing:
      description: Every declared credential that its namespace (in the declared secret, if named) or the global pull secret does not hold.
      type: list
      elements: dict
      returned: always
      contains:
        global:
          description: Whether it is the global pull secret (else a namespace's pull secret).
          type: bool
          returned: always
          sample: false
        namespace:
          description: The namespace (of the global pull secret, when RV(rotation.missing[].global)).
          type: str
          returned: always
          sample: payments-dev
        secret:
          description: The declared secret, or null when any pull secret of the namespace may hold it.
          type: str
          returned: always
          sample: private-registry
        registry:
          description: The registry, as the declaration names it.
          type: str
          returned: always
          sample: registry.example.com
        username:
          description: The declared user name, or null.
          type: str
          returned: always
          sample: payments-bot
        fingerprint:
          description: The fingerprint of the declared credential.
          type: str
          returned: always
          sample: 9c0d1e2f3a4b
        reason:
          description: Why it is missing.
          type: str
          returned: always
          sample: secret private-registry holds another credential for the registry
        message:
          description: The finding as one line, as in RV(problems).
          type: str
          returned: always
          sample: >-
            namespace payments-dev lacks the declared credential 9c0d1e2f3a4b (username payments-bot) for registry
            registry.example.com: secret private-registry holds another credential for the registry
summary:
  description: Counts for the top of a report.
  returned: always
  type: dict
  contains:
    namespaces:
      description: Namespaces audited.
      type: int
      returned: always
      sample: 2
    missing_namespaces:
      description: Namespaces that do not exist.
      type: int
      returned: always
      sample: 0
    pull_secrets:
      description: Pull secrets found.
      type: int
      returned: always
      sample: 3
    invalid_pull_secrets:
      description: Pull secrets the kubelet cannot use.
      type: int
      returned: always
      sample: 0
    service_accounts:
      description: Service accounts found.
      type: int
      returned: always
      sample: 4
    dangling_references:
      description: C(imagePullSecrets) references to missing secrets or to secrets that are not pull secrets.
      type: int
      returned: always
      sample: 1
    image_puller_bindings:
      description: Image puller RoleBindings found.
      type: int
      returned: always
      sample: 2
    can_pull_allowed:
      description: O(can_pull) checks allowed.
      type: int
      returned: always
      sample: 1
    can_pull_denied:
      description: O(can_pull) checks denied.
      type: int
      returned: always
      sample: 1
    stale_credentials:
      description: Entries in RV(rotation.stale).
      type: int
      returned: always
      sample: 0
    missing_credentials:
      description: Entries in RV(rotation.missing).
      type: int
      returned: always
      sample: 0
    problems:
      description: Number of entries in RV(problems).
      type: int
      returned: always
      sample: 1
problems:
  description:
    - One readable line per finding to look at (missing namespaces, secrets their consumer cannot use, dangling references,
      an unreadable global pull secret, an O(images) pull that fails before any credential is tried, and the stale and
      missing credentials of RV(rotation)).
  returned: always
  type: list
  elements: str
  sample: ['service account project-a/builder references pull secret old-registry, which does not exist']
warnings_from_api:
  description: Warnings the API server sent (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._module import NAMESPACE_CHOICE, RegistryAccessModule
from ansible_collections.ocp.registry_access.plugins.module_utils._registry_access_info_apply import RegistryAccessInfo

ARGUMENT_SPEC = dict(
    include_global=dict(type='bool', default=True),
    global_namespace=dict(type='str', default='openshift-config'),
    global_name=dict(type='str', default='pull-secret'),
    can_pull=dict(type='list', elements='dict', default=[], options=dict(
        service_account=dict(type='str', required=True),
        from_namespace=dict(type='str', required=True),
    )),
    images=dict(type='list', elements='str', default=[]),
    service_account=dict(type='str', default='default'),
    expected=dict(type='dict', options=dict(
        # declarations of pull secrets; their credentials are the no_log suboptions of registries
        pull_secrets=dict(type='list', elements='dict', default=[], no_log=False, options=dict(
            name=dict(type='str'),
            namespace=dict(type='str'),
            namespaces=dict(type='list', elements='str'),
            namespace_selector=dict(type='str'),
            exclude_namespaces=dict(type='list', elements='str', default=[]),
            registries=dict(type='list', elements='dict', required=True, options=ro.REGISTRY_OPTIONS),
        ), mutually_exclusive=[NAMESPACE_CHOICE], required_one_of=[NAMESPACE_CHOICE]),
        global_registries=dict(type='list', elements='dict', default=[], options=ro.REGISTRY_OPTIONS),
    )),
)


def main():
    module = RegistryAccessModule(ARGUMENT_SPEC, namespaced=True, supports_check_mode=True)
    module.run(lambda: RegistryAccessInfo(module).run())


if __name__ == '__main__':
    main()
