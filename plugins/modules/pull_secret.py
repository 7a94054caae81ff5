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
  namespace:
    description: The namespace of the Secret.
    type: str
  namespaces:
    description: Several namespaces, each getting the same Secret.
    type: list
    elements: str
  namespace_selector:
    description:
      - Label selector of the namespaces, for example C(team=payments) or C(env in (dev,test)).
    type: str
  exclude_namespaces:
    description:
      - Namespace names or shell-style patterns (for example C(openshift-*)) left out of O(namespaces) or O(namespace_selector).
    type: list
    elements: str
    default: []
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
  registries:
    description:
      - Registry credentials, written as C(kubectl create secret docker-registry) writes them.
      - Mutually exclusive with O(content) and O(src).
    type: list
    elements: dict
    suboptions:
      server:
        description:
          - The registry, C(host[:port][/path]), optionally with the C(https://) or C(http://) prefix that kubectl and the
            kubelet accept, for example Docker Hub's legacy key C(https://index.docker.io/v1/).
          - Two keys are the same registry when the kubelet uses either for the same images, so C(docker.io),
            C(index.docker.io) and C(https://index.docker.io/v1/) are one registry, while C(Quay.io) is not C(quay.io)
            (the kubelet matches host names as written and image references are lower case).
        type: str
        required: true
      username:
        description: User name. Required with O(registries[].password).
        type: str
      password:
        description: Password or token.
        type: str
      email:
        description: Email address, written only when given.
        type: str
      auth:
        description: Base64 of C(username:password), instead of O(registries[].username) and O(registries[].password).
        type: str
      identity_token:
        description: An identity token, written as C(identitytoken).
        type: str
  content:
    description:
      - A whole docker config as a dict or JSON string, in the C(config.json) layout (an C(auths) object) or the legacy C(.dockercfg) layout.
      - It is converted to O(type). Mutually exclusive with O(registries) and O(src).
    type: raw
  src:
    description:
      - Path to a docker config file on the controller, such as C($HOME/.docker/config.json) or a C(.dockercfg) file.
      - Either layout is accepted and converted to O(type). Mutually exclusive with O(registries) and O(content).
    type: path
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
    description: Labels set on the Secret (others are kept). C(app.kubernetes.io/managed-by=ocp.registry_access) is always set.
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
seealso:
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

import base64

from ansible_collections.ocp.registry_access.plugins.module_utils import _config_file as config_file
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import (
    CONNECTION_ARG_SPEC, MANAGED_BY, MAX_CONFLICT_ATTEMPTS, ApiError, Client, ClusterModule, resource_path,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import CREATE, UNCHANGED, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import (
    PlanError, kubelet_warnings, link_plan, plan_secret, restored_result, secret_view, unlink_plan,
    wait_for_service_accounts,
)
from ansible_collections.ocp.registry_access.plugins.module_utils._subjects import SubjectError, validate_object_name


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        namespace=dict(type='str'),
        namespaces=dict(type='list', elements='str'),
        namespace_selector=dict(type='str'),
        exclude_namespaces=dict(type='list', elements='str', default=[]),
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
    )
    spec.update(CONNECTION_ARG_SPEC)
    spec.update(ro.FINGERPRINT_OPTIONS)
    return spec


class WriteFailed(Exception):
    """A namespace's writes stopped part way: why, and the result entry of what is on the server now."""

    def __init__(self, message, written):
        super().__init__(message)
        self.written = written


def check_names(module):
    """Fail on a secret or service account name the API server would refuse, before any request.

    Otherwise check mode would report a change that cannot be made, a run would send a write the
    server rejects, and wait_for would wait out its timeout for a service account that cannot exist.
    """
    try:
        validate_object_name(module.params['name'], 'secret name')
        for sa in module.params['service_accounts']:
            validate_object_name(sa, 'service account name')
    except SubjectError as e:
        module.fail_json(msg='%s; nothing was changed' % e)


def desired_auths(module):
    """The registries the Secret must hold, from registries, content or src; fails on bad input."""
    params = module.params
    try:
        if params['registries'] is not None:
            for reg in params['registries']:
                rk.validate_server(reg['server'])
            return ro.entries_from_options(params['registries'])
        config = config_file.load_config(params['content'], params['src'])
        if not config.auths:
            raise dc.DockerConfigError('%s holds no registry' % ('src %s' % params['src'] if params['src'] else 'content'))
        for key in config.auths:
            rk.validate_server(key)
        return config.auths
    except dc.DockerConfigError as e:
        module.fail_json(msg='registries: %s' % e if params['registries'] is not None else str(e))


class PullSecret(object):
    """Orchestration: read once, plan every namespace, then write what differs in parallel."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.secret_values = set()
        dc.set_fingerprint_key(self.params['fingerprint_key'])
        self.client = Client.from_module(module, redact=self.redact)
        self.failures = []

    def redact(self, text):
        return dc.redact(text, self.secret_values)

    def hide(self, values):
        for value in values:
            if value:
                self.secret_values.add(value)
                self.module.no_log_values.add(value)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=self.redact(msg), **kwargs)

    def target_namespaces(self):
        p = self.params
        names = self.client.namespaces(p['namespace'], p['namespaces'], p['namespace_selector'], p['exclude_namespaces'])
        if p['namespace'] or p['namespaces']:
            existing = self.client.existing_namespaces(names)
            missing = [n for n in names if n not in existing]
            if missing:
                self.fail('namespace not found: %s; nothing was changed' % ', '.join(missing))
        return names

    def run(self):
        p = self.params
        check_names(self.module)
        auths = None
        if p['state'] == 'present':
            auths = desired_auths(self.module)
            self.hide(dc.secret_values(auths))
        namespaces = self.target_namespaces()
        secrets = self.client.objects_by_namespace('secrets', p['name'], namespaces)
        for obj in secrets.values():
            self.hide(existing_secret_values(obj))
        if p['state'] == 'present':
            return self.present(namespaces, secrets, auths)
        return self.absent(namespaces, secrets)

    # -- present --------------------------------------------------------------------------

    def present(self, namespaces, secrets, auths):
        p = self.params
        labels = dict(p['labels'])
        labels.update(MANAGED_BY)
        plans = {}
        problems = []
        for ns in namespaces:
            try:
                plans[ns] = plan_secret(ns, p['name'], secrets[ns], auths, p['type'], p['merge'], labels,
                                        p['annotations'], p['force'])
                self.hide(dc.secret_object_values(plans[ns].body))  # the whole document as it will be sent
            except PlanError as e:
                problems.append('%s/%s: %s' % (ns, p['name'], e))
        if problems:
            self.fail('nothing was changed: ' + '; '.join(problems))
        for warning in kubelet_warnings(auths, p['type']):
            self.module.warn(self.redact(warning))
        sa_objects = {}
        if p['service_accounts']:
            try:
                sa_objects = wait_for_service_accounts(self.client, namespaces, p['service_accounts'], p['wait_for'],
                                                       p['wait_timeout'])
            except PlanError as e:
                self.fail('%s; nothing was changed' % e if p['wait_for'] == 'none' else str(e))
        secret_results = self.client.parallel(lambda ns: self.apply_secret(plans[ns]), namespaces)
        # A service account is linked only where its secret was written as planned: a failed write must not
        # leave a reference to a secret that is not there (or not what was asked for).
        written = set(ns for ns, res in zip(namespaces, secret_results) if not isinstance(res, Exception))
        sa_items = [(ns, sa) for ns in namespaces if ns in written for sa in p['service_accounts']]
        sa_results = self.client.parallel(lambda item: self.link(item[0], item[1], sa_objects.get(item)), sa_items)
        notes = ['service accounts in %s were not linked: its secret was not written' % ns
                 for ns in namespaces if ns not in written and p['service_accounts']]
        return self.finish(namespaces, secret_results, sa_items, sa_results,
                           before=dict((ns, secret_view(secrets[ns])) for ns in namespaces),
                           after=dict((ns, plans[ns].view) for ns in namespaces), notes=notes)

    def apply_secret(self, plan):
        """Write one namespace's planned secret; on a conflict re-read and re-plan."""
        p = self.params
        for _attempt in range(MAX_CONFLICT_ATTEMPTS):
            if plan.action == UNCHANGED or self.check_mode:
                return plan.result()
            path = resource_path('secrets', plan.namespace)
            try:
                if plan.action == CREATE:
                    self.client.create(path, plan.body)
                elif plan.action == UPDATE:
                    self.client.replace(resource_path('secrets', plan.namespace, plan.name), plan.body)
                else:  # recreated: the type (or immutability) cannot change in place
                    self.recreate(plan)
                return plan.result()
            except ApiError as e:
                if e.status != 409:
                    raise
            self.client.conflict_pause()
            current = self.client.get(resource_path('secrets', plan.namespace, plan.name))
            self.hide(existing_secret_values(current))
            plan = plan_secret(plan.namespace, p['name'], current, plan.auths_given, p['type'], p['merge'],
                               plan.labels, p['annotations'], p['force'])
        raise ApiError(409, 'Conflict', 'secret %s/%s kept changing; try again' % (plan.namespace, plan.name))

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
            if e.status == 409:
                raise
            what = 'secret %s/%s: recreating it as %s failed (%s)' % (plan.namespace, plan.name, plan.view['type'], e)
            try:
                self.client.create(resource_path('secrets', plan.namespace), plan.previous)
            except ApiError as again:
                raise WriteFailed('%s, and restoring the previous secret failed too (%s): the secret was deleted'
                                  % (what, again),
                                  dict(plan.result(), action='deleted', registries=[], fingerprint=''))
            raise WriteFailed('%s; the previous secret was restored (same type, data, labels and annotations, '
                              'new uid)' % what, restored_result(plan, secret_view(plan.previous)))

    def link(self, namespace, sa_name, sa_object):
        p = self.params
        path = resource_path('serviceaccounts', namespace, sa_name)
        if sa_object is None:
            sa_object = self.client.get(path)
        outcome = {}

        def mutate(current):
            if current is None:
                raise ApiError(404, 'NotFound', 'service account %s/%s not found' % (namespace, sa_name))
            desired, linked_for = link_plan(current, p['name'], p['link_for'])
            outcome['linked_for'] = linked_for
            if desired is None or self.check_mode:
                outcome['action'] = 'unchanged' if desired is None else 'linked'
                return None
            outcome['action'] = 'linked'
            return desired

        self.client.read_modify_write(path, mutate, current=sa_object)
        return dict(namespace=namespace, name=sa_name, linked_for=outcome['linked_for'], action=outcome['action'])

    # -- absent ---------------------------------------------------------------------------

    def absent(self, namespaces, secrets):
        p = self.params
        referencing = self.service_accounts_referencing(namespaces, p['name'])
        sa_results = self.client.parallel(self.unlink, referencing)
        sa_items = [(sa['metadata']['namespace'], sa['metadata']['name']) for sa in referencing]
        # The secret stays where a service account still references it: deleting it would leave that
        # reference dangling, and the next run can finish the job.
        still_linked = {}
        for (ns, sa), res in zip(sa_items, sa_results):
            if isinstance(res, Exception):
                still_linked.setdefault(ns, []).append(sa)

        def delete(ns):
            obj = secrets[ns]
            if obj is None:
                return dict(namespace=ns, name=p['name'], action='unchanged', registries=[], fingerprint='')
            if ns in still_linked:
                raise WriteFailed('not deleted, because service account(s) %s could not be unlinked'
                                  % ', '.join(sorted(still_linked[ns])), None)
            if not self.check_mode:
                self.client.delete(resource_path('secrets', ns, p['name']))
            return dict(namespace=ns, name=p['name'], action='deleted', registries=[], fingerprint='')

        secret_results = self.client.parallel(delete, namespaces)
        return self.finish(namespaces, secret_results, sa_items, sa_results,
                           before=dict((ns, secret_view(secrets[ns])) for ns in namespaces),
                           after=dict((ns, None) for ns in namespaces))

    def service_accounts_referencing(self, namespaces, secret_name):
        wanted = set(namespaces)
        if len(namespaces) > 2:
            try:
                candidates = self.client.list('/api/v1/serviceaccounts')
            except ApiError as e:
                if e.status != 403:
                    raise
                candidates = None
        else:
            candidates = None
        if candidates is None:
            lists = self.client.parallel(lambda ns: self.client.list(resource_path('serviceaccounts', ns)), namespaces)
            candidates = []
            for result in lists:
                if isinstance(result, Exception):
                    raise result
                candidates.extend(result)
        return [sa for sa in candidates
                if sa['metadata']['namespace'] in wanted and unlink_plan(sa, secret_name) is not None]

    def unlink(self, sa_object):
        ns, name = sa_object['metadata']['namespace'], sa_object['metadata']['name']
        path = resource_path('serviceaccounts', ns, name)

        def mutate(current):
            if current is None or self.check_mode:
                return None
            return unlink_plan(current, self.params['name'])

        self.client.read_modify_write(path, mutate, current=sa_object)
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
        for warning in self.client.api_warnings():
            self.module.warn(warning)
        result = dict(changed=changed, secrets=secrets_out, service_accounts=sas_out,
                      warnings_from_api=self.client.api_warnings())
        if self.module._diff:
            result['diff'] = diff_of(before, after, secrets_out, sas_out)
        if errors:
            shown = errors[:10] + (['... and %d more' % (len(errors) - 10)] if len(errors) > 10 else [])
            shown += list(notes)[:10]
            self.fail('%d of %d operations failed: %s' % (len(errors), len(secret_results) + len(sa_results),
                                                          '; '.join(shown)), **result)
        return result


def existing_secret_values(obj):
    """Credentials in a Secret read from the server, to hide them from any output (each data value whole too)."""
    values = dc.secret_object_values(obj)
    for blob in ((obj or {}).get('data') or {}).values():
        try:
            decoded = base64.b64decode(blob).decode('utf-8')
            values.update(dc.secret_values(dc.parse_config(decoded).auths))
        except (ValueError, TypeError, dc.DockerConfigError):
            continue
    return values


def diff_of(before, after, secret_results, sa_results):
    """Safe before/after of what changed, keyed by namespace."""
    b, a = {}, {}
    for r in secret_results:
        if r['action'] != 'unchanged':
            b.setdefault(r['namespace'], {})['secret'] = before.get(r['namespace'])
            a.setdefault(r['namespace'], {})['secret'] = \
                before.get(r['namespace']) if r['action'] == 'restored' else after.get(r['namespace'])
    for r in sa_results:
        if r['action'] != 'unchanged':
            b.setdefault(r['namespace'], {}).setdefault('service_accounts', {})[r['name']] = \
                'not linked' if r['action'] == 'linked' else 'linked'
            a.setdefault(r['namespace'], {}).setdefault('service_accounts', {})[r['name']] = \
                ', '.join(r['linked_for']) or 'not linked'
    return {'before': b, 'after': a}


def main():
    module = ClusterModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('namespace', 'namespaces', 'namespace_selector'), ('registries', 'content', 'src')],
        required_one_of=[('namespace', 'namespaces', 'namespace_selector')],
        required_if=[('state', 'present', ('registries', 'content', 'src'), True)],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**PullSecret(module).run())
    except ApiError as e:
        module.fail_json(msg=str(e))


if __name__ == '__main__':
    main()
