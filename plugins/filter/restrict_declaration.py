# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: restrict_declaration
short_description: The part of a registry access declaration that concerns some namespaces
version_added: 0.1.0
description:
  - Limits the items of C(project_access_pull_secrets) or C(project_access_image_pullers) to the given
    namespaces, for example those an ocp.registry_access.watch event names (playbooks/eda_enforce.yml).
  - Each item then targets, as an explicit namespace list, the namespaces it declares that are among
    O(namespaces) - for an item with a label selector, those whose labels (from O(namespace_labels)) it
    selects - minus its exclusions. An item that targets none of them is left out; nothing else of an item changes.
options:
  _input:
    description: The declaration's items.
    type: list
    elements: dict
    required: true
  namespaces:
    description: The namespaces to keep.
    type: list
    elements: str
    required: true
  namespace_labels:
    description: The labels of each of O(namespaces), for the items that select namespaces by label.
    type: dict
    default: {}
  kind:
    description: V(pull_secrets) for C(project_access_pull_secrets), V(image_pullers) for C(project_access_image_pullers).
    type: str
    choices: [pull_secrets, image_pullers]
    default: pull_secrets
'''

EXAMPLES = r'''
- name: Only the namespaces of the event
  ansible.builtin.set_fact:
    project_access_pull_secrets: >-
      {{ project_access_pull_secrets | ocp.registry_access.restrict_declaration(
           ansible_eda.event.registry_access.namespaces, ansible_eda.event.registry_access.namespace_labels) }}
'''

RETURN = r'''
_value:
  description: The items that target some of the namespaces, each with an explicit namespace list.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError
from ansible_collections.ocp.registry_access.plugins.module_utils._eda import restrict_declaration


def _restrict(items, namespaces, namespace_labels=None, kind='pull_secrets'):
    try:
        return restrict_declaration(items, namespaces, namespace_labels, kind)
    except InputError as e:
        raise AnsibleFilterError('restrict_declaration: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'restrict_declaration': _restrict}
