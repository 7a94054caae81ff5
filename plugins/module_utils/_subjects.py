# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""RBAC subjects and RoleBinding choice for the image_puller_binding module.

Subjects are plain dicts in RBAC v1 form, shaped exactly as ``oc policy add-role-to-*`` writes
them. The planners are pure: they take the RoleBindings listed in one namespace and return what
to create, update or delete, so check mode, diff mode and the unit tests share them.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.ocp.registry_access.plugins.module_utils._constants import CREATE, DELETE, UNCHANGED, UPDATE
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import InputError

RBAC_API_GROUP = 'rbac.authorization.k8s.io'
RBAC_API_VERSION = RBAC_API_GROUP + '/v1'
ROLE_KINDS = ('ClusterRole', 'Role')

SA_USER_PREFIX = 'system:serviceaccount:'
SA_GROUP_PREFIX = 'system:serviceaccounts:'
AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate'

# OpenShift's default-rolebindings controller owns these in every project and restores them;
# an edit would be reverted, a deletion would break builds and deployments.
PROTECTED_BINDINGS = frozenset(['system:image-pullers', 'system:image-builders', 'system:deployers'])

# oc tries the role name, then <role>-0 ... <role>-99.
NAME_SUFFIXES = 100

_DNS_LABEL = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?'
_DNS_LABEL_RE = re.compile(_DNS_LABEL)
_DNS_SUBDOMAIN_RE = re.compile(r'%s(\.%s)*' % (_DNS_LABEL, _DNS_LABEL))
_SA_DICT_KEYS = frozenset(['namespace', 'name'])

# Subject kinds as written to the API and as shown to people (subject_to_string).
_STRING_PREFIXES = {'Group': 'group:', 'User': 'user:'}


class SubjectError(InputError):
    """A subject, role or binding name is malformed, or the requested binding cannot be used."""


# ---------------------------------------------------------------- validation

def _require_text(value, what):
    if not isinstance(value, str):
        raise SubjectError('%s must be a string, got %s %r' % (what, type(value).__name__, value))
    if not value.strip():
        raise SubjectError('%s must not be empty, got %r' % (what, value))
    if value != value.strip():
        raise SubjectError('%s %r has leading or trailing whitespace' % (what, value))
    return value


def validate_namespace(name):
    """Return name if it is a valid namespace (DNS-1123 label), else raise SubjectError."""
    _require_text(name, 'namespace')
    if len(name) > 63 or not _DNS_LABEL_RE.fullmatch(name):
        raise SubjectError(
            'invalid namespace %r: expected a DNS-1123 label (at most 63 characters: lowercase letters, '
            "digits and '-', starting and ending with a letter or digit)" % name)
    return name


def validate_object_name(name, what):
    """Return name if it is a DNS-1123 subdomain (the names of Secrets and ServiceAccounts), else raise SubjectError."""
    _require_text(name, what)
    if len(name) > 253 or not _DNS_SUBDOMAIN_RE.fullmatch(name):
        raise SubjectError(
            'invalid %s %r: expected a DNS-1123 subdomain (at most 253 characters: '
            "lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a "
            'letter or digit)' % (what, name))
    return name


def validate_service_account_name(name):
    """Return name if it is a valid service account name (DNS-1123 subdomain), else raise SubjectError."""
    return validate_object_name(name, 'service account name')


def _validate_binding_name(name):
    # Any path segment is a valid object name; these are the ones the API server refuses.
    _require_text(name, 'rolebinding name')
    if name in ('.', '..') or '/' in name or '%' in name:
        raise SubjectError("invalid rolebinding name %r: it must not be '.' or '..' nor contain '/' or '%%'" % name)
    return name


# ---------------------------------------------------------------- subjects

def _sa(namespace, name):
    # As oc writes it: namespace set, no apiGroup (the core group is empty).
    return {'kind': 'ServiceAccount', 'name': validate_service_account_name(name), 'namespace': validate_namespace(namespace)}


def _split_sa_username(value):
    """(namespace, name) of 'system:serviceaccount:ns:name', or None when value has another form."""
    if not value.startswith(SA_USER_PREFIX):
        return None
    parts = value[len(SA_USER_PREFIX):].split(':')
    if len(parts) != 2 or not all(parts):
        raise SubjectError(
            'invalid service account %r: expected system:serviceaccount:NAMESPACE:NAME' % value)
    return parts[0], parts[1]


def service_account_subject(value):
    """ServiceAccount subject from 'ns:name', 'system:serviceaccount:ns:name' or {namespace, name}."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - _SA_DICT_KEYS)
        missing = sorted(_SA_DICT_KEYS - set(value))
        if unknown or missing:
            raise SubjectError(
                'invalid service account %r: expected a dict with exactly the keys namespace and name' % (value,))
        return _sa(value['namespace'], value['name'])
    _require_text(value, 'service account')
    if value.startswith(SA_GROUP_PREFIX):
        raise SubjectError(
            'invalid service account %r: this is the group of all service accounts of a project; '
            'list the project in all_service_accounts_in instead' % value)
    split = _split_sa_username(value)
    if split is None:
        parts = value.split(':')
        if len(parts) != 2 or not all(parts):
            raise SubjectError(
                'invalid service account %r: expected NAMESPACE:NAME, system:serviceaccount:NAMESPACE:NAME '
                'or a dict with namespace and name' % value)
        split = parts
    return _sa(split[0], split[1])


def group_subject(name):
    """Group subject, as oc writes it (with apiGroup)."""
    return {'kind': 'Group', 'apiGroup': RBAC_API_GROUP, 'name': _require_text(name, 'group name')}


def user_subject(name):
    """User subject; a service account user name (system:serviceaccount:ns:name) becomes a ServiceAccount, as in oc."""
    _require_text(name, 'user name')
    if name.startswith(SA_GROUP_PREFIX):
        # Kubernetes reserves this prefix for groups: no user can carry it.
        raise SubjectError(
            'invalid user %r: this is a group name; list it in groups (or the project in all_service_accounts_in)' % name)
    if name.startswith(SA_USER_PREFIX):
        return service_account_subject(name)
    return {'kind': 'User', 'apiGroup': RBAC_API_GROUP, 'name': name}


def all_service_accounts_subject(namespace):
    """Group subject system:serviceaccounts:<namespace>: every service account of that project."""
    return group_subject(SA_GROUP_PREFIX + validate_namespace(namespace))


def subject_key(subject):
    """(kind, name, namespace or ''): what oc compares; apiGroup is ignored."""
    return (subject.get('kind'), subject.get('name'), subject.get('namespace') or '')


def _unique(subjects):
    seen = set()
    result = []
    for subject in subjects:
        key = subject_key(subject)
        if key not in seen:
            seen.add(key)
            result.append(subject)
    return result


def build_subjects(service_accounts=(), all_service_accounts_in=(), groups=(), users=()):
    """Subjects for the module's options (None means none), deduplicated, in that order."""
    builders = (
        (service_accounts, service_account_subject),
        (all_service_accounts_in, all_service_accounts_subject),
        (groups, group_subject),
        (users, user_subject),
    )
    return _unique(build(value) for values, build in builders for value in (values or ()))


def subject_to_string(subject):
    """Readable form: system:serviceaccount:NS:NAME (the user name SAs act as), group:NAME, user:NAME.

    A ServiceAccount without namespace (allowed in a RoleBinding: it means the binding's own) shows as
    serviceaccount:NAME; other kinds as lowercased-kind:NAME.
    """
    kind = subject.get('kind') or ''
    name = subject.get('name') or ''
    if kind == 'ServiceAccount':
        namespace = subject.get('namespace')
        return '%s%s:%s' % (SA_USER_PREFIX, namespace, name) if namespace else 'serviceaccount:%s' % name
    return '%s%s' % (_STRING_PREFIXES.get(kind, kind.lower() + ':'), name)


# ---------------------------------------------------------------- roles and bindings

def role_ref(role, role_kind='ClusterRole'):
    """roleRef of a RoleBinding to role."""
    _require_text(role, 'role')
    if role_kind not in ROLE_KINDS:
        raise SubjectError('invalid role kind %r: expected one of %s' % (role_kind, ', '.join(ROLE_KINDS)))
    return {'apiGroup': RBAC_API_GROUP, 'kind': role_kind, 'name': role}


def same_role_ref(a, b):
    """True when both roleRefs name the same role (kind and name, as oc compares)."""
    if not a or not b:
        return False
    return (a.get('kind'), a.get('name')) == (b.get('kind'), b.get('name'))


def _name(binding):
    return (binding.get('metadata') or {}).get('name')


def _subjects(binding):
    return binding.get('subjects') or []


def _describe_ref(ref):
    return '%s %s' % ((ref or {}).get('kind'), (ref or {}).get('name'))


def binding_summary(binding):
    """Short, safe view of a RoleBinding for results and diffs."""
    ref = binding.get('roleRef') or {}
    return {
        'name': _name(binding),
        'role': ref.get('name'),
        'role_kind': ref.get('kind'),
        'subjects': [subject_to_string(subject) for subject in _subjects(binding)],
    }


def _new_binding(name, ref, subjects):
    return {
        'apiVersion': RBAC_API_VERSION,
        'kind': 'RoleBinding',
        'metadata': {'name': name},
        'roleRef': copy.deepcopy(ref),
        'subjects': copy.deepcopy(list(subjects)),
    }


def _updated_binding(existing, subjects):
    # The whole object goes back in a PUT: labels, annotations, uid and resourceVersion must survive.
    binding = copy.deepcopy(existing)
    binding['apiVersion'] = RBAC_API_VERSION
    binding['kind'] = 'RoleBinding'
    binding.setdefault('metadata', {}).pop('managedFields', None)
    binding['subjects'] = copy.deepcopy(list(subjects))
    return binding


def _action(action, name, binding, added=(), removed=()):
    return {
        'action': action,
        'name': name,
        'binding': binding,
        'added': copy.deepcopy(list(added)),
        'removed': copy.deepcopy(list(removed)),
    }


def _check_named_binding(by_name, ref, name):
    """The binding called name, or None; raise when it must not be managed."""
    _validate_binding_name(name)
    if name in PROTECTED_BINDINGS:
        raise SubjectError(
            'rolebinding %s is managed by OpenShift and is never modified; choose another rolebinding_name' % name)
    existing = by_name.get(name)
    if existing is not None and not same_role_ref(existing.get('roleRef'), ref):
        raise SubjectError(
            'rolebinding %s exists for %s, not %s; choose another rolebinding_name'
            % (name, _describe_ref(existing.get('roleRef')), _describe_ref(ref)))
    return existing


def default_binding_name(bindings, ref):
    """Name of the binding managed when none is given, or None when all candidates are taken.

    Candidates are the role's name, then <role>-0 ... <role>-99 (oc's names). The first candidate
    that already holds this roleRef wins, so runs keep converging on one binding; otherwise the
    first free one. Protected names are never candidates.
    """
    by_name = {_name(binding): binding for binding in bindings}
    role = ref['name']
    candidates = [role] + ['%s-%d' % (role, index) for index in range(NAME_SUFFIXES)]
    candidates = [name for name in candidates if name not in PROTECTED_BINDINGS]
    for name in candidates:
        if name in by_name and same_role_ref(by_name[name].get('roleRef'), ref):
            return name
    for name in candidates:
        if name not in by_name:
            return name
    return None


def _managed_subjects(existing, desired, exclusive):
    """(subjects, added, removed) of the managed binding once it grants desired."""
    desired_keys = set(subject_key(subject) for subject in desired)
    kept, removed, seen = [], [], set()
    for subject in existing:
        key = subject_key(subject)
        # Without exclusive everything already there stays, in its order (oc's addSubjects).
        if not exclusive or (key in desired_keys and key not in seen):
            kept.append(subject)
            seen.add(key)
        else:
            removed.append(subject)
    added = [subject for subject in desired if subject_key(subject) not in seen]
    return kept + added, added, removed


def _holds_any(binding, keys):
    return any(subject_key(subject) in keys for subject in _subjects(binding))


def _plan_managed(existing, name, ref, desired, exclusive, requested_keys):
    """The action for the managed binding, or None when it need not exist or be reported.

    desired: the subjects it must grant; requested_keys: all the subjects asked for (for reporting).
    """
    if existing is None:
        if not desired:
            return None
        if name is None:
            raise SubjectError(
                'no free rolebinding name for %s: %s and %s-0 ... %s-%d are all taken by other roles; '
                'set rolebinding_name' % (_describe_ref(ref), ref['name'], ref['name'], ref['name'], NAME_SUFFIXES - 1))
        return _action(CREATE, name, _new_binding(name, ref, desired), added=desired)
    subjects, added, removed = _managed_subjects(_subjects(existing), desired, exclusive)
    if added or removed:
        return _action(UPDATE, name, _updated_binding(existing, subjects), added=added, removed=removed)
    if exclusive or _holds_any(existing, requested_keys):
        return _action(UNCHANGED, name, copy.deepcopy(existing))
    return None


def plan_add(bindings, ref, subjects, rolebinding_name=None, exclusive=False):
    """Actions that grant ref to subjects in one namespace (state: present).

    Without rolebinding_name and exclusive, a subject already bound to ref by any binding (OpenShift's
    own included) is left alone, and the others go to the binding chosen by default_binding_name.
    Returns the managed binding's action ('create', 'update', or 'unchanged' when it holds a requested
    subject) first, then an 'unchanged' action for every other binding of ref that holds a requested
    subject, so the result shows where each grant lives. Empty when there is nothing to grant or report.
    """
    desired = _unique(subjects)
    by_name = {_name(binding): binding for binding in bindings}
    if rolebinding_name is not None:
        name = rolebinding_name
        existing = _check_named_binding(by_name, ref, name)
    else:
        name = default_binding_name(bindings, ref)
        existing = by_name.get(name)

    others = []
    if rolebinding_name is None and not exclusive:
        others = [binding for binding in bindings if _name(binding) != name and same_role_ref(binding.get('roleRef'), ref)]
    granted_elsewhere = set(subject_key(subject) for binding in others for subject in _subjects(binding))
    missing = [subject for subject in desired if subject_key(subject) not in granted_elsewhere]

    requested_keys = set(subject_key(subject) for subject in desired)
    managed = _plan_managed(existing, name, ref, missing, exclusive, requested_keys)
    actions = [managed] if managed else []
    actions.extend(_action(UNCHANGED, _name(binding), copy.deepcopy(binding))
                   for binding in others if _holds_any(binding, requested_keys))
    return actions


def _keeps_empty_binding(binding):
    # As oc: a binding whose reconciliation was switched off is kept even with no subject left.
    annotations = (binding.get('metadata') or {}).get('annotations') or {}
    return annotations.get(AUTOUPDATE_ANNOTATION) == 'false'


def plan_remove(bindings, ref, subjects, rolebinding_name=None):
    """Actions that take ref away from subjects in one namespace (state: absent).

    Every binding of ref (or only rolebinding_name) loses those subjects; protected bindings are
    never touched (see protected_grants). A binding left empty is deleted unless annotated
    autoupdate "false". Bindings that held none of the subjects get no action.
    """
    unwanted = set(subject_key(subject) for subject in subjects)
    if rolebinding_name is not None:
        existing = _check_named_binding({_name(binding): binding for binding in bindings}, ref, rolebinding_name)
        targets = [existing] if existing is not None else []
    else:
        targets = [binding for binding in bindings
                   if same_role_ref(binding.get('roleRef'), ref) and _name(binding) not in PROTECTED_BINDINGS]

    actions = []
    for binding in targets:
        kept = [subject for subject in _subjects(binding) if subject_key(subject) not in unwanted]
        removed = [subject for subject in _subjects(binding) if subject_key(subject) in unwanted]
        if not removed:
            continue
        if kept or _keeps_empty_binding(binding):
            actions.append(_action(UPDATE, _name(binding), _updated_binding(binding, kept), removed=removed))
        else:
            actions.append(_action(DELETE, _name(binding), copy.deepcopy(binding), removed=removed))
    return actions


def protected_grants(bindings, ref, subjects):
    """Names of protected bindings of ref that still grant one of subjects (absent cannot remove those)."""
    wanted = set(subject_key(subject) for subject in subjects)
    protected = [binding for binding in bindings if _name(binding) in PROTECTED_BINDINGS]
    return [_name(binding) for binding in protected
            if same_role_ref(binding.get('roleRef'), ref) and _holds_any(binding, wanted)]


def _groups_of(subject):
    """The groups the API server puts a subject in (what a Group subject of another binding can match)."""
    kind, name = subject.get('kind'), subject.get('name') or ''
    if kind == 'User' and name.startswith(SA_USER_PREFIX) and name.count(':') == 3:
        kind, subject = 'ServiceAccount', {'namespace': name.split(':')[2]}
    if kind == 'ServiceAccount':
        return set(['system:serviceaccounts', SA_GROUP_PREFIX + (subject.get('namespace') or ''), 'system:authenticated'])
    if kind == 'Group' and name.startswith(SA_GROUP_PREFIX):
        # every member of system:serviceaccounts:<ns> is also in system:serviceaccounts
        return set(['system:serviceaccounts', 'system:authenticated'])
    # any user or member of a group is an authenticated user
    return set(['system:authenticated'])


def _covers(holder, subject, namespace):
    """Whether a binding's subject holder grants subject too (the same subject, or a group subject is in)."""
    holder = dict(holder)
    if holder.get('kind') == 'ServiceAccount' and not holder.get('namespace'):
        holder['namespace'] = namespace  # a ServiceAccount without namespace is one of the binding's own
    if subject_key(holder) == subject_key(subject):
        return True
    if subject.get('kind') == 'User' and holder.get('kind') == 'ServiceAccount':
        return subject.get('name') == subject_to_string(holder)
    return holder.get('kind') == 'Group' and holder.get('name') in _groups_of(subject)


def remaining_grants(bindings, actions, ref, subjects, namespace):
    """[(subject, binding name, holder)] for each subject that a binding of ref still grants once actions are done.

    state: absent removes the subjects from the bindings it manages; OpenShift's system:image-pullers (which
    grants system:image-puller to group system:serviceaccounts:<ns>), a binding to a group the subject is in,
    or a binding named other than rolebinding_name may still grant the role: access remains, and the user must
    be told. holder is the binding's subject that grants it, as subject_to_string shows it.
    """
    after = dict((_name(binding), binding) for binding in bindings)
    for action in actions:
        if action['action'] == DELETE:
            after.pop(action['name'], None)
        elif action['action'] in (UPDATE, CREATE):
            after[action['name']] = action['binding']
    found = []
    for subject in subjects:
        for name in sorted(after):
            binding = after[name]
            if not same_role_ref(binding.get('roleRef'), ref):
                continue
            for holder in _subjects(binding):
                if _covers(holder, subject, namespace):
                    found.append((subject, name, subject_to_string(holder)))
                    break
    return found


# How the RBAC authorizer names a namespaced grant in a (Local)SubjectAccessReview's reason.
GRANT_REASON = re.compile(r'(?<!Cluster)RoleBinding "([^"/]+)/([^"]+)" of (ClusterRole|Role) "([^"]+)"')


def granted_by_managed_binding(reason, namespace, role_kind, role, rolebinding_name=None, unmanaged=()):
    """Whether the API server's reason names a RoleBinding of the role in namespace that a run with
    rolebinding_name manages (never a protected one, nor one of unmanaged)."""
    for name, ns, kind, granted in GRANT_REASON.findall(reason):
        if ns != namespace or kind != role_kind or granted != role or name in PROTECTED_BINDINGS or name in unmanaged:
            continue
        if rolebinding_name is None or name == rolebinding_name:
            return True
    return False


def bindings_diff(bindings_before, results):
    """Safe before/after of the bindings a run changed: their subjects (None: no binding), by namespace and name."""
    before, after = {}, {}
    for r in results:
        if r['action'] == 'unchanged':
            continue
        old = [b for b in bindings_before.get(r['namespace'], []) if b['metadata']['name'] == r['name']]
        before.setdefault(r['namespace'], {})[r['name']] = (
            [subject_to_string(s) for s in old[0].get('subjects') or []] if old else None)
        after.setdefault(r['namespace'], {})[r['name']] = None if r['action'] == 'deleted' else r['subjects']
    return {'before': before, 'after': after}
