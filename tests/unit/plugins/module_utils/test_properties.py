# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests (hypothesis) of the pure logic: _dockerconfig and _subjects.

Parse/build round trips, merges that keep unrelated entries, normalisation that is idempotent, and
RoleBinding plans that converge (a second plan on the result changes nothing) and never drop a
subject someone else granted.
"""

from __future__ import annotations

import base64
import copy
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_keys as rk
from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj

PROPERTIES = settings(max_examples=200, deadline=None)

# -- strategies ----------------------------------------------------------------------------------

dns_label = st.from_regex(r'[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?', fullmatch=True)
dns_subdomain = st.lists(dns_label, min_size=1, max_size=3).map('.'.join)
host_label = st.from_regex(r'[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?', fullmatch=True)
# all digits and dots would be read as an IPv4 address
hostname = st.lists(host_label, min_size=1, max_size=4).map('.'.join).filter(lambda h: not set(h) <= set('0123456789.'))
path = st.lists(st.from_regex(r'[A-Za-z0-9._-]{1,10}', fullmatch=True), max_size=3).map(lambda parts: ''.join('/' + p for p in parts))
port = st.one_of(st.just(''), st.integers(min_value=1, max_value=65535).map(lambda n: ':%d' % n))
# Registry keys as kubectl and the kubelet accept them: [http[s]://]host[:port][/path]
server = st.builds(lambda scheme, host, p, rest: scheme + host + p + rest,
                   st.sampled_from(['', 'https://', 'http://']), hostname, port, path)
# Keys of the global pull secret, as the node's container runtime wants them: no scheme, no tag
strict_server = st.builds(lambda host, p, rest: host + p + rest, hostname, port, path)
# Any text the JSON layer must carry unchanged (UTF-8 encodable: no lone surrogates)
text = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), max_size=30)
username = st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters=':'), min_size=1, max_size=30)
password = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=30)
credentials = st.builds(lambda u, p, e: dc.build_entry(username=u, password=p, email=e or None), username, password, text)


def unique_by_registry(servers):
    """servers with one key per registry (keys compared as the kubelet compares them)."""
    out = []
    for key in servers:
        if not any(cl.same_registry(key, other, cl.KUBELET) for other in out):
            out.append(key)
    return out


def serving(auths, key):
    return cl.keys_serving(list(auths), key, cl.KUBELET)


auths = st.lists(st.tuples(server, credentials), max_size=6).map(dict)


# -- _dockerconfig: parse and build --------------------------------------------------------------


@PROPERTIES
@given(server, username, password, text)
def test_built_entry_parses_back_to_the_same_credentials(key, user, secret, email):
    rk.validate_server(key)
    entry = dc.build_entry(username=user, password=secret, email=email or None)
    for layout in ('dockerconfigjson', 'dockercfg'):
        parsed = dc.parse_config(dc.serialize({key: entry}, layout))
        assert parsed.layout == layout
        assert list(parsed.auths) == [key]
        assert dc.decode_entry(parsed.auths[key]) == {'username': user, 'password': secret, 'email': email or None,
                                                      'identitytoken': None}


@PROPERTIES
@given(username, password)
def test_auth_field_and_username_password_give_the_same_entry(user, secret):
    auth = base64.b64encode(('%s:%s' % (user, secret)).encode('utf-8')).decode('ascii')
    assert dc.build_entry(auth=auth) == dc.build_entry(username=user, password=secret)
    assert dc.entries_equal(dc.build_entry(auth=auth), {'username': user, 'password': secret})


@PROPERTIES
@given(auths, st.dictionaries(st.sampled_from(['credsStore', 'HttpHeaders', 'x-extra']), st.one_of(text, st.integers()), max_size=2))
def test_serialize_parse_serialize_is_byte_stable(config, extra):
    for layout, top in (('dockerconfigjson', extra), ('dockercfg', {})):
        data = dc.serialize(config, layout, top)
        parsed = dc.parse_config(data)
        assert parsed.auths == config
        assert parsed.extra == top
        assert dc.serialize(parsed.auths, parsed.layout, parsed.extra) == data
        # what Go's encoding/json (the kubelet) reads is what Python reads
        assert json.loads(data.decode('utf-8')) == (dict(top, auths=config) if layout == 'dockerconfigjson' else config)


@PROPERTIES
@given(server)
def test_valid_servers_pass_and_strict_servers_pass_strict_validation(key):
    rk.validate_server(key)


@PROPERTIES
@given(strict_server)
def test_the_key_written_into_the_global_pull_secret_is_a_fixed_point(key):
    try:
        written = cl.lookup_key_for(key)
    except ValueError:
        return
    assert cl.lookup_key_for(written) == written
    assert cl.registry_scope(written, cl.CONTAINERS_IMAGE) is not None


# -- _dockerconfig: merge and remove -------------------------------------------------------------


@PROPERTIES
@given(auths, st.lists(st.tuples(server, credentials), max_size=4), st.booleans())
def test_merge_adds_or_updates_the_given_entries_and_keeps_every_other(current, given, keep_fields):
    desired = dict((key, entry) for key, entry in given if key in unique_by_registry([k for k, _e in given]))
    update = dc.update_entry if keep_fields else None
    new_auths, added, updated, unchanged = dc.merge(current, desired, update)
    for key, entry in current.items():
        if not any(cl.same_registry(key, k, cl.KUBELET) for k in desired):
            assert new_auths[key] == entry  # unrelated entries kept byte for byte
    for key, entry in desired.items():
        holders = serving(new_auths, key)
        assert holders
        for holder in holders:
            written = dc.decode_entry(new_auths[holder])
            if keep_fields and entry.get('email') is None:
                written['email'] = None  # update_entry keeps the email already there when none is given
            assert written == dc.decode_entry(entry)
    assert set(new_auths) == set(current) | set(added)
    assert sorted(added + updated + unchanged) == sorted(set(added + updated + unchanged))


@PROPERTIES
@given(auths, st.lists(st.tuples(server, credentials), max_size=4), st.booleans())
def test_merge_is_idempotent(current, given, keep_fields):
    desired = dict((key, entry) for key, entry in given if key in unique_by_registry([k for k, _e in given]))
    update = dc.update_entry if keep_fields else None
    once = dc.merge(current, desired, update)[0]
    twice, added, updated, _unchanged = dc.merge(once, desired, update)
    assert (added, updated) == ([], [])
    assert twice == once


@PROPERTIES
@given(auths, st.lists(server, max_size=3))
def test_remove_takes_only_the_named_registries(current, servers):
    new_auths, removed = dc.remove(current, servers)
    assert set(removed) == set(k for s in servers for k in serving(current, s))
    assert new_auths == dict((k, v) for k, v in current.items() if k not in removed)
    assert dc.remove(new_auths, servers) == (new_auths, [])


# -- _dockerconfig: redaction --------------------------------------------------------------------


@PROPERTIES
@given(st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789-_<>&"', min_size=4, max_size=24), text, text)
def test_redact_hides_every_form_of_a_secret(secret, before, after):
    document = json.dumps({'password': secret})
    forms = [secret, base64.b64encode(secret.encode()).decode(), document, dc.serialize({'q.io': {'password': secret}}).decode()]
    redacted = dc.redact(before + ' | '.join(forms) + after, {secret})
    assert secret not in redacted.replace(before, '').replace(after, '')
    assert base64.b64encode(secret.encode()).decode() not in redacted.replace(before, '').replace(after, '')


# -- _subjects: parse and build ------------------------------------------------------------------


@PROPERTIES
@given(dns_label, dns_subdomain)
def test_every_spelling_of_a_service_account_gives_one_subject_that_round_trips(namespace, name):
    subject = subj.service_account_subject('%s:%s' % (namespace, name))
    assert subject == {'kind': 'ServiceAccount', 'name': name, 'namespace': namespace}
    assert subj.service_account_subject('system:serviceaccount:%s:%s' % (namespace, name)) == subject
    assert subj.service_account_subject({'namespace': namespace, 'name': name}) == subject
    assert subj.user_subject('system:serviceaccount:%s:%s' % (namespace, name)) == subject
    as_text = subj.subject_to_string(subject)
    assert as_text == 'system:serviceaccount:%s:%s' % (namespace, name)
    assert subj.service_account_subject(as_text) == subject


names = st.lists(dns_label, max_size=4)
group_names = st.lists(st.from_regex(r'[a-z][a-z0-9:-]{0,12}', fullmatch=True).filter(
    lambda n: not n.startswith('system:serviceaccount')), max_size=3)


@PROPERTIES
@given(st.lists(st.tuples(dns_label, dns_label), max_size=4), names, group_names, group_names)
def test_build_subjects_normalises_idempotently_and_deduplicates(sas, projects, groups, users):
    service_accounts = ['%s:%s' % pair for pair in sas]
    built = subj.build_subjects(service_accounts, projects, groups, users)
    assert subj.build_subjects(service_accounts * 2, projects * 2, groups * 2, users * 2) == built
    keys = [subj.subject_key(s) for s in built]
    assert len(keys) == len(set(keys))
    # the written subjects, read back as the module's options, give the same subjects
    again = subj.build_subjects(
        [subj.subject_to_string(s) for s in built if s['kind'] == 'ServiceAccount'],
        [s['name'][len(subj.SA_GROUP_PREFIX):] for s in built if s['kind'] == 'Group' and s['name'].startswith(subj.SA_GROUP_PREFIX)],
        [s['name'] for s in built if s['kind'] == 'Group' and not s['name'].startswith(subj.SA_GROUP_PREFIX)],
        [s['name'] for s in built if s['kind'] == 'User'])
    assert sorted(subj.subject_key(s) for s in again) == sorted(keys)


# -- _subjects: binding plans --------------------------------------------------------------------

PULLER = subj.role_ref('system:image-puller')
EDIT = subj.role_ref('edit')
SUBJECT_POOL = [
    {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-a'},
    {'kind': 'ServiceAccount', 'name': 'builder', 'namespace': 'project-a'},
    {'kind': 'ServiceAccount', 'name': 'default', 'namespace': 'project-c'},
    {'kind': 'Group', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'system:serviceaccounts:project-c'},
    {'kind': 'Group', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'release-managers'},
    {'kind': 'User', 'apiGroup': subj.RBAC_API_GROUP, 'name': 'alice'},
]
subject_lists = st.lists(st.sampled_from(SUBJECT_POOL), max_size=4).map(copy.deepcopy)
bindings = st.dictionaries(
    st.sampled_from(['system:image-puller', 'system:image-puller-0', 'system:image-pullers', 'by-hand', 'other']),
    st.tuples(st.sampled_from([PULLER, EDIT]), subject_lists, st.booleans()), max_size=4,
).map(lambda found: [{'metadata': {'name': name, 'annotations': {subj.AUTOUPDATE_ANNOTATION: 'false'} if keep else {}},
                      'roleRef': dict(ref), 'subjects': subjects} for name, (ref, subjects, keep) in sorted(found.items())])


def apply(existing, actions):
    """The namespace's bindings after the planned actions (what the module's I/O layer does)."""
    by_name = dict((b['metadata']['name'], b) for b in existing)
    for action in actions:
        if action['action'] in ('create', 'update'):
            by_name[action['name']] = action['binding']
        elif action['action'] == 'delete':
            del by_name[action['name']]
    return [by_name[name] for name in sorted(by_name)]


def granted(state, ref):
    return set(subj.subject_key(s) for b in state if subj.same_role_ref(b['roleRef'], ref) for s in b.get('subjects') or [])


def all_grants(state):
    return set((b['metadata']['name'], subj.subject_key(s)) for b in state for s in b.get('subjects') or [])


@PROPERTIES
@given(bindings, subject_lists, st.booleans())
def test_plan_add_grants_every_subject_keeps_the_others_and_converges(existing, wanted, exclusive):
    after = apply(existing, subj.plan_add(existing, PULLER, wanted, exclusive=exclusive))
    assert set(subj.subject_key(s) for s in wanted) <= granted(after, PULLER)
    if not exclusive:
        assert all_grants(existing) <= all_grants(after)  # nothing anyone else granted is taken away
    protected = [b for b in existing if b['metadata']['name'] in subj.PROTECTED_BINDINGS]
    assert all(b in after for b in protected)
    again = subj.plan_add(after, PULLER, wanted, exclusive=exclusive)
    assert [a for a in again if a['action'] != 'unchanged'] == []


@PROPERTIES
@given(bindings, subject_lists)
def test_plan_remove_takes_away_only_the_given_subjects_and_converges(existing, unwanted):
    after = apply(existing, subj.plan_remove(existing, PULLER, unwanted))
    keys = set(subj.subject_key(s) for s in unwanted)
    for b in after:
        holds = set(subj.subject_key(s) for s in b.get('subjects') or [])
        if subj.same_role_ref(b['roleRef'], PULLER) and b['metadata']['name'] not in subj.PROTECTED_BINDINGS:
            assert not holds & keys
    # every other grant stays: other roles, protected bindings, other subjects
    expected = set((name, key) for name, key in all_grants(existing)
                   if key not in keys or name in subj.PROTECTED_BINDINGS
                   or not subj.same_role_ref(next(b for b in existing if b['metadata']['name'] == name)['roleRef'], PULLER))
    assert all_grants(after) == expected
    assert subj.plan_remove(after, PULLER, unwanted) == []


@PROPERTIES
@given(bindings, subject_lists)
def test_add_then_remove_gives_back_the_grants_of_others(existing, wanted):
    assume(not set(subj.subject_key(s) for s in wanted) & granted(existing, PULLER))
    added = apply(existing, subj.plan_add(existing, PULLER, wanted))
    removed = apply(added, subj.plan_remove(added, PULLER, wanted))
    assert all_grants(removed) == all_grants(existing)
