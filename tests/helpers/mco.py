"""Test-only simulator of the Machine Config Operator's rollout of a changed global pull secret."""

import contextlib
import fcntl
import hashlib
import threading
import time

from helpers.kube import ApiError

POOLS_PATH = "/apis/machineconfiguration.openshift.io/v1/machineconfigpools"


@contextlib.contextmanager
def cluster_config_lock(cluster):
    """Held while a test changes cluster-wide configuration (the global pull secret, Infrastructure, the pools).

    One lock file beside the cluster directory, shared by every pytest-xdist worker, so such tests run
    one at a time whatever the scheduler does (--dist loadgroup is not honoured by pytest-xdist 3.8 on
    pytest 9: its group suffix goes to a node id attribute pytest 9 no longer reads).
    """
    with open(cluster.dir + ".cluster-config.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _conditions(updated, updating, degraded, message=""):
    conditions = [{"type": "Updated", "status": updated, "reason": "", "message": ""},
                  {"type": "Updating", "status": updating, "reason": "", "message": ""},
                  {"type": "Degraded", "status": degraded, "reason": "", "message": message}]
    if degraded == "True":
        conditions.append({"type": "NodeDegraded", "status": "True", "reason": "1 nodes are reporting degraded status",
                           "message": message})
    return conditions


class MachineConfigOperator(threading.Thread):
    """Simulates how the Machine Config Operator rolls a changed global pull secret out to the nodes.

    On OpenShift, the MCO renders a new MachineConfig for every MachineConfigPool when
    openshift-config/pull-secret changes (the secret is part of every rendered config), points the
    pool's spec.configuration.name at it (a spec change, so metadata.generation grows), and the
    machine config daemons update the machines one by one; the pool's status goes from
    Updated=True to Updating=True (updatedMachineCount 0) and back to Updated=True once
    status.configuration.name is the new rendered config on every machine.

    This thread polls the secret's resourceVersion (every `poll` seconds) and, on each change, does
    the same to every pool: the spec update at once, status Updating after `step` seconds and
    status Updated after another `step` seconds. Status is written through the status subresource,
    as the MCO does. `degrade="worker"` makes that pool end Degraded=True (and NodeDegraded=True)
    with `degrade_message` instead; `slow=True` leaves every pool Updating (for timeout tests).

    stop() (or leaving the `with` block) puts every pool back into a settled Updated state for its
    current spec, so later tests find the pools as the local cluster set them up.
    """

    def __init__(self, api, namespace="openshift-config", name="pull-secret", step=0.3, degrade=None,
                 degrade_message="Node worker-1 is reporting: \"failed to apply the pull secret\"", slow=False, poll=0.1):
        super().__init__(daemon=True)
        self.api = api.with_token(api.token, user_agent="machine-config-operator-simulator")
        self.secret_path = "/api/v1/namespaces/%s/secrets/%s" % (namespace, name)
        self.step = step
        self.degrade = degrade
        self.degrade_message = degrade_message
        self.slow = slow
        self.poll = poll
        self.rendered = []  # (pool, rendered config name) for every config rendered
        self.errors = []
        self._pending = {}  # pool -> (phase, due time, rendered name)
        self._stop_event = threading.Event()
        self._last_version = self.api.get(self.secret_path)["metadata"]["resourceVersion"]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop_event.set()
        self.join(30)
        self.settle()

    def run(self):
        while not self._stop_event.is_set():
            try:
                self._tick()
            except Exception as e:  # pylint: disable=broad-except
                # reported to the test through self.errors
                self.errors.append(repr(e))
            time.sleep(self.poll)

    def _tick(self):
        version = self.api.get(self.secret_path)["metadata"]["resourceVersion"]
        if version != self._last_version:
            self._last_version = version
            for pool in self.api.get(POOLS_PATH)["items"]:
                self._render(pool["metadata"]["name"], version)
        now = time.time()
        for pool_name, (phase, due, rendered) in list(self._pending.items()):
            if now < due:
                continue
            if phase == "render":
                self._write_status(pool_name, "updating")
                self._pending[pool_name] = ("updating", now + (3600 if self.slow else self.step), rendered)
            else:
                self._write_status(pool_name, "degraded" if pool_name == self.degrade else "updated")
                del self._pending[pool_name]

    def _render(self, pool_name, version):
        digest = hashlib.sha256(("%s/%s/%d" % (pool_name, version, len(self.rendered))).encode()).hexdigest()[:32]
        rendered = "rendered-%s-%s" % (pool_name, digest)
        path = "%s/%s" % (POOLS_PATH, pool_name)
        self._update(path, lambda pool: pool.setdefault("spec", {}).setdefault("configuration", {}).update(name=rendered))
        self.rendered.append((pool_name, rendered))
        self._pending[pool_name] = ("render", time.time() + self.step, rendered)

    def _write_status(self, pool_name, phase):
        def mutate(pool):
            status = pool.setdefault("status", {})
            machines = status.get("machineCount", 0)
            status["observedGeneration"] = pool["metadata"]["generation"]
            if phase == "updating":
                status.update(updatedMachineCount=0, conditions=_conditions("False", "True", "False"))
            elif phase == "degraded":
                status.update(updatedMachineCount=max(0, machines - 1), degradedMachineCount=1,
                              conditions=_conditions("False", "True", "True", self.degrade_message))
            else:
                status.update(configuration={"name": pool["spec"]["configuration"]["name"]}, updatedMachineCount=machines,
                              readyMachineCount=machines, degradedMachineCount=0, unavailableMachineCount=0,
                              conditions=_conditions("True", "False", "False"))
        self._update("%s/%s/status" % (POOLS_PATH, pool_name), mutate)

    def _update(self, path, mutate):
        """Read-modify-write with the read resourceVersion, as controllers do; retried on 409."""
        for _attempt in range(20):
            pool = self.api.get(path)
            mutate(pool)
            try:
                return self.api.replace(path, pool)
            except ApiError as e:
                if e.status != 409:
                    raise
        raise AssertionError("kept conflicting on %s" % path)

    def settle(self):
        """Every pool Updated for its current spec (what a finished rollout leaves)."""
        self._pending.clear()
        for pool in self.api.get(POOLS_PATH)["items"]:
            self._write_status(pool["metadata"]["name"], "updated")
