"""An API server in memory, behind the real Client: what the module runs' unit tests write to and read from.

Only what the modules use: objects by path, lists (cluster-wide and per namespace, with a name field
selector), create/replace/delete with resourceVersion conflicts, LocalSubjectAccessReviews answered
by a function, and failures injected for a method and path.
"""

import copy
from urllib.parse import quote

from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import Client
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError

from test_frame import Exit, Fail, frame

WRITES = ('POST', 'PUT', 'DELETE')


class MemoryClient(Client):
    """The real Client (dry run, conflicts, lists by namespace...) over objects kept in a dict."""

    def __init__(self, dry_run=False, reviews=None):  # pylint: disable=super-init-not-called
        self.dry_run = dry_run
        self.redact = lambda text: text
        self.sleep = lambda seconds: None
        self.warnings = []
        self.requests_sent = 0
        self.objects = {}
        self.calls = []
        self.failures = {}
        self.reviews = reviews or (lambda review: {'allowed': True, 'reason': ''})
        self.version = 0

    def conflict_pause(self, attempt=0):
        pass

    def add(self, path, obj):
        self.version += 1
        obj = copy.deepcopy(obj)
        obj.setdefault('metadata', {})['resourceVersion'] = str(self.version)
        self.objects[path] = obj
        return obj

    def fail(self, method, path, *errors):
        """The next requests of method to path fail with errors, one each."""
        self.failures.setdefault((method, path), []).extend(errors)

    def writes(self):
        return [(method, path) for method, path in self.calls if method in WRITES]

    def request(self, method, path, body=None, query=None, content_type='application/json'):
        self.calls.append((method, path))
        queued = self.failures.get((method, path))
        if queued:
            raise queued.pop(0)
        if method == 'GET':
            if path in self.objects:
                return copy.deepcopy(self.objects[path])
            items = self._list(path, (query or {}).get('fieldSelector'))
            if items is None:
                raise ApiError(404, 'NotFound', '%s not found' % path)
            return {'items': items, 'metadata': {}}
        if method == 'POST':
            if path.endswith('/localsubjectaccessreviews'):
                return dict(body, status=self.reviews(body))
            target = '%s/%s' % (path, quote(body['metadata']['name'], safe=''))
            if target in self.objects:
                raise ApiError(409, 'AlreadyExists', '%s already exists' % target)
            return self.add(target, body)
        current = self.objects.get(path)
        if current is None:
            raise ApiError(404, 'NotFound', '%s not found' % path)
        wanted = ((body or {}).get('metadata') or {}).get('resourceVersion') or \
            ((body or {}).get('preconditions') or {}).get('resourceVersion')
        if wanted and wanted != current['metadata']['resourceVersion']:
            raise ApiError(409, 'Conflict', 'the object has been modified')
        if method == 'PUT':
            return self.add(path, body)
        del self.objects[path]
        return {}

    @staticmethod
    def _split(path):
        """(API prefix, the rest) of a path: ('api/v1', ['namespaces', 'a', 'secrets', 'x'])."""
        parts = path.strip('/').split('/')
        cut = 2 if parts[0] == 'api' else 3
        return '/'.join(parts[:cut]), parts[cut:]

    def _list(self, path, field_selector):
        """The items of a collection path, or None when path names one object."""
        prefix, rest = self._split(path)
        if len(rest) not in (1, 3):
            return None
        found = []
        for key in sorted(self.objects):
            key_prefix, key_rest = self._split(key)
            if key_prefix != prefix:
                continue
            if rest == ['namespaces']:
                match = len(key_rest) == 2 and key_rest[0] == 'namespaces'
            elif len(rest) == 1:  # cluster-wide list of a namespaced resource
                match = len(key_rest) == 4 and key_rest[0] == 'namespaces' and key_rest[2] == rest[0]
            else:
                match = len(key_rest) == 4 and key_rest[:3] == rest
            if match and (not field_selector or field_selector == 'metadata.name=%s' % key_rest[-1]):
                found.append(copy.deepcopy(self.objects[key]))
        return found


def module_for(spec, args, client, check_mode=False, diff=False, **kwargs):
    """A module frame (test_frame.frame: exit and fail raise Exit and Fail with the result) talking to client."""
    module = frame(dict(args, _ansible_diff=diff), spec, namespaced=True, check_mode=check_mode, **kwargs)
    client.dry_run = module.check_mode
    client.redact = module.redact
    module.client = client
    return module


def run(module, body):
    """('exit' or 'fail', result) of module.run(body)."""
    try:
        module.run(body)
    except Exit as e:
        return 'exit', e.args[0]
    except Fail as e:
        return 'fail', e.args[0]
    raise AssertionError('the module neither exited nor failed')
