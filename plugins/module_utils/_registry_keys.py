# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Registry keys of a pull secret: which spellings are valid, which keys serve a registry.

The lowest layer under the docker config format (_dockerconfig) and the module options
(_registry_options): it also holds the error those raise, and how a key or a JSON value is named
in a message. What a consumer makes of a key is _credential_lookup's model; this file asks it.

Pure logic, no I/O. Messages name the key (any user:password@ part masked), never a credential.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError


class DockerConfigError(InputError):
    """A docker config, entry or registry key is invalid; the message never holds a credential."""


# -- naming things in messages ---------------------------------------------------------------

_JSON_TYPE_NAMES = ((bool, 'boolean'), (str, 'string'), (int, 'number'), (float, 'number'),
                    (dict, 'object'), (list, 'array'), (type(None), 'null'))


def json_type(value):
    """The JSON name of a value's type ('string', 'object'...), for messages about bad input."""
    for cls, name in _JSON_TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def shown(key):
    """A registry key as it may appear in a message: any user:password@ part masked."""
    # One masking rule for every message about a key: the credential lookup model's.
    return cl._shown(key)  # pylint: disable=protected-access


def registry_label(key):
    """'registry <key>' (masked), or 'registry entry' when no key is known."""
    return 'registry %s' % shown(key) if key is not None else 'registry entry'


# -- valid spellings -------------------------------------------------------------------------

# The kubelet matches keys such as *.example.com or prod.*.example.com as globs on host labels.
_WILDCARD_LABEL = re.compile(r'[A-Za-z0-9*](?:[A-Za-z0-9*-]*[A-Za-z0-9*])?')
_PATH = re.compile(r'[A-Za-z0-9._/-]*')
_PORT = re.compile(r'[0-9]{1,5}')


def _validate_host(host, where):
    if host.startswith('['):
        if not host.endswith(']'):
            raise DockerConfigError('%s: an IPv6 address must be written in brackets: [::1]:5000' % where)
        if '%' in host:
            raise DockerConfigError('%s: %s is not a valid IPv6 address (a zone does not belong in a registry key)' % (where, host))
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise DockerConfigError('%s: %s is not a valid IPv6 address' % (where, host))
        return
    if not host:
        raise DockerConfigError('%s: the host is empty' % where)
    if len(host) > 253:
        raise DockerConfigError('%s: the host name is longer than 253 characters' % where)
    if re.fullmatch(r'[0-9.]+', host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise DockerConfigError('%s: %s is not a valid IPv4 address' % (where, host))
        return
    for label in host.split('.'):
        if len(label) > 63 or not _WILDCARD_LABEL.fullmatch(label):
            raise DockerConfigError('%s: %r is not a valid host name label (letters, digits and inner hyphens, at most 63)'
                                    % (where, label))


def validate_server(server):
    """Raise DockerConfigError unless server is a registry key of a pull secret: [http[s]://]host[:port][/path].

    As kubectl and the kubelet accept them; the global pull secret writes cl.lookup_key_for(server) instead.
    """
    if not isinstance(server, str):
        raise DockerConfigError('a registry key must be a string, not %s' % json_type(server))
    where = registry_label(server)
    if not server:
        raise DockerConfigError('a registry key is empty')
    if '@' in server:
        raise DockerConfigError("%s: contains '@': credentials and digests do not belong in a registry key" % where)
    if any(c.isspace() or not c.isprintable() for c in server):
        raise DockerConfigError('%s: contains whitespace or control characters' % where)
    if '?' in server or '#' in server:
        raise DockerConfigError("%s: contains '?' or '#': give host[:port][/path] only" % where)
    rest = server
    scheme = re.match(r'^[A-Za-z][A-Za-z0-9+.-]*://', server)
    if scheme:
        if scheme.group(0) not in ('https://', 'http://'):
            # The kubelet only recognises these two prefixes, spelled in lower case.
            raise DockerConfigError("%s: the only prefixes allowed are 'https://' and 'http://'" % where)
        rest = server[len(scheme.group(0)):]
    hostport, slash, path = rest.partition('/')
    path = slash + path

    host, port = hostport, None
    if hostport.startswith('['):
        end = hostport.find(']')
        if end != -1 and end + 1 < len(hostport):
            host, after = hostport[:end + 1], hostport[end + 1:]
            if not after.startswith(':'):
                raise DockerConfigError('%s: unexpected text after the IPv6 address' % where)
            port = after[1:]
    elif hostport.count(':') > 1:
        raise DockerConfigError('%s: an IPv6 address must be written in brackets: [::1]:5000' % where)
    elif ':' in hostport:
        host, port = hostport.split(':', 1)
    _validate_host(host, where)
    if port is not None and (not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535):
        raise DockerConfigError('%s: the port must be a number from 1 to 65535' % where)

    if not _PATH.fullmatch(path):
        raise DockerConfigError("%s: the path may only hold letters, digits, '.', '_', '-' and '/'" % where)
    if '//' in path:
        raise DockerConfigError("%s: the path has an empty segment ('//')" % where)


# -- which keys serve a registry -------------------------------------------------------------

def keys_serving(auths, server, consumer):
    """The keys of auths (in their order) that serve the registry server names for consumer (cl.keys_serving).

    consumer is cl.KUBELET for namespace pull secrets, cl.CONTAINERS_IMAGE for the global pull secret:
    "the same registry" is what that consumer uses for the same images (Docker Hub's aliases are one,
    ``Quay.io`` is a different, dead key).
    """
    return cl.keys_serving(list(auths), server, consumer)


def find_key(auths, server, consumer=cl.KUBELET):
    """The first existing key of auths that serves the registry server names for consumer, or None."""
    found = keys_serving(auths, server, consumer)
    return found[0] if found else None


def check_distinct(servers, consumer):
    """DockerConfigError when two of servers name the same registry for consumer."""
    servers = list(servers)
    for i, key in enumerate(servers):
        for other in servers[:i]:
            if cl.same_registry(other, key, consumer):
                raise DockerConfigError('%s and %s name the same registry; give it once' % (shown(other), shown(key)))
