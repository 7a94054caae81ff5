# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The rotation report of the audit: which credential each registry has where, and what differs from a declaration.

Pure logic over the docker configs read from the server. Registries are grouped as their consumers
group keys (cl.registry_scope): the kubelet for namespace pull secrets, the node's container runtime
(containers/image) for the global pull secret. A credential is named by its fingerprint (a keyed HMAC,
this run's key), never by its bytes. Whether a credential is the declared one is decided on what a
registry checks - username, password, identity token - so an entry whose email alone differs from
the declaration is still the declared credential.
"""

from __future__ import annotations

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils._access import model_secret, shown_key
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import read_secret_auths


class Location(object):
    """One docker config read from the server: a namespace's pull secret, or the global pull secret (is_global).

    auths: {key: entry}, or None when the consumer cannot read the document.
    """

    __slots__ = ('namespace', 'secret', 'auths', 'is_global')

    def __init__(self, namespace, secret, auths, is_global=False):
        self.namespace, self.secret, self.auths, self.is_global = namespace, secret, auths, is_global

    @property
    def place(self):
        """Where the location is, for the declaration: a namespace, or GLOBAL."""
        return GLOBAL if self.is_global else self.namespace


class Declared(object):
    """One declared credential: for registry server, at place (a namespace or GLOBAL), in secret (None: any)."""

    __slots__ = ('place', 'secret', 'server', 'entry')

    def __init__(self, place, secret, server, entry):
        self.place, self.secret, self.server, self.entry = place, secret, server, entry


GLOBAL = object()  # the place of the global pull secret in a declaration
ANYWHERE = object()  # the place of a declaration whose namespaces are not known: no place is judged by it alone


def location_of(secret, is_global=False):
    """The Location of a Secret read from the server, its entries read as the audit's views read them.

    The docker config as the collection parses it; when that parser refuses it, the entries as its
    consumer reads them (the kubelet, or containers/image for the global pull secret), so that
    every fingerprint is the one the views show; None when the consumer cannot read it either.
    """
    metadata = secret.get('metadata') or {}
    secret_type = cl.SECRET_TYPE_DOCKERCONFIGJSON if is_global else secret.get('type')
    secret = dict(secret, type=secret_type)
    auths, _error = read_secret_auths(secret)
    if auths is None:
        document = model_secret(secret)['data'].get(cl.DATA_KEY.get(secret_type))
        auths = None if document is None else _consumer_entries(document, secret_type, is_global)
    return Location(metadata.get('namespace'), metadata.get('name'), auths, is_global)


def _entry(username, password, email, identitytoken):
    return {'username': username, 'password': password, 'email': email, 'identitytoken': identitytoken}


def _consumer_entries(document, secret_type, is_global):
    if is_global:
        parsed = cl.containers_image_parse(document)
        if parsed.error is not None:
            return None
        entries = {}
        for key, (auth, token) in parsed.auths.items():
            try:
                pair = cl.containers_image_decode_auth(auth) or ('', '')
            except ValueError:
                pair = ('', '')  # the runtime gets no credential from it
            entries[key] = _entry(pair[0], pair[1], None, token)
        return entries
    parsed = cl.kubelet_parse(document, 'dockercfg' if secret_type == cl.SECRET_TYPE_DOCKERCFG else 'dockerconfigjson')
    if parsed.error is not None:
        return None
    return dict((key, _entry(c.username, c.password, c.email, c.identitytoken)) for key, c in parsed.entries.items())


def credential_mark(entry):
    """What a registry checks of entry (username, password, identity token) as a fingerprint; None if unreadable."""
    try:
        decoded = dc.decode_entry(entry)
    except dc.DockerConfigError:
        return None
    return dc.fingerprint_entry({'username': decoded['username'], 'password': decoded['password'],
                                 'identitytoken': decoded['identitytoken']})


def _username(entry):
    try:
        return dc.decode_entry(entry)['username']
    except dc.DockerConfigError:
        return None


# -- the declaration -----------------------------------------------------------------------------

def declared_entries(registries, where):
    """[(server, entry)] of a `registries` list as the enforcing modules build them; InputError naming where[index]."""
    entries = []
    for index, registry in enumerate(registries or []):
        server = (registry or {}).get('server')
        if not server:
            raise InputError('%s[%d]: the registry (server) is empty' % (where, index))
        try:
            entries.append((server, dc.build_entry(
                username=registry.get('username'), password=registry.get('password'), email=registry.get('email'),
                auth=registry.get('auth'), identity_token=registry.get('identity_token'), server=server)))
        except dc.DockerConfigError as e:
            raise InputError('%s[%d]: %s' % (where, index, e))
    return entries


def declaration(pull_secrets, global_registries):
    """[Declared] of the audit's `expected` option.

    pull_secrets: [(secret name or None, namespaces the item covers, registries)], namespaces None when
    they are not known (the selector could not be listed): its credentials are then declared for the
    registry, at no place. global_registries: the registries of the global pull secret (as
    cluster_pull_secret_registries).
    """
    declared = []
    for index, (secret, namespaces, registries) in enumerate(pull_secrets):
        for server, entry in declared_entries(registries, 'expected.pull_secrets[%d].registries' % index):
            places = [ANYWHERE] if namespaces is None else sorted(set(namespaces))
            declared.extend(Declared(place, secret, server, entry) for place in places)
    for server, entry in declared_entries(global_registries, 'expected.global_registries'):
        declared.append(Declared(GLOBAL, None, server, entry))
    return declared


# -- grouping keys into registries ------------------------------------------------------------------

def _scope(key, consumer):
    """The images key serves for consumer (comparable), or the key itself when it serves none (a dead key)."""
    return cl.registry_scope(key, consumer) or ('dead', consumer, key)


def _global_scope_of_server(server):
    """The scope of the key the global pull secret gets for a server given to global_pull_secret (cl.lookup_key_for)."""
    try:
        return _scope(cl.lookup_key_for(server), cl.CONTAINERS_IMAGE)
    except ValueError:
        return ('dead', cl.CONTAINERS_IMAGE, server)


class _Registry(object):
    __slots__ = ('name', 'scopes', 'declared', 'entries')

    def __init__(self, name, scopes):
        self.name, self.scopes, self.declared, self.entries = name, scopes, [], []


class _Registries(object):
    """Registries in the order they are first met; a key joins the registry its consumer gives the same scope."""

    def __init__(self):
        self.all = []
        self._scopes = {}  # server -> scopes: a fleet repeats the same few keys

    def find(self, scope, consumer):
        for registry in self.all:
            if registry.scopes[consumer] == scope:
                return registry
        return None

    def of_server(self, server, is_global):
        """The registry of a server as a declaration (or a namespace pull secret's key) names it."""
        consumer = cl.CONTAINERS_IMAGE if is_global else cl.KUBELET
        scopes = self._scopes.get(server)
        if scopes is None:
            scopes = {cl.KUBELET: _scope(server, cl.KUBELET), cl.CONTAINERS_IMAGE: _global_scope_of_server(server)}
            self._scopes[server] = scopes
        return self._get(shown_key(server), scopes, consumer)

    def of_global_key(self, key):
        scopes = {cl.KUBELET: _scope(key, cl.KUBELET), cl.CONTAINERS_IMAGE: _scope(key, cl.CONTAINERS_IMAGE)}
        return self._get(shown_key(key), scopes, cl.CONTAINERS_IMAGE)

    def _get(self, name, scopes, consumer):
        found = self.find(scopes[consumer], consumer)
        if found is None:
            found = _Registry(name, scopes)
            self.all.append(found)
        return found


# -- the report -------------------------------------------------------------------------------------

def _where(location):
    return {'global': location.is_global, 'namespace': location.namespace, 'secret': location.secret}


def _describe(location):
    if location.is_global:
        return 'the global pull secret %s/%s' % (location.namespace, location.secret)
    return 'secret %s/%s' % (location.namespace, location.secret)


def _place_name(place, global_location):
    if place is GLOBAL:
        return 'the global pull secret %s/%s' % (global_location.namespace, global_location.secret)
    return 'namespace %s' % place


def report(locations, namespaces, declared=None):
    """The rotation report: {compared, registries, stale, missing}.

    locations: [Location] of the audited namespaces' pull secrets and the global pull secret (at most
    one Location with is_global; leave it out when it was not read). namespaces: the audited namespaces
    that exist; a declaration for any other namespace is not judged. declared: [Declared] or None.
    A declared registry's credential found anywhere that is not the declared one is stale: in a
    namespace (or the global pull secret) that a declaration covers for that registry, the
    credentials declared there; anywhere else, any credential declared for it. A declared
    credential that its place does not hold (in the declared secret, when one is named) is missing.
    """
    namespaces = set(namespaces)
    declared = [d for d in declared or [] if d.place in (GLOBAL, ANYWHERE) or d.place in namespaces]
    registries, computed = _Registries(), {}
    for item in declared:
        # one declared entry stands for many namespaces: its mark and fingerprint are computed once
        known = computed.get(id(item.entry))
        credential = _Credential(item, item.entry, known=known)
        computed[id(item.entry)] = credential
        registries.of_server(item.server, item.place is GLOBAL).declared.append(credential)
    global_location, by_name = None, {}
    for location in sorted(locations, key=lambda loc: (loc.is_global, loc.namespace or '', loc.secret or '')):
        if location.is_global:
            global_location = location
        else:
            by_name[(location.namespace, location.secret)] = location
        for key, entry in sorted((location.auths or {}).items(), key=lambda item: str(item[0])):
            registry = (registries.of_global_key(key) if location.is_global
                        else registries.of_server(key, is_global=False))
            registry.entries.append(_Credential(location, entry, key))

    views, stale, missing = [], [], []
    for registry in registries.all:
        views.append(_registry_view(registry))
        stale.extend(_stale(registry))
        missing.extend(_missing(registry, by_name, global_location))
    views.sort(key=lambda v: v['registry'])

    def order(item):
        return (item['registry'], not item['global'], item['namespace'] or '', item['secret'] or '')
    return {'compared': bool(declared), 'registries': views, 'stale': sorted(stale, key=order),
            'missing': sorted(missing, key=order)}


class _Credential(object):
    """An entry found (source: its Location, key set) or declared (source: the Declared); mark and fingerprint computed once."""

    __slots__ = ('source', 'key', 'mark', 'fingerprint', 'username')

    def __init__(self, source, entry, key=None, known=None):
        self.source, self.key = source, key
        if known is not None:
            self.mark, self.fingerprint, self.username = known.mark, known.fingerprint, known.username
        else:
            self.mark, self.fingerprint, self.username = credential_mark(entry), dc.fingerprint_entry(entry), _username(entry)

    @property
    def place(self):
        return self.source.place


def _by_place(credentials):
    found = {}
    for credential in credentials:
        found.setdefault(credential.place, []).append(credential)
    return found


def _registry_view(registry):
    declared_marks = set(d.mark for d in registry.declared)
    credentials = {}
    for held in registry.entries:
        view = credentials.setdefault(held.fingerprint, {
            'fingerprint': held.fingerprint, 'username': held.username,
            'declared': (held.mark in declared_marks) if registry.declared else None,
            'namespaces': [], 'global': False, 'locations': []})
        if held.source.is_global:
            view['global'] = True
        elif held.source.namespace not in view['namespaces']:
            view['namespaces'].append(held.source.namespace)
        view['locations'].append(dict(_where(held.source), key=shown_key(held.key)))
    return {
        'registry': registry.name,
        'declared': bool(registry.declared),
        'declared_fingerprints': sorted(set(d.fingerprint for d in registry.declared)),
        'credentials': sorted(credentials.values(), key=lambda c: (not c['declared'], c['fingerprint'])),
    }


def _stale(registry):
    if not registry.declared:
        return []
    # the credentials declared where an entry is, or anywhere when none is declared there
    wanted = dict((place, (set(d.mark for d in here), sorted(set(d.fingerprint for d in here))))
                  for place, here in _by_place(registry.declared).items())
    anywhere = (set(d.mark for d in registry.declared), sorted(set(d.fingerprint for d in registry.declared)))
    found = []
    for held in registry.entries:
        marks, expected = wanted.get(held.place, anywhere)
        if held.mark in marks:
            continue
        found.append(dict(_where(held.source), registry=registry.name, key=shown_key(held.key), username=held.username,
                          fingerprint=held.fingerprint, expected=expected,
                          message='%s still holds credential %s (username %s) for registry %s, not the declared %s'
                          % (_describe(held.source), held.fingerprint, held.username or '-', registry.name,
                             ', '.join(expected))))
    return found


def _missing(registry, by_name, global_location):
    held_here = _by_place(registry.entries)
    found = []
    for wanted in registry.declared:
        item = wanted.source
        if (item.place is GLOBAL and global_location is None) or item.place is ANYWHERE:
            continue  # the global pull secret was not read, or the place is not known: nothing to compare
        here = held_here.get(item.place, [])
        if any(held.mark == wanted.mark and (item.secret is None or held.source.secret == item.secret) for held in here):
            continue
        why = _why_missing(item, here, by_name, global_location)
        where = _place_name(item.place, global_location)
        found.append({'global': item.place is GLOBAL,
                      'namespace': global_location.namespace if item.place is GLOBAL else item.place,
                      'secret': global_location.secret if item.place is GLOBAL else item.secret,
                      'registry': registry.name, 'username': wanted.username, 'fingerprint': wanted.fingerprint,
                      'reason': why,
                      'message': '%s lacks the declared credential %s (username %s) for registry %s: %s'
                      % (where, wanted.fingerprint, wanted.username or '-', registry.name, why)})
    return found


def _why_missing(item, here, by_name, global_location):
    if item.place is GLOBAL:
        if global_location.auths is None:
            return 'its container runtime cannot read it'
        return 'it holds another credential for the registry' if here else 'it holds no key for the registry'
    if item.secret is None:
        return ('its pull secrets hold other credentials for the registry' if here
                else 'none of its pull secrets holds a key for the registry')
    named = by_name.get((item.place, item.secret))
    if named is None:
        return 'secret %s does not exist' % item.secret
    if named.auths is None:
        return 'secret %s is not a pull secret the kubelet can read' % item.secret
    if any(held.source.secret == item.secret for held in here):
        return 'secret %s holds another credential for the registry' % item.secret
    return 'secret %s holds no key for the registry' % item.secret


def problems_of(rotation):
    """One readable line per stale or missing credential, for the audit's problems."""
    return [item['message'] for item in rotation['stale'] + rotation['missing']]
