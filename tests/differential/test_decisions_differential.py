"""The decisions the modules take from the model, checked on the consumers' own code.

- same_registry(a, b): a document holding only a and one holding only b get a credential for
  the same images (Docker Hub's index.docker.io fallback also covers one-label hosts such as
  localhost/…, which no module decision is about, so those images are left out for the kubelet);
- a key registry_scope calls dead serves none of the probe images;
- lookup_key_for(server) is a key containers/image finds for the images server names;
- a document problems() calls unparsable fails every lookup, and only such a document does.
"""

from __future__ import annotations

import json
import os
import random

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl

import cases

SEED = int(os.environ.get('DIFFERENTIAL_SEED') or 13)
PAIRS = int(os.environ.get('DIFFERENTIAL_PAIRS', '700'))
CREDENTIAL = {'auth': cases.b64('probe-user:probe-password')}
OUTSIDE = 'unlikely.example.org/x'


def _serves_kubelet(oracle, key, image):
    secret = {'name': 's', 'type': cl.SECRET_TYPE_DOCKERCONFIGJSON,
              'data': {'.dockerconfigjson': json.dumps({'auths': {key: CREDENTIAL}}).encode()}}
    response = oracle.lookup(image, [secret], None)
    assert response['error'] is None or 'parse image' in response['error'], response['error']
    return bool(response.get('orders') and response['orders'][0])


def _serves_containers_image(oracle, key, image):
    response = oracle.lookup(image, json.dumps({'auths': {key: CREDENTIAL}}))
    return any(o.get('credential') for o in response.get('outcomes') or [response])


def _probes(ch, keys):
    images = {'nginx', 'docker.io/library/nginx', 'registry-1.docker.io/library/nginx', 'quay.io/org/app'}
    for key in keys:
        for attempt in range(4):
            images.add(cases.image_for_key(ch, key))
    valid = []
    for image in sorted(images):
        try:
            cl.kubelet_image_name(image)
        except ValueError:
            continue
        valid.append(image)
    return valid


def _one_label_default(image):
    host = cl.kubelet_image_name(image).split('/', 1)[0]
    return host != cl.DOCKER_HUB and not any(c in host for c in '.:')


def test_same_registry_and_dead_keys_hold_for_both_consumers(kubelet_oracle, containers_image_oracle, case_counts):
    rng = random.Random(SEED)
    ch = cases.Chooser(rng)
    serves = {cl.KUBELET: lambda k, i: _serves_kubelet(kubelet_oracle, k, i),
              cl.CONTAINERS_IMAGE: lambda k, i: _serves_containers_image(containers_image_oracle, k, i)}
    wrong = []
    for attempt in range(PAIRS):
        case = cases.Case()
        a = cases.registry_key(ch, case)
        b = cases.spelling_of(ch, a, case) if ch.chance(0.7) else cases.registry_key(ch, case)
        probes = _probes(ch, [a, b])
        for consumer in cl.CONSUMERS:
            same = a != b and cl.same_registry(a, b, consumer)
            dead = cl.registry_scope(a, consumer) is None
            if not same and not dead:
                continue
            case_counts['decisions %s' % consumer]['(all)'] += 1
            case_counts['decisions %s' % consumer]['same-registry' if same else 'dead-key'] += 1
            for image in probes:
                if consumer == cl.KUBELET and _one_label_default(image):
                    continue
                served_a = serves[consumer](a, image)
                if dead and served_a:
                    wrong.append(('dead key serves', consumer, a, image))
                if same and served_a != serves[consumer](b, image):
                    wrong.append(('same registry differs', consumer, a, b, image))
    assert not wrong, sorted(set(wrong))[:40]


def test_lookup_key_for_is_found_by_containers_image(containers_image_oracle, case_counts):
    rng = random.Random(SEED + 1)
    ch = cases.Chooser(rng)
    wrong = []
    for attempt in range(PAIRS):
        server = cases.registry_key(ch, cases.Case())
        try:
            key = cl.lookup_key_for(server)
        except ValueError:
            continue
        case_counts['decisions lookup_key_for']['(all)'] += 1
        image = key + ('/app' if '/' in key else '/org/app')
        if not _serves_containers_image(containers_image_oracle, key, image):
            wrong.append((server, key, image))
    assert not wrong, sorted(set(wrong))[:40]


def test_unparsable_documents_fail_every_lookup(kubelet_oracle, containers_image_oracle, case_counts):
    rng = random.Random(SEED + 2)
    ch = cases.Chooser(rng)
    wrong = []
    for attempt in range(PAIRS * 2):
        case = cases.Case()
        secret_type = ch.choice(cases.SECRET_TYPES)
        layout = 'dockerconfigjson' if secret_type.endswith('json') else 'dockercfg'
        raw = cases.document(ch, case, layout if not ch.chance(0.2) else ch.choice(['dockerconfigjson', 'dockercfg']))
        case_counts['decisions unparsable']['(all)'] += 1
        fatal = any(p.code == 'unparsable' for p in cl.document_problems(raw, cl.KUBELET, secret_type))
        secret = {'name': 's', 'type': secret_type, 'data': {cl.DATA_KEY[secret_type]: raw.encode()}}
        failed = kubelet_oracle.lookup(OUTSIDE, [secret], None)['error'] is not None
        if fatal != failed and raw:
            wrong.append((cl.KUBELET, secret_type, raw, fatal, failed))
        if layout == 'dockerconfigjson':
            fatal = any(p.code == 'unparsable' for p in cl.document_problems(raw, cl.CONTAINERS_IMAGE))
            failed = containers_image_oracle.lookup(OUTSIDE, raw)['error'] is not None
            if fatal != failed:
                wrong.append((cl.CONTAINERS_IMAGE, raw, fatal, failed))
    assert not wrong, sorted(set(wrong))[:40]


def _respelled(ch, raw, consumer):
    """raw with some keys replaced by other spellings of the same registry (entries untouched), or None."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    auths = document.get('auths') if isinstance(document, dict) else None
    if not isinstance(auths, dict) or not auths:
        return None
    changed = {}
    for key, entry in auths.items():
        other = cases.spelling_of(ch, key, cases.Case())
        changed[other if other not in auths and other not in changed and cl.same_registry(key, other, consumer) else key] = entry
    document['auths'] = changed
    return json.dumps(document)


def _kubelet_answer(oracle, raw, image):
    secret = {'name': 's', 'type': cl.SECRET_TYPE_DOCKERCONFIGJSON, 'data': {'.dockerconfigjson': raw.encode()}}
    response = oracle.lookup(image, [secret], None)
    if response['error'] is not None:
        return 'error'
    return sorted(sorted((c['username'], c['password'], c['email']) for c in order) for order in response['orders'])


def _containers_image_answer(oracle, raw, image):
    response = oracle.lookup(image, raw)
    return sorted(json.dumps(o, sort_keys=True) for o in response.get('outcomes') or [response])


def test_equal_consumer_views_give_equal_answers(kubelet_oracle, containers_image_oracle, case_counts):
    rng = random.Random(SEED + 3)
    ch = cases.Chooser(rng)
    answer = {cl.KUBELET: lambda raw, image: _kubelet_answer(kubelet_oracle, raw, image),
              cl.CONTAINERS_IMAGE: lambda raw, image: _containers_image_answer(containers_image_oracle, raw, image)}
    wrong = []
    for attempt in range(PAIRS):
        case = cases.Case()
        raw = cases.document(ch, case, 'dockerconfigjson')
        for consumer in cl.CONSUMERS:
            other = _respelled(ch, raw, consumer)
            if other is None or other == raw or cl.consumer_view(raw, consumer) != cl.consumer_view(other, consumer):
                continue
            case_counts['decisions consumer_view %s' % consumer]['(all)'] += 1
            for image in _probes(ch, case.keys)[:8]:
                if consumer == cl.KUBELET and _one_label_default(image):
                    continue
                if answer[consumer](raw, image) != answer[consumer](other, image):
                    wrong.append((consumer, raw, other, image))
    assert not wrong, sorted(set(wrong))[:10]
