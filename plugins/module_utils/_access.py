# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Who may pull what: image-pull SubjectAccessReviews and the safe views of the registry_access_info audit.

Pure functions over objects read from the server. Every view is built from summaries
(registries, usernames, emails, fingerprints), never from credential fields.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _subjects as subj
from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import MANAGED_BY, one_line, resource_path
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


def pull_secret_view(secret):
    """Name, type, registries (server, username, email, fingerprint), fingerprint, invalid (why, or None), managed."""
    view = secret_view(secret)
    return {
        'name': _name(secret),
        'type': view['type'],
        'registries': view.get('registries', []),
        'fingerprint': view.get('fingerprint'),
        'invalid': view.get('invalid'),
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


def namespace_view(name, exists, secrets, service_accounts, bindings, other_secret_types):
    """The audit of one namespace from the objects listed in it."""
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
    }


# -- the global pull secret --------------------------------------------------------------------

def global_view(namespace, name, secret=None, reason=None):
    """The global pull secret's registries, or readable false with the reason (forbidden, missing, invalid)."""
    view = {'namespace': namespace, 'name': name, 'readable': False, 'reason': reason, 'registries': [], 'fingerprint': None}
    if secret is None:
        if reason is None:
            view['reason'] = 'the secret does not exist'
        return view
    summary = secret_view(secret)
    if 'invalid' in summary:
        view['reason'] = 'it holds no valid docker config: %s' % summary['invalid']
        return view
    view.update(readable=True, reason=None, registries=summary['registries'], fingerprint=summary['fingerprint'])
    return view


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
