"""Test-only simulator of the machine config daemon's part of a global pull secret rollout, on the test node.

On OpenShift the global pull secret (openshift-config/pull-secret) is part of every rendered
MachineConfig; when a pool moves to a new rendered config, the machine config daemon on each node
writes the secret's document to /var/lib/kubelet/config.json, where the node's container runtime
and the kubelet read it. This thread does that for the test node (tests/node/node.py): it watches
one MachineConfigPool (as tests/helpers/mco.py's MCO simulator renders it) and, each time the
pool's spec.configuration.name changes, writes the secret's current `.dockerconfigjson` to the
node's config.json and restarts the kubelet, whose node keyring caches that file for five minutes
(pkg/credentialprovider: CachingDockerConfigProvider) where CRI-O on OpenShift re-reads it on
every pull. `applied` maps each rendered config name to the time the node had it.

Difference from OpenShift to keep in mind: here the kubelet's keyring (credentialprovider
semantics) reads the node's config.json, since containerd 1.6 has no global auth file; on OpenShift
CRI-O (containers/image semantics) reads it too.

stop() removes the file and restarts the kubelet, so later tests find the node without node-wide
credentials.
"""

import base64
import os
import threading
import time

POOLS_PATH = "/apis/machineconfiguration.openshift.io/v1/machineconfigpools"


class NodeConfigWriter(threading.Thread):
    def __init__(self, api, node, pool="worker", namespace="openshift-config", name="pull-secret", poll=0.1):
        super().__init__(daemon=True)
        self.api = api.with_token(api.token, user_agent="machine-config-daemon-simulator")
        self.node = node
        self.pool_path = "%s/%s" % (POOLS_PATH, pool)
        self.secret_path = "/api/v1/namespaces/%s/secrets/%s" % (namespace, name)
        self.poll = poll
        self.applied = {}
        self.errors = []
        self._stop_event = threading.Event()
        self._current = self._rendered()

    def _rendered(self):
        return (self.api.get(self.pool_path).get("spec", {}).get("configuration") or {}).get("name")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def run(self):
        while not self._stop_event.is_set():
            try:
                rendered = self._rendered()
                if rendered and rendered != self._current:
                    self._apply(rendered)
            except Exception as e:  # pylint: disable=broad-except
                # reported to the test through self.errors
                self.errors.append(repr(e))
            time.sleep(self.poll)

    def _apply(self, rendered):
        secret = self.api.get(self.secret_path)
        document = base64.b64decode(secret["data"][".dockerconfigjson"])
        self._write(document)
        self.node.restart_kubelet()
        self._current = rendered
        self.applied[rendered] = time.time()

    def _write(self, document):
        path = self.node.config_json
        with open(path + ".tmp", "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(document)
        os.rename(path + ".tmp", path)

    def wait_applied(self, rendered, timeout=60):
        deadline = time.time() + timeout
        while rendered not in self.applied:
            if self.errors:
                raise AssertionError("node config writer failed: %s" % self.errors)
            if time.time() > deadline:
                raise AssertionError("the node did not apply %s in %ds (applied: %s)" % (rendered, timeout, self.applied))
            time.sleep(0.1)

    def stop(self):
        self._stop_event.set()
        self.join(30)
        if os.path.exists(self.node.config_json):
            os.remove(self.node.config_json)
            self.node.restart_kubelet()
