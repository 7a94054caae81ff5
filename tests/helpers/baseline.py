"""The cluster-wide configuration a test may rely on: put in place at its start, what it found put back at its end.

The local cluster starts with the OpenShift objects of tests/cluster/openshift/objects and the statuses of
cluster.seeded_statuses(). Anything may have changed them since: `make demo` adds entries to the global pull
secret, an interrupted test leaves a pool Updating or the Infrastructure External, another suite leaves backups.
`seeded_cluster_config` takes the cluster-config lock (one such test at a time across xdist workers), records
what it finds, puts the seeded state in place (no backups of the global pull secret), and on the way out, also
after a failure, restores the record: objects, statuses, and the backups it found, without those the test made.
Tests that change or read cluster-wide configuration use it through their fixtures instead of assuming what an
earlier command left.
"""

import base64
import contextlib
import copy
import glob
import os
import urllib.parse

import yaml

from cluster import HERE, seeded_statuses
from helpers.kube import ApiError
from helpers.mco import cluster_config_lock

OBJECTS_DIR = os.path.join(HERE, "openshift", "objects")
SECRETS = "/api/v1/namespaces/openshift-config/secrets/"
PULL_SECRET = SECRETS + "pull-secret"
BACKUPS = "/api/v1/namespaces/openshift-config/secrets?labelSelector=" + urllib.parse.quote(
    "ocp-registry-access/backup-of=pull-secret")
SEEDED_KINDS = {  # kind -> API path of a named object
    "Secret": "/api/v1/namespaces/{namespace}/secrets/{name}",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
    "MachineConfigPool": "/apis/machineconfiguration.openshift.io/v1/machineconfigpools/{name}",
    "Infrastructure": "/apis/config.openshift.io/v1/infrastructures/{name}",
}
OWN_FIELDS = ("metadata", "status", "kind", "apiVersion")  # not restored from a record: the server owns them


def seeded_objects():
    """API path -> the seeded object (stringData folded into data as the API server does)."""
    objects = {}
    for path in sorted(glob.glob(os.path.join(OBJECTS_DIR, "*.yaml"))):
        with open(path) as f:
            for obj in yaml.safe_load_all(f):
                if not obj or obj["kind"] not in SEEDED_KINDS:
                    continue
                obj = copy.deepcopy(obj)
                if "stringData" in obj:
                    obj.setdefault("data", {}).update(
                        {k: base64.b64encode(v.encode()).decode() for k, v in obj.pop("stringData").items()})
                objects[SEEDED_KINDS[obj["kind"]].format(**obj["metadata"])] = obj
    return objects


def _backups(api):
    return {s["metadata"]["name"]: s for s in api.get(BACKUPS)["items"]}


def _put(api, path, mutate):
    """Read-modify-write of one object (or its status), retried on 409: controllers and simulators write too."""
    for _attempt in range(20):
        current = api.get(path)
        mutate(current)
        status, body = api.raw("PUT", path, current)
        if status == 200:
            return
        if status != 409:
            raise ApiError(status, str(body))
    raise AssertionError("kept conflicting on %s" % path)


def _copy_content(source):
    def mutate(current):
        for field in set(current) - set(OWN_FIELDS):
            if field not in source:
                del current[field]
        for field, value in source.items():
            if field not in OWN_FIELDS:
                current[field] = copy.deepcopy(value)
        current["metadata"]["labels"] = dict(source.get("metadata", {}).get("labels") or {})
    return mutate


def _copy_status(status, settle_generation=False):
    def mutate(current):
        current["status"] = copy.deepcopy(status)
        if settle_generation and "observedGeneration" in current["status"]:
            # a spec change since the start raised metadata.generation: seeded means settled on the current spec
            current["status"]["observedGeneration"] = current["metadata"]["generation"]
            current["status"]["configuration"] = {"name": current["spec"]["configuration"]["name"]}
    return mutate


def snapshot(api):
    """What the test found: each seeded object and status as the server holds it, and the backups present."""
    objects = {path: api.get(path) for path in seeded_objects()}
    statuses = {}
    for path in seeded_statuses():
        found = api.get(path)
        status = found.get("status", {})
        statuses[path] = (status, status.get("observedGeneration") == found["metadata"].get("generation"))
    return objects, statuses, _backups(api)


def put_seeded(api):
    for name in _backups(api):  # a seeded cluster has none: a test counting backups must see only its own
        api.delete(SECRETS + name)
    for path, obj in seeded_objects().items():
        _put(api, path, _copy_content(obj))
    for path, status in seeded_statuses().items():
        _put(api, path, _copy_status(status, settle_generation=True))


def restore(api, record):
    objects, statuses, backups = record
    for path, obj in objects.items():
        _put(api, path, _copy_content(obj))
    for path, (status, settled) in statuses.items():
        # restoring a pool's spec raised its generation again: a pool found settled is put back settled
        _put(api, path, _copy_status(status, settle_generation=settled))
    present = _backups(api)
    for name in set(present) - set(backups):
        api.delete(SECRETS + name)
    for name in set(backups) - set(present):
        backup = copy.deepcopy(backups[name])
        backup["metadata"] = {k: v for k, v in backup["metadata"].items() if k in ("name", "labels", "annotations")}
        api.create(SECRETS.rstrip("/"), backup)


@contextlib.contextmanager
def seeded_cluster_config(api, cluster):
    """The seeded cluster-wide configuration for the duration of the block; what was found restored after."""
    with cluster_config_lock(cluster):
        record = snapshot(api)
        try:
            put_seeded(api)
            yield api.get(PULL_SECRET)
        finally:
            restore(api, record)
