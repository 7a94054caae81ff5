"""Test-only simulators of OpenShift controllers that the local cluster does not run."""

import base64
import json
import random
import threading
import time

from helpers.kube import ApiError

LEGACY = "4.15"
BOUND = "4.16"

PULL_SECRET_REF = "openshift.io/internal-registry-pull-secret-ref"
TOKEN_SA_ANNOTATION = "openshift.io/internal-registry-auth-token.service-account"
TOKEN_TYPE_ANNOTATION = "openshift.io/internal-registry-auth-token.binding"
REGISTRY_URLS = ("image-registry.openshift-image-registry.svc:5000",
                 "image-registry.openshift-image-registry.svc.cluster.local:5000")
# what GenerateName appends (k8s.io/apimachinery/pkg/util/rand: consonants and digits, no vowels)
RANDOM_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def fnv1a_32(data):
    h = 2166136261
    for octet in data.encode():
        h ^= octet
        h = (h * 16777619) % (1 << 32)
    return h


def dockercfg_name_prefix(sa_name, max_length=58):
    """What openshift/library-go naming.GetName(sa_name, "dockercfg-", 58) returns.

    "<sa>-dockercfg-" when that fits in 58 characters, otherwise the name cut so that
    "<cut>-<fnv-1a 32 of the whole name, 8 hex digits>-dockercfg-" is exactly 58 long.
    """
    suffix = "dockercfg-"
    joined = sa_name + "-" + suffix
    if len(joined) <= max_length:
        return joined
    keep = max_length - len(suffix) - len("-12345678-")
    return "{}-{:08x}-{}".format(sa_name[:keep], fnv1a_32(sa_name), suffix)


def generated_secret_name(sa_name, rng=random):
    """names.SimpleNameGenerator.GenerateName of that prefix: 5 random characters appended."""
    return dockercfg_name_prefix(sa_name)[:58] + "".join(rng.choice(RANDOM_ALPHABET) for _i in range(5))


class DockercfgProvisioner(threading.Thread):
    """Simulates openshift-controller-manager provisioning each service account's pull secret for the
    integrated image registry, in one namespace, as `version` does it.

    version "4.15" (and earlier; pkg/serviceaccounts/controllers/create_dockercfg_secrets.go): `delay`
    seconds after a service account appears, a `kubernetes.io/dockercfg` Secret named
    `GenerateName(naming.GetName(<sa>, "dockercfg-", 58))` (long names shortened with a hash) is created
    already holding the token (`.dockercfg` with a `serviceaccount` entry per registry URL), then it is
    appended to the service account's `secrets` and `imagePullSecrets` in one read-modify-write that
    carries the read resourceVersion and is retried on 409. Not simulated: the intermediate
    service-account-token Secret, the pending-token annotation and the owner reference to the token.

    version "4.16" (and later; pkg/internalregistry/controllers/service_account_controller.go and
    image_pull_secret_controller.go): `delay` seconds after a service account appears, the service
    account gets the `openshift.io/internal-registry-pull-secret-ref: <name>` annotation and the name in
    `secrets` and `imagePullSecrets` in one write (the real controller sends a server-side apply with the
    resourceVersion; here a PUT with it, retried on 409) - while the Secret does not exist yet. After
    `secret_delay` more seconds the Secret is created, owned by the service account, annotated with
    `openshift.io/internal-registry-auth-token.service-account`, holding only `{}`. After `token_delay`
    more seconds the token is written into it (`{"<url>": {"auth": base64("<token>:" + token)}}` for each
    registry URL) with the `...auth-token.binding: bound` annotation. Not simulated: the TokenRequest
    (the token is the fake `token` value), token refresh, and reusing a legacy secret after an upgrade.

    In both versions, `provisioned[sa]` is the secret's name once the service account references it and
    `ready[sa]` is set once the Secret holds its token. The thread stops when told or after `lifetime`
    seconds.
    """

    def __init__(self, api, namespace, delay=1.5, lifetime=120, version=LEGACY, secret_delay=1.5, token_delay=1.5,
                 token="fake-sa-registry-token-5d0c", only=None):
        super().__init__(daemon=True)
        if version not in (LEGACY, BOUND):
            raise ValueError("version must be %r or %r" % (LEGACY, BOUND))
        self.api = api.with_token(api.token, user_agent="openshift-controller-manager-simulator")
        self.namespace = namespace
        self.delay = delay
        self.lifetime = lifetime
        self.version = version
        self.secret_delay = secret_delay
        self.token_delay = token_delay
        self.token = token
        self.only = set(only) if only else None
        self.first_seen = {}
        self.provisioned = {}
        self.linked_at = {}
        self.secret_created_at = {}
        self.ready = {}
        self.conflicts = 0
        self.errors = []
        self.random = random.Random()
        self._stop_event = threading.Event()

    def stop(self):
        self._stop_event.set()
        self.join(10)

    def run(self):
        end = time.time() + self.lifetime
        while not self._stop_event.is_set() and time.time() < end:
            try:
                self._sync_all()
            except ApiError as e:
                if e.status != 404:  # the namespace went away at the end of a test
                    self.errors.append(str(e))
            time.sleep(0.1)

    def _sync_all(self):
        sas = self.api.get("/api/v1/namespaces/%s/serviceaccounts" % self.namespace)["items"]
        now = time.time()
        for sa in sas:
            name = sa["metadata"]["name"]
            if self.only is not None and name not in self.only:
                continue
            self.first_seen.setdefault(name, now)
            if now - self.first_seen[name] < self.delay:
                continue
            if self.version == LEGACY:
                if name not in self.provisioned:
                    self._legacy(name)
            else:
                self._bound(sa, now)

    # -- up to 4.15 ----------------------------------------------------------------------------

    def _legacy(self, name):
        secret = generated_secret_name(name, self.random)
        document = dict((url, {"username": "serviceaccount", "password": self.token,
                               "email": "serviceaccount@example.org"}) for url in REGISTRY_URLS)
        self.api.create("/api/v1/namespaces/%s/secrets" % self.namespace, {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockercfg",
            "metadata": {"name": secret, "annotations": {"kubernetes.io/service-account.name": name}},
            "data": {".dockercfg": base64.b64encode(json.dumps(document).encode()).decode()}})
        self.ready[name] = secret
        self._link(name, secret)

    def _link(self, name, secret, annotate=False):
        path = "/api/v1/namespaces/%s/serviceaccounts/%s" % (self.namespace, name)
        while True:
            sa = self.api.get(path)
            for field in ("imagePullSecrets", "secrets"):
                if {"name": secret} not in (sa.get(field) or []):
                    sa[field] = (sa.get(field) or []) + [{"name": secret}]
            if annotate:
                sa["metadata"].setdefault("annotations", {})[PULL_SECRET_REF] = secret
            try:
                self.api.replace(path, sa)  # carries the read resourceVersion
                self.provisioned[name] = secret
                self.linked_at[name] = time.time()
                return sa
            except ApiError as e:
                if e.status != 409:
                    raise
                self.conflicts += 1

    # -- 4.16 and later -------------------------------------------------------------------------

    def _bound(self, sa, now):
        name = sa["metadata"]["name"]
        if name not in self.provisioned:
            secret = (sa["metadata"].get("annotations") or {}).get(PULL_SECRET_REF) or generated_secret_name(name, self.random)
            self._link(name, secret, annotate=True)
            return
        secret = self.provisioned[name]
        if name not in self.secret_created_at:
            if now - self.linked_at[name] >= self.secret_delay:
                self.api.create("/api/v1/namespaces/%s/secrets" % self.namespace, {
                    "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockercfg",
                    "metadata": {"name": secret, "annotations": {TOKEN_SA_ANNOTATION: name},
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "ServiceAccount", "name": name,
                                                      "uid": sa["metadata"]["uid"]}]},
                    "data": {".dockercfg": base64.b64encode(b"{}").decode()}})
                self.secret_created_at[name] = time.time()
            return
        if name not in self.ready and now - self.secret_created_at[name] >= self.token_delay:
            path = "/api/v1/namespaces/%s/secrets/%s" % (self.namespace, secret)
            obj = self.api.get(path)
            auth = base64.b64encode(("<token>:" + self.token).encode()).decode()
            obj["data"] = {".dockercfg": base64.b64encode(json.dumps(
                dict((url, {"auth": auth}) for url in REGISTRY_URLS)).encode()).decode()}
            obj["metadata"].setdefault("annotations", {})[TOKEN_TYPE_ANNOTATION] = "bound"
            self.api.replace(path, obj)
            self.ready[name] = secret
