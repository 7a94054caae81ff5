# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Who may pull what: image-pull SubjectAccessReviews and the safe views of the registry_access_info audit.

Pure functions over objects read from the server. Every view is built from summaries
(registries, usernames, emails, fingerprints), never from credential fields.
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import MANAGED_BY, one_line, resource_path
from ansible_collections.ocp.registry_access.plugins.module_utils._pull_secret import is_provisioned, secret_view

# Namespaced reviews: a RoleBinding in the namespace can grant them, so a project's own rights suffice.
LOCAL_SUBJECT_ACCESS_REVIEWS = 'localsubjectaccessreviews'
# What the OpenShift image registry asks the API server before it serves a pull.
PULL_ATTRIBUTES = {'verb': 'get', 'group': 'image.openshift.io', 'resource': 'imagestreams', 'subresource': 'layers'}
# OpenShift's roles whose bindings let their subjects pull images from a project.
PULLER_ROLES = ('system:image-puller', 'system:image-pusher', 'registry-viewer')
PULL_SECRET_TYPES = tuple(sorted(secret_type for secret_type, _key in dc.TYPES.values()))


def review_path(namespace):
    """Where the LocalSubjectAccessReview about namespace is created (in that namespace)."""
    return resource_path(LOCAL_SUBJECT_ACCESS_REVIEWS, namespace, group='authorization.k8s.io')


def review_for(subject, namespace):
    """LocalSubjectAccessReview, created in namespace, asking whether subject may pull images from it."""
    spec = {'resourceAttributes': dict(PULL_ATTRIBUTES, namespace=namespace)}
    if subject['kind'] == 'ServiceAccount':
        spec['user'] = 'system:serviceaccount:%s:%s' % (subject['namespace'], subject['name'])
        spec['groups'] = ['system:serviceaccounts', 'system:serviceaccounts:%s' % subject['namespace'], 'system:authenticated']
    elif subject['kind'] == 'Group':
        # Any member of the group: a user name nobody has, with that group only.
        spec['user'] = 'ocp.registry_access:verify-member'
        spec['groups'] = [subject['name']]
    else:
        spec['user'] = subject['name']
        spec['groups'] = ['system:authenticated']
    return {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'LocalSubjectAccessReview',
            'metadata': {'namespace': namespace}, 'spec': spec}


def review_answer(review):
    """(allowed, reason) of a (Local)SubjectAccessReview the API server answered."""
    status = (review or {}).get('status') or {}
    reason = status.get('reason') or status.get('evaluationError') or ''
    return bool(status.get('allowed')), one_line(reason)


def can_pull_checks(items):
    """[(ServiceAccount subject, from_namespace)] of the can_pull option; SubjectError names the bad item."""
    checks = []
    for index, item in enumerate(items or []):
        try:
            checks.append((subj.service_account_subject(item.get('service_account')),
                           subj.validate_namespace(item.get('from_namespace'))))
        except subj.SubjectError as e:
            raise subj.SubjectError('can_pull[%d]: %s' % (index, e))
    return checks


def can_pull_view(subject, from_namespace, review):
    allowed, reason = review_answer(review)
    return {'service_account': subj.subject_to_string(subject), 'from_namespace': from_namespace,
            'allowed': allowed, 'reason': reason}


# -- per namespace ---------------------------------------------------------------------------

def _name(obj):
    return (obj.get('metadata') or {}).get('name')


def is_managed(obj):
    labels = (obj.get('metadata') or {}).get('labels') or {}
    return all(labels.get(key) == value for key, value in MANAGED_BY.items())


def model_secret(secret):
    """A Secret read from the server as the credential model takes it: {name, type, data: {key: decoded bytes}}."""
    data = {}
    for key, value in ((secret.get('data') or {}).items()):
        try:
            data[key] = base64.b64decode(value or '', validate=True)
        except (TypeError, ValueError, binascii.Error):
            continue  # the API server only stores base64; a value it did not is not read by anyone
    return {'name': _name(secret), 'type': secret.get('type') or '', 'data': data}


def _document(secret):
    """The raw document the secret's type names (bytes), or None when it has none."""
    key = cl.DATA_KEY.get(secret.get('type'))
    return model_secret(secret)['data'].get(key) if key else None


def _problem_views(found):
    return [p.as_dict() for p in found]


# Entry problems after which the consumer gets no credential from the entry.
_UNUSABLE = frozenset(['ignored-key', 'dead-key', 'no-credential', 'bad-auth', 'cred-helper'])


def consumer_judgement(document, consumer, secret_type=cl.SECRET_TYPE_DOCKERCONFIGJSON):
    """(problems as dicts, why the consumer cannot use the document or None) - judged by the consumer's own rules.

    Not usable: a problem that fails every pull (the kubelet cannot parse it, the layout does not
    match the type), or no entry the consumer can take a credential from.
    """
    found = cl.problems(document, consumer, secret_type)
    fatal = [p for p in found if p.key is None and p.fatal]
    if fatal:
        return _problem_views(found), fatal[0].message
    by_key = cl.entry_problems(document, consumer, secret_type)
    if consumer == cl.KUBELET:
        keys = list(cl.kubelet_parse(document, 'dockercfg' if secret_type == cl.SECRET_TYPE_DOCKERCFG
                                     else 'dockerconfigjson').entries)
    else:
        keys = list(cl.containers_image_parse(document).auths)
    usable = [k for k in keys if not any(p.code in _UNUSABLE for p in by_key.get(k, []))]
    if not usable:
        who = 'the kubelet' if consumer == cl.KUBELET else "the node's container runtime"
        why = '; '.join(p.message for p in found) or 'it holds no registry'
        return _problem_views(found), '%s can take no credential from it: %s' % (who, why)
    return _problem_views(found), None


def _model_registries(document, consumer, secret_type):
    """Registries as the consumer reads them (used when the older docker config parser refuses a document)."""
    summary = []
    if consumer == cl.KUBELET:
        parsed = cl.kubelet_parse(document, 'dockercfg' if secret_type == cl.SECRET_TYPE_DOCKERCFG else 'dockerconfigjson')
        for key, credential in parsed.entries.items():
            summary.append({'server': shown_key(key), 'username': credential.username or None,
                            'email': credential.email or None, 'fingerprint': credential_fingerprint(credential)})
        return summary
    for key, (auth, token) in cl.containers_image_parse(document).auths.items():
        try:
            pair = cl.containers_image_decode_auth(auth) or ('', '')
        except ValueError:
            pair = ('', '')
        credential = cl.Credential(None, key, pair[0], pair[1], identitytoken=token)
        summary.append({'server': shown_key(key), 'username': credential.username or None, 'email': None,
                        'fingerprint': credential_fingerprint(credential)})
    return summary


def pull_secret_view(secret):
    """Name, type, registries (server, username, email, fingerprint), fingerprint, invalid, problems, managed.

    Judged by the kubelet, which reads namespace pull secrets: invalid says why it cannot use the
    secret (or None), problems every reason it cannot fully use an entry (key, code, message).
    """
    view = secret_view(secret)
    secret_type = view['type']
    document = _document(secret)
    if document is None:
        problems, invalid = [], view.get('invalid') or 'it has no %s key' % cl.DATA_KEY.get(secret_type)
        invalid += '; the kubelet ignores it'
    else:
        problems, invalid = consumer_judgement(document, cl.KUBELET, secret_type)
    registries = view.get('registries')
    if registries is None:
        registries = [] if document is None else _model_registries(document, cl.KUBELET, secret_type)
    return {
        'name': _name(secret),
        'type': secret_type,
        'registries': registries,
        'fingerprint': view.get('fingerprint'),
        'invalid': invalid,
        'problems': problems,
        'managed': is_managed(secret),
    }


def unresolved_references(service_accounts, pull_secret_names):
    """Names of secrets referenced in imagePullSecrets that are not among pull_secret_names (sorted)."""
    known = set(pull_secret_names)
    return sorted(set(ref_name for sa in service_accounts for ref_name in image_pull_secret_names(sa)) - known)


def image_pull_secret_names(service_account):
    return [(ref or {}).get('name') for ref in service_account.get('imagePullSecrets') or [] if (ref or {}).get('name')]


def service_account_view(service_account, pull_secret_names, other_secret_types):
    """Name, image_pull_secrets, missing (dangling references), not_pull_secrets, provisioned.

    other_secret_types: {secret name: its type, or None when it does not exist} for the references
    that are not pull secrets of the namespace (see unresolved_references).
    """
    names = image_pull_secret_names(service_account)
    known = set(pull_secret_names)
    unresolved = [n for n in names if n not in known]
    return {
        'name': _name(service_account),
        'image_pull_secrets': names,
        'missing': [n for n in unresolved if other_secret_types.get(n) is None],
        'not_pull_secrets': [n for n in unresolved if other_secret_types.get(n) is not None],
        'provisioned': is_provisioned(service_account),
    }


def is_image_puller_binding(binding):
    return ((binding.get('roleRef') or {}).get('name')) in PULLER_ROLES


def image_puller_view(binding):
    """Name, role, role_kind, subjects as strings, protected (managed by OpenShift)."""
    view = subj.binding_summary(binding)
    view['protected'] = view['name'] in subj.PROTECTED_BINDINGS
    return view


def namespace_view(name, exists, secrets, service_accounts, bindings, other_secret_types, pulls=None):
    """The audit of one namespace from the objects listed in it (pulls: explain_namespace's answer, if asked)."""
    pull_secrets = sorted((pull_secret_view(s) for s in secrets if s.get('type') in PULL_SECRET_TYPES),
                          key=lambda v: v['name'])
    secret_names = [v['name'] for v in pull_secrets]
    return {
        'name': name,
        'exists': exists,
        'pull_secrets': pull_secrets,
        'service_accounts': sorted((service_account_view(sa, secret_names, other_secret_types) for sa in service_accounts),
                                   key=lambda v: v['name']),
        'image_pullers': sorted((image_puller_view(b) for b in bindings if is_image_puller_binding(b)),
                                key=lambda v: v['name']),
        'pulls': pulls or [],
    }


# -- the global pull secret --------------------------------------------------------------------

_USERINFO = re.compile(r'^((?:[A-Za-z][A-Za-z0-9+.-]*://)?)[^/]*@')


def shown_key(key):
    """A registry key as output may show it: a user:password@ part masked."""
    return _USERINFO.sub(r'\1***@', key) if isinstance(key, str) else key


def credential_fingerprint(credential):
    """The fingerprint of a model Credential: the same as that of the entry it came from (dc.fingerprint_entry)."""
    return dc.fingerprint_entry({'username': credential.username, 'password': credential.password,
                                 'email': credential.email, 'identitytoken': credential.identitytoken})


def global_document(secret):
    """The raw .dockerconfigjson of the global pull secret (what nodes get as config.json), or None."""
    return None if secret is None else (model_secret(secret)['data'].get(cl.DATA_KEY[cl.SECRET_TYPE_DOCKERCONFIGJSON]))


def global_view(namespace, name, secret=None, reason=None):
    """The global pull secret's registries, or readable false with the reason (forbidden, missing, unusable).

    Judged by containers/image, which reads it on the nodes (CRI-O's auth file).
    """
    view = {'namespace': namespace, 'name': name, 'readable': False, 'reason': reason, 'registries': [], 'fingerprint': None,
            'problems': []}
    if secret is None:
        if reason is None:
            view['reason'] = 'the secret does not exist'
        return view
    document = global_document(secret)
    if document is None:
        view['reason'] = 'it has no .dockerconfigjson key'
        return view
    view['problems'], unusable = consumer_judgement(document, cl.CONTAINERS_IMAGE)
    if unusable:
        view['reason'] = unusable
        return view
    summary = secret_view(dict(secret, type=cl.SECRET_TYPE_DOCKERCONFIGJSON))
    view.update(readable=True, reason=None, registries=summary.get('registries') or _model_registries(
        document, cl.CONTAINERS_IMAGE, cl.SECRET_TYPE_DOCKERCONFIGJSON), fingerprint=summary.get('fingerprint'))
    return view


# -- explain a pull ----------------------------------------------------------------------------------

SERVICE_ACCOUNT = 'service_account'
GLOBAL = 'global_pull_secret'


def _attempt_view(credential, problems_by_source, notes):
    """One credential the kubelet sends: where from, key, username, fingerprint, and what each consumer says of it."""
    from_node = credential.source == cl.NODE
    own, other = problems_by_source.get(credential.source, ({}, {}))
    own, other = own.get(credential.key, []), other.get(credential.key, [])
    view = {
        'from': GLOBAL if from_node else SERVICE_ACCOUNT,
        'secret': None if from_node else credential.source,
        'key': shown_key(credential.key),
        'username': credential.username or None,
        'fingerprint': credential_fingerprint(credential),
        'problems': [p.message for p in own],
        'other_consumer_problems': [p.message for p in other],
    }
    unusable = [p.message for p in other if p.code in _UNUSABLE]
    if unusable and not any(p.code in _UNUSABLE for p in own):
        where = 'the global pull secret' if from_node else 'secret %s' % credential.source
        notes.append("key %s of %s is usable by one consumer only: the kubelet sends it, the node's container runtime "
                     "could not use it: %s" % (view['key'], where, '; '.join(unusable)))
    return view


def _entry_problems(document, secret_type, consumer, other):
    return (cl.entry_problems(document, consumer, secret_type), cl.entry_problems(document, other, secret_type))


def _runtime_view(lookup, global_raw, notes):
    """What CRI-O takes from its auth file (the global pull secret, lookup its ContainersImageLookup) when the
    kubelet sends no credential."""
    answers = []
    for answer in lookup.answers:
        c = answer.credential
        answers.append({'key': None if c is None else shown_key(c.key), 'username': None if c is None else (c.username or None),
                        'fingerprint': None if c is None else credential_fingerprint(c), 'error': answer.error})
    if not lookup.deterministic:
        notes.append('several possible answers: keys of the global pull secret that name the same registry are read in '
                     'Go map order: %s' % ', '.join(a['key'] or 'none' for a in answers))
    chosen = set(a['key'] for a in answers if a['key'])
    auths = cl.containers_image_parse(global_raw).auths
    if lookup.name and chosen:
        candidates = cl.auth_key_lookup_order(lookup.name)
        host = cl.normalize_registry(lookup.name.split('/', 1)[0])
        for key in auths:
            if shown_key(key) in chosen:
                continue
            if key in candidates or cl.normalize_auth_file_key(key) == host:
                notes.append('key %s of the global pull secret is shadowed by the more specific key %s'
                             % (shown_key(key), ', '.join(sorted(chosen))))
    return {'name': lookup.name, 'ordered': lookup.deterministic, 'answers': answers}


def _source_name(source):
    return 'the global pull secret' if source == cl.NODE else 'secret %s' % source


def _shadowed_notes(credentials, used, global_raw, notes):
    """Credentials tried only after a more specific key's, and Docker Hub fallback keys never tried."""
    indexes = [cl.kubelet_index_key(c.key) or '' for c in credentials]
    for i, credential in enumerate(credentials):
        earlier = [j for j in range(i) if len(indexes[j]) > len(indexes[i])]
        if earlier:
            first = credentials[earlier[0]]
            notes.append('key %s of %s is shadowed by a more specific key: tried only if %s of %s is refused'
                         % (shown_key(credential.key), _source_name(credential.source), shown_key(first.key),
                            _source_name(first.source)))
    if not credentials:
        return
    tried = set((c.source, c.key) for c in credentials)
    documents = [(s['name'], cl.kubelet_secret_document(s)) for s in used]
    if global_raw is not None:
        documents.append((cl.NODE, cl.kubelet_parse(global_raw, 'dockerconfigjson', source=cl.NODE)))
    for source, document in documents:
        for key in (document.entries if document is not None else {}):
            if cl.kubelet_index_key(key) == 'index.docker.io' and (source, key) not in tried \
                    and credentials[0].key and cl.same_registry(key, credentials[0].key, cl.KUBELET):
                notes.append('key %s of %s is shadowed by a more specific key: the kubelet uses it for Docker Hub images '
                             'only when no other key matches' % (shown_key(key), _source_name(source)))


def explain_image(image, service_account_name, service_account, secrets_by_name, other_secret_types, global_raw, global_readable):
    """The credentials the kubelet tries for image in a pod run as service_account (a ServiceAccount object, or None).

    secrets_by_name: the namespace's pull secrets as read from the server. The ServiceAccount
    admission plugin copies the service account's imagePullSecrets into the pod; the kubelet tries
    them in that order, then the node's config.json (the global pull secret). When it sends none,
    CRI-O reads the global pull secret itself (``runtime``). No credential in the result.
    """
    view = {'image': image, 'service_account': service_account_name, 'repository': None, 'error': None, 'attempts': [], 'ordered': True,
            'anonymous': False, 'runtime': None, 'missing_secrets': [], 'ignored_secrets': [], 'notes': []}
    notes = view['notes']
    if service_account is None:
        view['error'] = ('the service account does not exist: the API server refuses a pod that names it '
                         '(ServiceAccount admission)')
        return view
    refs = image_pull_secret_names(service_account)
    used, problems_by_source = [], {}
    for ref in refs:
        secret = secrets_by_name.get(ref)
        if secret is None:
            (view['ignored_secrets'] if other_secret_types.get(ref) else view['missing_secrets']).append(ref)
            continue
        model = model_secret(secret)
        used.append(model)
        document = _document(secret)
        if document is not None:
            problems_by_source[ref] = _entry_problems(document, secret.get('type'), cl.KUBELET, cl.CONTAINERS_IMAGE)
    for ref in view['missing_secrets']:
        notes.append('pull secret %s does not exist: the kubelet skips it (and warns in the pod events)' % ref)
    for ref in view['ignored_secrets']:
        notes.append('secret %s is not of a pull secret type: the kubelet ignores it' % ref)
    if global_raw is not None:
        problems_by_source[cl.NODE] = _entry_problems(global_raw, cl.SECRET_TYPE_DOCKERCONFIGJSON, cl.KUBELET,
                                                      cl.CONTAINERS_IMAGE)
    elif not global_readable:
        notes.append('the global pull secret could not be read: the credentials from the node are not shown')
    kubelet, runtime = cl.lookup_pull(used, image, global_raw)
    view['repository'] = kubelet.repo
    if kubelet.error is not None:
        view['error'] = 'the kubelet fails the pull: %s' % kubelet.error
        return view
    view['attempts'] = [_attempt_view(c, problems_by_source, notes) for c in kubelet.credentials]
    view['ordered'] = kubelet.deterministic
    _shadowed_notes(kubelet.credentials, used, global_raw, notes)
    if not kubelet.deterministic:
        for group in kubelet.groups:
            if len(set(group)) > 1:
                notes.append('several possible orders: the kubelet tries %s in Go map order (they name the same '
                             'registry in one secret)' % ', '.join('%s of %s' % (shown_key(c.key), c.source) for c in group))
    if not kubelet.credentials:
        if runtime is not None:
            view['runtime'] = _runtime_view(runtime, global_raw, notes)
            if all(a['key'] is None and a['error'] is None for a in view['runtime']['answers']):
                view['anonymous'] = True
            for answer in view['runtime']['answers']:
                if answer['error']:
                    notes.append("the node's container runtime fails the pull: %s" % answer['error'])
        else:
            view['anonymous'] = True
        if view['anonymous']:
            notes.append('no credential: the image is pulled anonymously')
    return view


def explain_namespace(images, service_account_name, service_accounts, secrets, other_secret_types, global_raw,
                      global_readable):
    """explain_image for each image, in a namespace whose service accounts and secrets were listed."""
    by_name = dict((_name(s), s) for s in secrets if s.get('type') in PULL_SECRET_TYPES)
    sa = [a for a in service_accounts if _name(a) == service_account_name]
    return [explain_image(image, service_account_name, sa[0] if sa else None, by_name, other_secret_types, global_raw, global_readable)
            for image in images]


# -- findings ------------------------------------------------------------------------------------

def problems_of(namespaces, global_pull_secret=None):
    """One readable line per finding an administrator should look at."""
    problems = []
    for ns in namespaces:
        if not ns['exists']:
            problems.append('namespace %s does not exist' % ns['name'])
        for secret in ns['pull_secrets']:
            if secret['invalid']:
                problems.append('secret %s/%s is not a usable pull secret: %s' % (ns['name'], secret['name'], secret['invalid']))
        for sa in ns['service_accounts']:
            for ref in sa['missing']:
                problems.append('service account %s/%s references pull secret %s, which does not exist'
                                % (ns['name'], sa['name'], ref))
            for ref in sa['not_pull_secrets']:
                problems.append('service account %s/%s references secret %s as a pull secret, but its type is not '
                                'kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg (the kubelet ignores it)'
                                % (ns['name'], sa['name'], ref))
        for pull in ns.get('pulls') or []:
            if pull['error']:
                problems.append('pulling %s in %s as service account %s fails: %s'
                                % (pull['image'], ns['name'], pull['service_account'], pull['error']))
    if global_pull_secret and not global_pull_secret['readable']:
        problems.append('global pull secret %s/%s is not readable: %s'
                        % (global_pull_secret['namespace'], global_pull_secret['name'], global_pull_secret['reason']))
    return problems


def summary_of(namespaces, can_pull, problems):
    """Counts for the top of a report."""
    secrets = [s for ns in namespaces for s in ns['pull_secrets']]
    service_accounts = [sa for ns in namespaces for sa in ns['service_accounts']]
    return {
        'namespaces': len(namespaces),
        'missing_namespaces': sum(1 for ns in namespaces if not ns['exists']),
        'pull_secrets': len(secrets),
        'invalid_pull_secrets': sum(1 for s in secrets if s['invalid']),
        'service_accounts': len(service_accounts),
        'dangling_references': sum(len(sa['missing']) + len(sa['not_pull_secrets']) for sa in service_accounts),
        'image_puller_bindings': sum(len(ns['image_pullers']) for ns in namespaces),
        'can_pull_allowed': sum(1 for c in can_pull if c['allowed']),
        'can_pull_denied': sum(1 for c in can_pull if not c['allowed']),
        'problems': len(problems),
    }
