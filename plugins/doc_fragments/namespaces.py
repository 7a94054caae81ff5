# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The namespace targeting options (module_utils/_module.NAMESPACE_ARG_SPEC): exactly one of
    # namespace, namespaces and namespace_selector. A module may describe an option again in its own
    # words; the type and the rules stay these.
    DOCUMENTATION = r'''
options:
  namespace:
    description:
      - The namespace to act on.
      - Exactly one of O(namespace), O(namespaces) and O(namespace_selector) is required.
    type: str
  namespaces:
    description:
      - Several namespaces to act on, each the same way.
    type: list
    elements: str
  namespace_selector:
    description:
      - Label selector of the namespaces, for example C(team=payments) or C(env in (dev,test)). An empty string
        selects every namespace.
    type: str
  exclude_namespaces:
    description:
      - Namespace names or shell-style patterns (for example C(openshift-*)) left out of O(namespaces) or
        O(namespace_selector).
    type: list
    elements: str
    default: []
'''
