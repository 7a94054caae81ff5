# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The three ways to give the credentials of a pull secret (module_utils/_dockerconfig's option spec):
    # registries, content or src, one at a time. What each module does with them (which existing keys an
    # entry updates, how a new key is spelled, what happens to registries not given) differs with who
    # reads the Secret - the kubelet for pull_secret, the nodes' container runtime for
    # global_pull_secret - and is said once, in the module's own description and its state/merge options.
    # Ansible merges a fragment's options shallowly: a module that describes one of these options again
    # replaces the whole option, suboptions included.
    DOCUMENTATION = r'''
options:
  registries:
    description:
      - Registry credentials, one entry per registry, as C(kubectl create secret docker-registry) or
        C(oc registry login) write them.
      - Which keys of the Secret an entry updates, how a new key is spelled, and what happens to the registries not
        given, the module's description and its O(state) option say.
      - Mutually exclusive with O(content) and O(src).
    type: list
    elements: dict
    suboptions:
      server:
        description:
          - The registry, C(host[:port][/path]), for example C(quay.io), C(registry.example.com:5000) or
            C(quay.io/repository-main) (a path scopes the credentials to a namespace or repository of the registry).
          - Keys that serve the same images are one registry - C(docker.io), C(index.docker.io) and
            C(https://index.docker.io/v1/) are one - while C(Quay.io) is not C(quay.io) (image references are lower
            case).
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
      - A whole docker config, as a dict or a JSON string, in the C(config.json) layout (an C(auths) object) or the
        legacy C(.dockercfg) layout; it becomes the whole document of the Secret, in the layout the Secret needs.
      - Mutually exclusive with O(registries) and O(src).
    type: raw
  src:
    description:
      - Path to a docker config file, such as C($HOME/.docker/config.json) or a C(.dockercfg) file, taken as
        O(content). It is read where the module runs, which is the controller for a play with a local connection.
      - Mutually exclusive with O(registries) and O(content).
    type: path
'''
