"""Pods on the test node (tests/node/node.py) and what their pulls came to.

No scheduler and no CNI run in the test bed: pods are `hostNetwork: true` with `nodeName` set, so
the kubelet takes them at once. A pod's outcome is read from the server (its container status and
its events), never guessed: Running, or waiting with ErrImagePull / ImagePullBackOff and the
kubelet's event saying what the registry answered.
"""

import json
import os
import shutil
import subprocess
import time

from helpers.kube import unique
from helpers.registry import Registry
from helpers.runner import register_secret

PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")
REGISTRY_USER = "fake-node-registry-user"
REGISTRY_PASSWORD = register_secret("fake-node-registry-pass-7c21")
IMAGE_REPOSITORY = "pulltest/app"


def pod_manifest(name, image, node_name, pull_policy="Always", image_pull_secrets=None, service_account=None):
    spec = {
        "nodeName": node_name, "hostNetwork": True, "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0, "automountServiceAccountToken": False,
        "tolerations": [{"operator": "Exists"}],
        "containers": [{"name": "app", "image": image, "imagePullPolicy": pull_policy,
                        "env": [{"name": "TEST_IMAGE_NAME", "value": image}]}],
    }
    if image_pull_secrets is not None:
        spec["imagePullSecrets"] = [{"name": n} for n in image_pull_secrets]
    if service_account:
        spec["serviceAccountName"] = service_account
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "pull-test"}}, "spec": spec}


def create_pod(api, namespace, name, image, node_name, **kwargs):
    return api.create("/api/v1/namespaces/%s/pods" % namespace, pod_manifest(name, image, node_name, **kwargs))


def pod_events(api, namespace, name):
    events = api.get("/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name=%s" % (namespace, name))["items"]
    return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


class PullOutcome(object):
    """What happened to a pod's pull: phase "Running" or "PullFailed" (with the kubelet's events)."""

    def __init__(self, phase, pod, events, seconds):
        self.phase = phase
        self.pod = pod
        self.events = events
        self.seconds = seconds

    @property
    def failure_messages(self):
        return [e.get("message", "") for e in self.events if e.get("reason") == "Failed"]

    def describe(self):
        status = self.pod.get("status", {})
        return json.dumps({"phase": self.phase, "podPhase": status.get("phase"),
                           "containerStatuses": status.get("containerStatuses"),
                           "events": [(e.get("reason"), e.get("message")) for e in self.events]}, indent=1)[-4000:]


def wait_for_pull(api, namespace, name, timeout=60):
    """Waits until the pod's container runs or its pull has failed; returns a PullOutcome."""
    path = "/api/v1/namespaces/%s/pods/%s" % (namespace, name)
    start = time.time()
    created = None
    while True:
        pod = api.get(path)
        if created is None:
            created = time.time()
        statuses = pod.get("status", {}).get("containerStatuses") or []
        state = statuses[0].get("state", {}) if statuses else {}
        if "running" in state or "terminated" in state and state["terminated"].get("exitCode") == 0:
            return PullOutcome("Running", pod, pod_events(api, namespace, name), time.time() - start)
        if state.get("waiting", {}).get("reason") in PULL_FAILURES:
            events = pod_events(api, namespace, name)
            if any(e.get("reason") == "Failed" for e in events):
                return PullOutcome("PullFailed", pod, events, time.time() - start)
        if time.time() - start > timeout:
            return PullOutcome("Timeout", pod, pod_events(api, namespace, name), time.time() - start)
        time.sleep(0.2)


def delete_pod(api, namespace, name):
    api.request("DELETE", "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0" % (namespace, name), ok=(200, 202, 404))


def container_log(pod, pods_log_root="/var/log/pods"):
    """The container's log as the kubelet wrote it on the node (no API round trip through the node's address)."""
    meta = pod["metadata"]
    directory = os.path.join(pods_log_root, "%s_%s_%s" % (meta["namespace"], meta["name"], meta["uid"]), "app")
    text = ""
    for _attempt in range(25):
        if os.path.isdir(directory):
            for name in sorted(os.listdir(directory)):
                with open(os.path.join(directory, name), errors="replace") as f:
                    text += f.read()
        if text:
            return text
        time.sleep(0.2)
    return text


class RotatableRegistry(Registry):
    """The tests' docker-registry whose passwords can be changed: distribution 2.8 reads htpasswd only at
    start, so rotate() rewrites it and restarts the registry on the same port with the same storage."""

    def rotate(self, users):
        self.users = dict(users)
        port = self.port
        self.stop()
        htpasswd = self._write_htpasswd()
        self.port = port
        config = self._write_config(htpasswd)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([shutil.which("docker-registry") or "/usr/bin/docker-registry", "serve", config],
                                        stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, cwd=self.dir)
        self._wait_ready()


def start_registry(node, tmp_path, users, image_layout, push_as):
    """A registry holding the test image at IMAGE_REPOSITORY:latest (pushed as push_as), trusted by the node."""
    registry = RotatableRegistry(tmp_path, users).start()
    user, password = push_as
    registry.push(image_layout, IMAGE_REPOSITORY + ":latest", user, password)
    node.trust_registry(registry.host, registry.ca_cert)
    return registry


def start_pod(api, namespace, node, image, policy="Always", service_account=None):
    name = unique("pull")
    pod = create_pod(api, namespace, name, image, node.name, pull_policy=policy, service_account=service_account)
    return name, pod


# Pods whose kubelet could not read their pull secrets at first (see pull_once), as (namespace, pod).
SECRET_RACES = []
SECRET_RACE_TRIES = 4


def pull_once(api, namespace, node, image, policy="Always", service_account=None):
    """A new pod with this image, waited for until it runs or its pull fails: (name, PullOutcome).

    Right after a pod is created, the Node authorizer may not have linked it to its pull secrets yet: the
    kubelet's read is refused, it warns FailedToRetrieveImagePullSecret and pulls without them. Such an
    outcome says nothing about the credentials (a refusal would pass a negative test for the wrong reason),
    so that pod is deleted and a new one started, up to SECRET_RACE_TRIES times; SECRET_RACES counts them.
    """
    for _attempt in range(SECRET_RACE_TRIES):
        name, _pod = start_pod(api, namespace, node, image, policy, service_account)
        outcome = wait_for_pull(api, namespace, name)
        if not any(e.get("reason") == "FailedToRetrieveImagePullSecret" for e in outcome.events):
            return name, outcome
        SECRET_RACES.append((namespace, name))
        delete_pod(api, namespace, name)
        time.sleep(0.5)
    raise AssertionError("the kubelet could not read the pull secrets of %d pods in a row in %s:\n%s"
                         % (SECRET_RACE_TRIES, namespace, outcome.describe()))


def assert_runs(api, namespace, node, image, timings=None, policy="Always", service_account=None, keep=False):
    """A new pod with this image runs on the node (its container printed its line); returns its PullOutcome.
    The pod is deleted unless keep."""
    name, outcome = pull_once(api, namespace, node, image, policy, service_account)
    assert outcome.phase == "Running", "pod %s/%s did not run:\n%s" % (namespace, name, outcome.describe())
    if timings is not None:
        timings.append(outcome.seconds)
    assert "ocp-registry-access test image %s running" % image in container_log(outcome.pod)
    if not keep:
        delete_pod(api, namespace, name)
    return outcome


def assert_refused_401(api, namespace, node, image, policy="Always", service_account=None):
    """A new pod with this image fails to pull with the registry's 401 in its events; returns its PullOutcome."""
    name, outcome = pull_once(api, namespace, node, image, policy, service_account)
    assert outcome.phase == "PullFailed", "pod %s/%s was not refused:\n%s" % (namespace, name, outcome.describe())
    messages = outcome.failure_messages
    assert any("401 Unauthorized" in m for m in messages), "no 401 from the registry in the pod's events:\n%s" % (
        outcome.describe())
    reason = outcome.pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
    assert reason in ("ErrImagePull", "ImagePullBackOff")
    delete_pod(api, namespace, name)
    return outcome


def image_on_node(node, image):
    return image in node.ctr("images", "ls", "-q").stdout.split()


def pulled_with(image, records_dir="/var/lib/kubelet/image_manager/pulled"):
    """(namespace, secret name) of every Kubernetes secret the kubelet recorded a successful pull of image's
    repository with: the records of KubeletEnsureSecretPulledImages, which decide whether a pod may use the
    image already on the node without pulling."""
    path, _slash, last = image.rpartition("/")
    repository = path + "/" + last.split("@", 1)[0].split(":", 1)[0]  # without tag or digest
    found = set()
    if not os.path.isdir(records_dir):
        return found
    for name in os.listdir(records_dir):
        with open(os.path.join(records_dir, name)) as f:
            record = json.load(f)
        for secret in record.get("credentialMapping", {}).get(repository, {}).get("kubernetesSecrets", []):
            found.add((secret["namespace"], secret["name"]))
    return found
