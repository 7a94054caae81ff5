# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The modules' registry options (`registries`, `content`, `fingerprint_key`) and the entries they give.

Shared by pull_secret and global_pull_secret. Pure logic, no I/O: reading the file `src` names
is the module layer's (_config_file).
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk

# The suboptions of the modules' `registries` option (an AnsibleModule argument spec).
REGISTRY_OPTIONS = dict(
    server=dict(type='str', required=True),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    email=dict(type='str'),
    auth=dict(type='str', no_log=True),
    identity_token=dict(type='str', no_log=True),
)

# The key of this run's fingerprints (dc.set_fingerprint_key); a random one when not given.
FINGERPRINT_KEY_ENV = 'OCP_REGISTRY_ACCESS_FINGERPRINT_KEY'
FINGERPRINT_OPTIONS = dict(
    fingerprint_key=dict(type='str', no_log=True, fallback=(env_fallback, [FINGERPRINT_KEY_ENV])),
)


def entries_from_options(registries, consumer=cl.KUBELET):
    """{server: entry} from the modules' `registries` option, written as kubectl writes them.

    DockerConfigError for an empty server, a registry given twice (two servers the consumer uses for
    the same images) or an entry build_entry refuses.
    """
    entries = {}
    for reg in registries:
        server = reg.get('server')
        if not server:
            raise dc.DockerConfigError('a registry key (server) is empty')
        entries[server] = dc.build_entry(username=reg.get('username'), password=reg.get('password'), email=reg.get('email'),
                                         auth=reg.get('auth'), identity_token=reg.get('identity_token'), server=server)
    rk.check_distinct(entries, consumer)
    return entries


def config_from_option(raw, where):
    """The DockerConfig of a document given by an option (`content`, or the bytes of `src`); where names it.

    DockerConfigError saying which option and why, never with the document's text.
    """
    try:
        return dc.parse_config(raw)
    except dc.DockerConfigError as e:
        raise dc.DockerConfigError('%s is not a valid docker config: %s' % (where, e))
