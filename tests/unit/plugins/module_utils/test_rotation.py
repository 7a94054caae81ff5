# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's rotation report: credentials per registry and place, stale and missing ones against a declaration."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _access as access
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _rotation as rot
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError

OLD = 'fake-rotation-old-pass-1a2b'
NEW = 'fake-rotation-new-pass-3c4d'
OTHER = 'fake-rotation-other-pass-5e6f'
PASSWORDS = (OLD, NEW, OTHER)
REGISTRY = 'registry.example.com'
KEY = 'fake-rotation-unit-key'


@pytest.fixture(autouse=True)
def fingerprint_key():
    dc.set_fingerprint_key(KEY)
    yield
    dc.set_fingerprint_key(None)


def entry(password, username='robot', email=None):
    return dc.build_entry(username=username, password=password, email=email)


def registry(password, server=REGISTRY, username='robot', **extra):
    return dict(server=server, username=username, password=password, **extra)


def fp(password, username='robot', email=None):
    return dc.fingerprint_entry(entry(password, username, email))


def ns_location(namespace, auths, secret='private-registry'):
    return rot.Location(namespace, secret, auths)


def global_location(auths):
    return rot.Location('openshift-config', 'pull-secret', auths, is_global=True)


def places(items):
    return sorted(('global' if i['global'] else i['namespace'], i['secret']) for i in items)


def assert_no_credential(value):
    text = json.dumps(value)
    for password in PASSWORDS:
        assert password not in text
        for username in ('robot', 'other'):
            assert dc.build_entry(username=username, password=password)['auth'] not in text


# -- rotation across namespaces and the global pull secret -------------------------------------------


def test_old_credential_is_stale_everywhere_and_the_declared_one_missing():
    namespaces = ['ns-%d' % i for i in range(3)]
    locations = [ns_location(ns, {REGISTRY: entry(OLD)}) for ns in namespaces]
    locations.append(global_location({REGISTRY: entry(OLD), 'quay.io': entry(OTHER, 'other')}))
    declared = rot.declaration([('private-registry', namespaces, [registry(NEW)])], [registry(NEW)])

    report = rot.report(locations, namespaces, declared)

    assert report['compared'] is True
    assert places(report['stale']) == [('global', 'pull-secret')] + [(ns, 'private-registry') for ns in namespaces]
    assert set(s['fingerprint'] for s in report['stale']) == {fp(OLD)}
    assert all(s['expected'] == [fp(NEW)] for s in report['stale'])
    assert places(report['missing']) == places(report['stale'])
    assert report['missing'][1]['reason'] == 'secret private-registry holds another credential for the registry'
    assert report['missing'][0]['reason'] == 'it holds another credential for the registry'
    [quay, reg] = report['registries']
    assert quay == {'registry': 'quay.io', 'declared': False, 'declared_fingerprints': [], 'credentials': [
        {'fingerprint': fp(OTHER, 'other'), 'username': 'other', 'declared': None, 'namespaces': [], 'global': True,
         'locations': [{'global': True, 'namespace': 'openshift-config', 'secret': 'pull-secret', 'key': 'quay.io'}]}]}
    assert reg['registry'] == REGISTRY and reg['declared'] and reg['declared_fingerprints'] == [fp(NEW)]
    [old] = reg['credentials']
    assert old['fingerprint'] == fp(OLD) and old['declared'] is False and old['global'] is True
    assert old['namespaces'] == namespaces and len(old['locations']) == 4
    assert rot.problems_of(report)[0] == (
        'the global pull secret openshift-config/pull-secret still holds credential %s (username robot) for registry '
        'registry.example.com, not the declared %s' % (fp(OLD), fp(NEW)))
    assert_no_credential(report)


def test_after_rotation_only_the_declared_credential_and_no_flag():
    namespaces = ['ns-a', 'ns-b']
    locations = [ns_location(ns, {REGISTRY: entry(NEW)}) for ns in namespaces] + [global_location({REGISTRY: entry(NEW)})]
    declared = rot.declaration([('private-registry', namespaces, [registry(NEW)])], [registry(NEW)])

    report = rot.report(locations, namespaces, declared)

    assert report['stale'] == [] and report['missing'] == [] and rot.problems_of(report) == []
    [reg] = report['registries']
    [new] = reg['credentials']
    assert (new['fingerprint'], new['declared'], new['namespaces'], new['global']) == (fp(NEW), True, namespaces, True)


def test_a_namespace_left_out_of_the_declaration_is_flagged_by_name():
    # enforce excluded ns-x, so it kept the old credential: the audit of all three still flags it
    locations = [ns_location('ns-a', {REGISTRY: entry(NEW)}), ns_location('ns-b', {REGISTRY: entry(NEW)}),
                 ns_location('ns-x', {REGISTRY: entry(OLD)})]
    declared = rot.declaration([('private-registry', ['ns-a', 'ns-b'], [registry(NEW)])], [])

    report = rot.report(locations, ['ns-a', 'ns-b', 'ns-x'], declared)

    assert places(report['stale']) == [('ns-x', 'private-registry')]
    assert report['missing'] == []
    assert 'secret ns-x/private-registry still holds credential %s' % fp(OLD) in rot.problems_of(report)[0]


def test_an_old_credential_in_another_secret_of_a_covered_namespace_is_stale():
    locations = [ns_location('ns-a', {REGISTRY: entry(NEW)}), ns_location('ns-a', {REGISTRY: entry(OLD)}, 'old-registry')]
    report = rot.report(locations, ['ns-a'], rot.declaration([('private-registry', ['ns-a'], [registry(NEW)])], []))
    assert places(report['stale']) == [('ns-a', 'old-registry')]
    assert report['missing'] == []


def test_each_namespace_is_judged_by_the_declaration_that_covers_it():
    # two teams, two robots for one registry: each namespace must hold its own
    locations = [ns_location('team-a', {REGISTRY: entry(NEW, 'robot')}), ns_location('team-b', {REGISTRY: entry(NEW, 'robot')}),
                 ns_location('team-c', {REGISTRY: entry(OTHER, 'other')})]
    declared = rot.declaration([('private-registry', ['team-a'], [registry(NEW)]),
                                ('private-registry', ['team-b'], [registry(OTHER, username='other')])], [])

    report = rot.report(locations, ['team-a', 'team-b', 'team-c'], declared)

    # team-b holds team-a's credential; team-c, covered by no declaration, may hold either declared one
    assert places(report['stale']) == [('team-b', 'private-registry')]
    assert report['stale'][0]['expected'] == [fp(OTHER, 'other')]
    assert places(report['missing']) == [('team-b', 'private-registry')]


def test_an_entry_whose_email_alone_differs_is_the_declared_credential():
    # global_pull_secret keeps an entry's email when the declaration gives none
    locations = [global_location({REGISTRY: entry(NEW, email='owner@example.com')})]
    report = rot.report(locations, [], rot.declaration([], [registry(NEW)]))
    assert report['stale'] == [] and report['missing'] == []
    [credential] = report['registries'][0]['credentials']
    assert credential['declared'] is True and credential['fingerprint'] == fp(NEW, email='owner@example.com')


# -- registries grouped as their consumers group them -----------------------------------------------


def test_spellings_of_one_registry_are_grouped_as_the_consumer_groups_them():
    locations = [ns_location('ns-a', {'https://index.docker.io/v1/': entry(OLD)}),
                 global_location({'https://quay.io/org': entry(OLD), 'docker.io': entry(NEW)})]
    declared = rot.declaration([('hub', ['ns-a'], [registry(NEW, server='docker.io')])], [registry(NEW, server='quay.io')])

    report = rot.report(locations, ['ns-a'], declared)

    names = [r['registry'] for r in report['registries']]
    assert names == ['docker.io', 'quay.io']
    # the kubelet reads https://index.docker.io/v1/ as docker.io; containers/image reads https://quay.io/org as quay.io
    assert sorted((s['registry'], s['key']) for s in report['stale']) == [
        ('docker.io', 'https://index.docker.io/v1/'), ('quay.io', 'https://quay.io/org')]
    # the global docker.io entry holds the credential declared for docker.io (in namespaces): not stale
    hub = report['registries'][0]
    assert [(c['fingerprint'], c['declared']) for c in hub['credentials']] == [(fp(NEW), True), (fp(OLD), False)]


def test_a_path_prefix_is_another_registry_for_the_kubelet():
    locations = [ns_location('ns-a', {'quay.io': entry(OLD), 'quay.io/my-org': entry(NEW)})]
    report = rot.report(locations, ['ns-a'], rot.declaration([(None, ['ns-a'], [registry(NEW, server='quay.io/my-org')])], []))
    assert report['stale'] == [] and report['missing'] == []
    assert [(r['registry'], r['declared']) for r in report['registries']] == [('quay.io', False), ('quay.io/my-org', True)]


def test_keys_with_userinfo_are_shown_masked():
    locations = [ns_location('ns-a', {'user:%s@registry.example.com' % OTHER: entry(OLD)})]
    report = rot.report(locations, ['ns-a'])
    assert report['registries'][0]['registry'] == '***@registry.example.com'
    assert report['registries'][0]['credentials'][0]['locations'][0]['key'] == '***@registry.example.com'
    assert_no_credential(report)


# -- what cannot be compared, and why something is missing ----------------------------------------


def test_without_a_declaration_credentials_are_reported_and_nothing_flagged():
    locations = [ns_location('ns-a', {REGISTRY: entry(OLD)}), global_location({REGISTRY: entry(NEW)})]
    report = rot.report(locations, ['ns-a'])
    assert report['compared'] is False and report['stale'] == [] and report['missing'] == []
    assert [c['declared'] for c in report['registries'][0]['credentials']] == [None, None]


def test_a_declaration_for_a_namespace_not_audited_is_not_judged():
    declared = rot.declaration([('private-registry', ['elsewhere'], [registry(NEW)])], [])
    report = rot.report([ns_location('ns-a', {REGISTRY: entry(OLD)})], ['ns-a'], declared)
    assert report == {'compared': False, 'registries': report['registries'], 'stale': [], 'missing': []}


def test_a_declaration_whose_namespaces_are_not_known_counts_for_the_registry_only():
    # its selector could not be listed: the old credential is still stale, nothing is reported missing
    locations = [ns_location('ns-a', {REGISTRY: entry(OLD)}), ns_location('ns-b', {REGISTRY: entry(NEW)})]
    declared = rot.declaration([('private-registry', None, [registry(NEW)])], [])
    report = rot.report(locations, ['ns-a', 'ns-b'], declared)
    assert report['compared'] is True and places(report['stale']) == [('ns-a', 'private-registry')]
    assert report['stale'][0]['expected'] == [fp(NEW)] and report['missing'] == []


def test_the_global_pull_secret_is_not_judged_when_it_was_not_read():
    report = rot.report([], [], rot.declaration([], [registry(NEW)]))
    assert report['missing'] == [] and report['compared'] is True


@pytest.mark.parametrize('locations,secret,reason', [
    ([], 'private-registry', 'secret private-registry does not exist'),
    ([ns_location('ns-a', None)], 'private-registry', 'secret private-registry is not a pull secret the kubelet can read'),
    ([ns_location('ns-a', {'quay.io': entry(NEW)})], 'private-registry', 'secret private-registry holds no key for the registry'),
    ([ns_location('ns-a', {REGISTRY: entry(NEW)}, 'elsewhere'), ns_location('ns-a', {})], 'private-registry',
     'secret private-registry holds no key for the registry'),
    ([], None, 'none of its pull secrets holds a key for the registry'),
    ([ns_location('ns-a', {REGISTRY: entry(OLD)}, 'elsewhere')], None, 'its pull secrets hold other credentials for the registry'),
], ids=['no secret', 'unreadable secret', 'no key', 'in another secret', 'no secret holds it', 'another credential'])
def test_missing_says_why(locations, secret, reason):
    report = rot.report(locations, ['ns-a'], rot.declaration([(secret, ['ns-a'], [registry(NEW)])], []))
    [missing] = report['missing']
    assert (missing['namespace'], missing['secret'], missing['fingerprint'], missing['reason']) == ('ns-a', secret, fp(NEW), reason)
    assert missing['message'] == ('namespace ns-a lacks the declared credential %s (username robot) for registry %s: %s'
                                  % (fp(NEW), REGISTRY, reason))


@pytest.mark.parametrize('auths,reason', [
    (None, 'its container runtime cannot read it'),
    ({}, 'it holds no key for the registry'),
])
def test_missing_in_the_global_pull_secret_says_why(auths, reason):
    report = rot.report([global_location(auths)], [], rot.declaration([], [registry(NEW)]))
    [missing] = report['missing']
    assert (missing['global'], missing['namespace'], missing['secret'], missing['reason']) == (
        True, 'openshift-config', 'pull-secret', reason)


def test_an_unreadable_entry_is_never_the_declared_credential():
    locations = [ns_location('ns-a', {REGISTRY: {'auth': 'not base64!'}})]
    report = rot.report(locations, ['ns-a'], rot.declaration([(None, ['ns-a'], [registry(NEW)])], []))
    [stale] = report['stale']
    assert stale['username'] is None and 'username -' in stale['message']
    assert rot.credential_mark({'auth': 'not base64!'}) is None


@pytest.mark.parametrize('pull_secrets,global_registries,message', [
    ([('s', ['ns'], [{'server': '', 'username': 'u', 'password': NEW}])], [], 'expected.pull_secrets[0].registries[0]: the registry'),
    ([('s', ['ns'], [registry(NEW)]), ('s', ['ns'], [{'server': REGISTRY, 'username': 'u'}])], [],
     'expected.pull_secrets[1].registries[0]: registry'),
    ([], [registry(NEW), {'server': REGISTRY, 'auth': NEW, 'username': 'u', 'password': NEW}], 'expected.global_registries[1]'),
])
def test_a_bad_declaration_names_the_item_and_holds_no_credential(pull_secrets, global_registries, message):
    with pytest.raises(InputError) as e:
        rot.declaration(pull_secrets, global_registries)
    assert message in str(e.value)
    assert_no_credential(str(e.value))


# -- generated cases ---------------------------------------------------------------------------------

SERVERS = ('registry.example.com', 'quay.io', 'docker.io', 'quay.io/my-org')
CREDENTIALS = [('robot', OLD), ('robot', NEW), ('other', OTHER), ('other', OLD)]

held = st.dictionaries(st.sampled_from(SERVERS), st.sampled_from(range(len(CREDENTIALS))), max_size=3)
namespace_secrets = st.dictionaries(st.sampled_from(['private-registry', 'old-registry']), held, max_size=2)
cluster = st.fixed_dictionaries({
    'namespaces': st.dictionaries(st.sampled_from(['ns-%d' % i for i in range(6)]), namespace_secrets, min_size=1, max_size=6),
    'global': st.one_of(st.none(), held),
    # declarations: (secret name or None, which namespaces, {server: credential})
    'declared': st.lists(st.tuples(st.sampled_from([None, 'private-registry']),
                                   st.sets(st.sampled_from(['ns-%d' % i for i in range(7)]), max_size=4),
                                   st.dictionaries(st.sampled_from(SERVERS), st.sampled_from(range(len(CREDENTIALS))),
                                                   min_size=1, max_size=2)), max_size=3),
    'global_declared': st.dictionaries(st.sampled_from(SERVERS), st.sampled_from(range(len(CREDENTIALS))), max_size=2),
    'key': st.text(min_size=1, max_size=20),
})


def cred_entry(index):
    username, password = CREDENTIALS[index]
    return entry(password, username)


def locations_of(case):
    locations = [ns_location(ns, dict((server, cred_entry(c)) for server, c in held_.items()), secret)
                 for ns, secrets in case['namespaces'].items() for secret, held_ in secrets.items()]
    if case['global'] is not None:
        locations.append(global_location(dict((server, cred_entry(c)) for server, c in case['global'].items())))
    return locations


def declaration_of(case):
    def regs(held_):
        return [registry(CREDENTIALS[c][1], server=server, username=CREDENTIALS[c][0]) for server, c in held_.items()]
    return rot.declaration([(secret, sorted(nss), regs(h)) for secret, nss, h in case['declared']],
                           regs(case['global_declared']))


def oracle_stale(case):
    """Stale places, computed the plain way (every server here is its own registry for both consumers)."""
    audited = set(case['namespaces'])
    by_place = {}
    for secret, nss, h in case['declared']:
        for ns in nss & audited:
            for server, c in h.items():
                by_place.setdefault((ns, server), set()).add(CREDENTIALS[c])
    for server, c in case['global_declared'].items():
        by_place.setdefault(('global', server), set()).add(CREDENTIALS[c])
    anywhere = {}
    for (_place, server), creds in by_place.items():
        anywhere.setdefault(server, set()).update(creds)
    found = set()
    held_at = [(ns, secret, h) for ns, secrets in case['namespaces'].items() for secret, h in secrets.items()]
    if case['global'] is not None:
        held_at.append(('global', 'pull-secret', case['global']))
    for place, secret, h in held_at:
        for server, c in h.items():
            allowed = by_place.get((place, server)) or anywhere.get(server)
            if allowed and CREDENTIALS[c] not in allowed:
                found.add((place, secret, server))
    return found


@settings(max_examples=300, deadline=None)
@given(cluster)
def test_generated_stale_places_are_those_holding_an_undeclared_credential(case):
    dc.set_fingerprint_key(case['key'])
    report = rot.report(locations_of(case), list(case['namespaces']), declaration_of(case))
    got = set(('global' if s['global'] else s['namespace'], s['secret'], s['key']) for s in report['stale'])
    assert got == oracle_stale(case)
    # every entry is listed once, under one registry and one credential
    listed = [(loc['namespace'], loc['secret'], loc['key']) for r in report['registries'] for c in r['credentials']
              for loc in c['locations']]
    assert sorted(listed) == sorted((loc.namespace, loc.secret, key) for loc in locations_of(case) for key in loc.auths)
    assert_no_credential(report)


@settings(max_examples=200, deadline=None)
@given(cluster)
def test_generated_after_enforcing_the_declaration_nothing_is_flagged(case):
    """Write every declared credential where it is declared, remove the other credentials of declared registries: clean."""
    dc.set_fingerprint_key(case['key'])
    declared = declaration_of(case)
    audited = set(case['namespaces'])
    declared_servers = set(d.server for d in declared if d.place is rot.GLOBAL or d.place in audited)
    locations = [rot.Location(loc.namespace, loc.secret, dict((k, v) for k, v in loc.auths.items() if k not in declared_servers),
                              loc.is_global) for loc in locations_of(case)]
    if case['global'] is None:
        declared = [d for d in declared if d.place is not rot.GLOBAL]
    for item in declared:
        if item.place is not rot.GLOBAL and item.place not in audited:
            continue
        place_is_global = item.place is rot.GLOBAL
        target = [loc for loc in locations if loc.is_global == place_is_global and (place_is_global or loc.namespace == item.place)
                  and (item.secret is None or loc.secret == item.secret)]
        if not target:
            target = [rot.Location(item.place, item.secret or 'private-registry', {}, False)]
            locations.extend(target)
        target[0].auths.setdefault(item.server, item.entry)
    # two declarations that give one place different credentials for one registry cannot both hold: skip those
    conflicting = set()
    for item in declared:
        for other in declared:
            if (item.place, item.server) == (other.place, other.server) and \
                    rot.credential_mark(item.entry) != rot.credential_mark(other.entry):
                conflicting.add((item.place, item.server))
    report = rot.report(locations, list(audited), declared)
    assert [s for s in report['stale'] if (rot.GLOBAL if s['global'] else s['namespace'], s['registry']) not in conflicting] == []
    assert [m for m in report['missing'] if (rot.GLOBAL if m['global'] else m['namespace'], m['registry']) not in conflicting] == []


@settings(max_examples=100, deadline=None)
@given(cluster, st.text(min_size=1, max_size=20))
def test_generated_flags_do_not_depend_on_the_fingerprint_key(case, other_key):
    def flags():
        report = rot.report(locations_of(case), list(case['namespaces']), declaration_of(case))
        return [(s['global'], s['namespace'], s['secret'], s['key']) for s in report['stale']], \
            [(m['global'], m['namespace'], m['secret'], m['registry'], m['reason']) for m in report['missing']]
    dc.set_fingerprint_key(case['key'])
    first = flags()
    dc.set_fingerprint_key(other_key)
    assert flags() == first


# -- secrets read from the server --------------------------------------------------------------------


def secret_object(raw, secret_type='kubernetes.io/dockerconfigjson', name='private-registry'):
    key = '.dockercfg' if secret_type == 'kubernetes.io/dockercfg' else '.dockerconfigjson'
    return {'metadata': {'name': name, 'namespace': 'ns-a'}, 'type': secret_type,
            'data': {key: base64.b64encode(raw if isinstance(raw, bytes) else json.dumps(raw).encode()).decode()}}


def test_a_secret_is_read_with_the_fingerprints_the_audit_views_show():
    obj = secret_object({'auths': {REGISTRY: entry(OLD, email='robot@example.com')}})
    location = rot.location_of(obj)
    assert (location.namespace, location.secret, location.is_global) == ('ns-a', 'private-registry', False)
    [view] = access.pull_secret_view(obj)['registries']
    assert dc.fingerprint_entry(location.auths[REGISTRY]) == view['fingerprint']
    flat = rot.location_of(secret_object({REGISTRY: entry(OLD)}, 'kubernetes.io/dockercfg'))
    assert rot.credential_mark(flat.auths[REGISTRY]) == rot.credential_mark(entry(OLD))


def test_entries_the_consumer_reads_but_the_strict_parser_refuses_are_read_as_the_consumer_does():
    # the kubelet ignores identitytoken, containers/image ignores email: each reads these entries
    kubelet = secret_object({'auths': {REGISTRY: dict(entry(OLD), identitytoken=5)}})
    assert rot.credential_mark(rot.location_of(kubelet).auths[REGISTRY]) == rot.credential_mark(entry(OLD))
    [view] = access.pull_secret_view(kubelet)['registries']
    assert dc.fingerprint_entry(rot.location_of(kubelet).auths[REGISTRY]) == view['fingerprint']
    runtime = secret_object({'auths': {REGISTRY: dict(entry(OLD), email=5)}})
    assert rot.credential_mark(rot.location_of(runtime, is_global=True).auths[REGISTRY]) == rot.credential_mark(entry(OLD))
    assert rot.location_of(runtime).auths is None  # the kubelet cannot read it
    bad_auth = secret_object({'auths': {REGISTRY: {'auth': 'not base64!', 'email': 5}}})
    assert rot.location_of(bad_auth, is_global=True).auths[REGISTRY]['password'] == ''


@pytest.mark.parametrize('obj', [
    secret_object(b'{not json'),
    {'metadata': {'name': 'x', 'namespace': 'ns-a'}, 'type': 'kubernetes.io/dockerconfigjson', 'data': {}},
], ids=['not json', 'no data'])
def test_a_secret_no_consumer_can_read_holds_nothing(obj):
    assert rot.location_of(obj).auths is None
    assert rot.location_of(obj, is_global=True).auths is None
