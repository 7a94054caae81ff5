"""Test-only simulators of OpenShift controllers that the local cluster does not run."""

import random
import string
import threading
import time

from helpers.kube import ApiError


class DockercfgProvisioner(threading.Thread):
    """Simulates OpenShift's service account pull secret controller (openshift-controller-manager).

    On OpenShift before 4.16, a moment after a service account appears the controller creates a
    `<sa>-dockercfg-xxxxx` secret for the integrated registry and links it into the service
    account's `imagePullSecrets` and `secrets` with its own read-modify-write. This thread does the
    same (without the token secret itself) for every service account of one namespace, after
    `delay` seconds, retrying on 409 like the real controller. It stops when told or after
    `lifetime` seconds.
    """

    def __init__(self, api, namespace, delay=1.5, lifetime=120):
        super().__init__(daemon=True)
        self.api = api.with_token(api.token, user_agent="openshift-controller-manager-simulator")
        self.namespace = namespace
        self.delay = delay
        self.lifetime = lifetime
        self.first_seen = {}
        self.provisioned = {}
        self.conflicts = 0
        self._stop_event = threading.Event()

    def stop(self):
        self._stop_event.set()
        self.join(10)

    def run(self):
        end = time.time() + self.lifetime
        while not self._stop_event.is_set() and time.time() < end:
            sas = self.api.get("/api/v1/namespaces/%s/serviceaccounts" % self.namespace)["items"]
            now = time.time()
            for sa in sas:
                name = sa["metadata"]["name"]
                self.first_seen.setdefault(name, now)
                if name not in self.provisioned and now - self.first_seen[name] >= self.delay:
                    self._provision(name)
            time.sleep(0.1)

    def _provision(self, name):
        secret = "%s-dockercfg-%s" % (name, "".join(random.choice(string.ascii_lowercase) for _letter in range(5)))
        path = "/api/v1/namespaces/%s/serviceaccounts/%s" % (self.namespace, name)
        while True:
            sa = self.api.get(path)
            for field in ("imagePullSecrets", "secrets"):
                sa[field] = (sa.get(field) or []) + [{"name": secret}]
            try:
                self.api.replace(path, sa)  # carries the read resourceVersion
                self.provisioned[name] = secret
                return
            except ApiError as e:
                if e.status != 409:
                    raise
                self.conflicts += 1
