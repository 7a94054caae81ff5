#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: global_pull_secret
short_description: Add, update or remove registry credentials in the cluster-wide pull secret
version_added: 0.1.0
description:
  - Adds, updates or removes registry credentials in the OpenShift global pull secret (C(openshift-config/pull-secret)),
    the credentials every node's container runtime uses to pull images, or replaces its whole document.
  - One atomic, idempotent step for the documented procedure C(oc get secret/pull-secret -n openshift-config ...),
    C(oc registry login --registry=... --auth-basic=... --to=...) and C(oc set data secret/pull-secret ...). The Secret
    is read, changed and written back with its C(resourceVersion); when someone else changed it meanwhile, the change
    is computed again from the fresh Secret, so no concurrent edit is lost.
  - Every field of every entry the module does not change is kept as it is, C(email) and fields unknown to the
    runtime included (C(oc registry login) drops them). An updated entry gets new credentials in C(auth) (and in
    C(username) and C(password) where the entry has them) and keeps its other fields (other spellings such as
    C(Auth) are dropped). An entry is unchanged when the node's container runtime reads the same credential from it,
    so the same credentials are never rewritten.
  - The document is read as the node's container runtime (containers/image) reads it. Entries it cannot use (a
    C(null) entry, an empty key, an C(auth) without padding, C(username)/C(password) without C(auth)) are kept as
    they are and reported as warnings; they do not block an edit. A Secret whose document the runtime cannot read
    at all (not JSON, a field of the wrong type) is left as it is, and the module fails, unless a full replacement
    (O(content) or O(src)) repairs it.
  - Changing, adding or removing the C(cloud.openshift.com) entry changes which OpenShift Cluster Manager account
    the cluster's Telemetry reports to; the module refuses it unless O(allow_telemetry_change=true).
  - On hosted control planes (HyperShift, ROSA with HCP, where Infrastructure C(cluster) has
    C(status.controlPlaneTopology=External)) the control plane overwrites C(openshift-config/pull-secret); the
    module then fails with guidance unless O(namespace) and O(name) name another Secret, for example
    C(kube-system)/C(additional-pull-secret).
  - An entry of O(registries) is added or updated with O(state=present), and with O(state=absent) only its
    O(registries[].server) is needed; other registries of the pull secret are kept. A new key is written as the
    node's container runtime (CRI-O, containers/image) looks it up - C(https://) or C(http://), one C(/v1/) or
    C(/v2/) and a trailing C(/) are dropped, the host is lower-cased and Docker Hub is written C(docker.io); a
    server with C(@) or a tag (C(:) after the first C(/)) is refused. Existing keys that serve the same registry
    for the runtime are updated instead, keeping their spelling (C(registry-1.docker.io) is Docker Hub too, and
    C(https://quay.io/org) serves all of C(quay.io)); an entry updated without O(registries[].email) keeps its email.
  - O(content) and O(src) replace the whole document of the pull secret (for example with the data of a backup).
    Keys the current document has are kept whatever their form; a new key must be one the node's container
    runtime looks up as written (the message says which key to write instead).
  - OpenShift rolls the change out to every node through the Machine Config Operator; since OpenShift 4.7.4 this no
    longer drains or reboots nodes. O(wait=true) waits until every MachineConfigPool has rolled it out.
author:
  - ocp.registry_access maintainers (@ocp-registry-access)
extends_documentation_fragment:
  - ocp.registry_access.attributes
  - ocp.registry_access.cluster
  - ocp.registry_access.fingerprint
  - ocp.registry_access.registries
attributes:
  check_mode:
    support: full
    details: No write request reaches the API server (no backup, no change, no wait); the result and the diff say what would change.
  diff_mode:
    support: full
    details: The diff shows registries, usernames, emails and fingerprints, never a password, token or auth value.
  idempotent:
    support: full
    details: A second identical run reports no change and sends no write request.
options:
  state:
    description:
      - V(present) adds the registries of O(registries) or updates their credentials.
      - V(absent) removes every key that still serves a server of O(registries) for the node's container runtime
        (all Docker Hub aliases; C(https://quay.io/org) for C(quay.io)), and a key spelled exactly as the server.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description:
      - Namespace of the pull secret. When not set, V(openshift-config).
      - Only a target other than C(openshift-config/pull-secret) skips the hosted control plane check; naming the default
        explicitly keeps it.
    type: str
  name:
    description:
      - Name of the pull secret. When not set, V(pull-secret).
      - Only a target other than C(openshift-config/pull-secret) skips the hosted control plane check; naming the default
        explicitly keeps it.
    type: str
  allow_telemetry_change:
    description:
      - Allow a change that adds, changes or removes the C(cloud.openshift.com) entry.
      - Updating that entry without first initiating a cluster transfer in OpenShift Cluster Manager makes the
        cluster stop reporting Telemetry metrics there. Initiate the transfer first.
    type: bool
    default: false
  backup:
    description:
      - Before a change, keep the previous document in a Secret C(<name>-backup-<UTC timestamp>) of the same namespace
        and type (timestamp C(20260102t030405z); lower case, as Secret names must be), labelled
        C(ocp-registry-access/backup-of=<name>). Nothing is backed up when nothing changes.
      - Restore a backup by passing its decoded C(.dockerconfigjson) as O(content).
    type: bool
    default: false
  backup_keep:
    description: How many backups of this pull secret are kept (the newest); older ones are deleted after a change.
    type: int
    default: 5
  wait:
    description:
      - After a change, wait until every MachineConfigPool has rolled out a new rendered config on every machine
        (C(status.configuration.name == spec.configuration.name), a name different from the one before the change,
        C(observedGeneration == generation), C(Updated=True), C(Updating=False), C(Degraded=False),
        C(updatedMachineCount == machineCount)).
      - When nothing changes, wait until every pool is updated to its current rendered config.
      - A degraded pool fails at once with its condition message. No wait in check mode.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 1800
notes:
  - Needs C(get) and C(update) on the Secret, C(create), C(list) and C(delete) on Secrets of its namespace with
    O(backup=true), C(list) on C(machineconfigpools.machineconfiguration.openshift.io) with O(wait=true), and C(get)
    on C(infrastructures.config.openshift.io) (without it the hosted control plane check is skipped).
  - The global pull secret itself is not labelled; backups carry C(app.kubernetes.io/managed-by=ocp.registry_access).
seealso:
  - module: ocp.registry_access.pull_secret
  - name: Updating the global cluster pull secret (OpenShift documentation)
    description: The procedure this module implements.
    link: https://docs.openshift.com/container-platform/latest/openshift_images/managing_images/using-image-pull-secrets.html
'''

EXAMPLES = r'''
- name: Append credentials for a repository and a private registry (oc registry login --to=...; oc set data ...)
  ocp.registry_access.global_pull_secret:
    registries:
      - server: quay.io/repository-main
        username: robot
        password: "{{ vault_quay_robot_token }}"
      - server: privateregistry.example.com
        username: developer@example.com
        password: "{{ vault_private_registry_password }}"
        email: unused
    backup: true
    wait: true

- name: Remove a registry
  ocp.registry_access.global_pull_secret:
    registries:
      - server: privateregistry.example.com
    state: absent

- name: Replace the whole pull secret after transferring the cluster in OpenShift Cluster Manager
  ocp.registry_access.global_pull_secret:
    src: /secure/new-owner-pull-secret.json
    allow_telemetry_change: true
    backup: true

- name: Restore a backup
  vars:
    backup: "{{ query('kubernetes.core.k8s', kind='Secret', namespace='openshift-config', name=backup_secret_name) | first }}"
  ocp.registry_access.global_pull_secret:
    content: "{{ backup.data['.dockerconfigjson'] | b64decode }}"
    allow_telemetry_change: true
  no_log: true

- name: Add a registry on a hosted control plane (HyperShift, ROSA with HCP)
  ocp.registry_access.global_pull_secret:
    namespace: kube-system
    name: additional-pull-secret
    registries:
      - server: registry.example.com:5000
        auth: "{{ vault_registry_auth }}"
'''

RETURN = r'''
registries:
  description: Registry keys of the pull secret after the run (in check mode, as they would be).
  returned: success
  type: list
  elements: str
  sample: [cloud.openshift.com, privateregistry.example.com, quay.io, quay.io/repository-main, registry.redhat.io]
added:
  description: Registry keys added.
  returned: success
  type: list
  elements: str
  sample: [privateregistry.example.com, quay.io/repository-main]
updated:
  description: Registry keys whose credentials (or, for a full replacement, other fields) changed.
  returned: success
  type: list
  elements: str
  sample: []
removed:
  description: Registry keys removed.
  returned: success
  type: list
  elements: str
  sample: []
fingerprint:
  description:
    - First 12 hex digits of a keyed HMAC-SHA256 (see O(fingerprint_key)) over the normalised entries after the run;
      changes when any credential changes.
  returned: success
  type: str
  sample: 3f9a1c0b22de
backup_name:
  description: Name of the backup Secret created (in check mode, the name it would get); null when nothing changed or O(backup=false).
  returned: always
  type: str
  sample: pull-secret-backup-20260102t030405z
pruned_backups:
  description: Older backups deleted to keep O(backup_keep).
  returned: always
  type: list
  elements: str
  sample: [pull-secret-backup-20251201t101010z]
rollout:
  description: Per MachineConfigPool, the rendered config before the change and at the end, and whether it rolled out. Empty without O(wait).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the MachineConfigPool.
      type: str
      returned: always
      sample: worker
    rendered_before:
      description: C(spec.configuration.name) before the change.
      type: str
      returned: always
      sample: rendered-worker-5f3c1a2b4d6e8f0a1b2c3d4e5f6a7b8c
    rendered_after:
      description: C(status.configuration.name) at the end of the wait.
      type: str
      returned: always
      sample: rendered-worker-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
    done:
      description: Whether the pool has rolled out the new rendered config on every machine.
      type: bool
      returned: always
      sample: true
warnings_from_api:
  description: Warnings the API server sent (also shown as Ansible warnings).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._global_pull_secret_apply import GlobalPullSecret
from ansible_collections.ocp.registry_access.plugins.module_utils._module import RegistryAccessModule

ARGUMENT_SPEC = dict(
    registries=dict(type='list', elements='dict', options=ro.REGISTRY_OPTIONS),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    content=dict(type='raw', no_log=True),
    src=dict(type='path'),
    # No default in the spec; None and the default spelled out both mean openshift-config/pull-secret.
    namespace=dict(type='str'),
    name=dict(type='str'),
    allow_telemetry_change=dict(type='bool', default=False),
    backup=dict(type='bool', default=False),
    backup_keep=dict(type='int', default=5),
    wait=dict(type='bool', default=False),
    wait_timeout=dict(type='int', default=1800),
)


def main():
    module = RegistryAccessModule(
        ARGUMENT_SPEC,
        mutually_exclusive=[('registries', 'content', 'src')],
        required_one_of=[('registries', 'content', 'src')],
        required_if=[('state', 'absent', ('registries',))],
        supports_check_mode=True,
    )
    module.run(lambda: GlobalPullSecret(module).run())


if __name__ == '__main__':
    main()
