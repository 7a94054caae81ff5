"""The floor (d) of make bench: the job with only the requests that are strictly needed.

One unpaged list per kind (namespaces by label, then secrets, service accounts and role
bindings, the three lists at once), then only the missing writes, in parallel, through the collection's own
client (same connection code, user agent, pool size and parallelism as the modules). No
validation, no diff, no result: what any tool doing this job must at least send.

Usage: floor.py JOB.json    (written by bench.py: kubeconfig, selector, secret, registries, source)
"""

import base64
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, ".build", "collections"))

from ansible_collections.ocp.registry_access.plugins.module_utils._cluster import (  # noqa: E402
    Client, resolve_connection, resource_path,
)

RBAC = "rbac.authorization.k8s.io"
ROLE = "system:image-puller"


def dockerconfigjson(registries):
    auths = {}
    for reg in registries:
        pair = "%s:%s" % (reg["username"], reg["password"])
        auths[reg["server"]] = {"username": reg["username"], "password": reg["password"],
                                "auth": base64.b64encode(pair.encode()).decode()}
    return json.dumps({"auths": auths}, separators=(",", ":"))


def holds(secret, config):
    try:
        raw = base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
        return secret.get("type") == "kubernetes.io/dockerconfigjson" and json.loads(raw) == json.loads(config)
    except (KeyError, TypeError, ValueError):
        return False


def grants(bindings, group):
    return any(b["roleRef"].get("kind") == "ClusterRole" and b["roleRef"].get("name") == ROLE
               and any(s.get("kind") == "Group" and s.get("name") == group for s in b.get("subjects") or [])
               for b in bindings)


def main(job_file):
    with open(job_file) as f:
        job = json.load(f)
    client = Client(resolve_connection({"kubeconfig": job["kubeconfig"]}))
    secret_name, group = job["secret"], "system:serviceaccounts:" + job["source"]
    config = dockerconfigjson(job["registries"])

    def items(path, **query):
        # One unpaged list per kind: the fewest requests (the client's list() pages by 500).
        return client.request("GET", path, query=query)["items"]

    namespaces = [ns["metadata"]["name"] for ns in items("/api/v1/namespaces", labelSelector=job["selector"])]
    wanted = set(namespaces)
    secrets, accounts, bindings = client.parallel(lambda args: items(args[0], **args[1]), [
        ("/api/v1/secrets", {"fieldSelector": "metadata.name=" + secret_name}),
        ("/api/v1/serviceaccounts", {"fieldSelector": "metadata.name=default"}),
        (resource_path("rolebindings", group=RBAC), {}),
    ])
    for result in (secrets, accounts, bindings):
        if isinstance(result, Exception):
            raise result
    secret_by_ns = dict((s["metadata"]["namespace"], s) for s in secrets if s["metadata"]["namespace"] in wanted)
    account_by_ns = dict((a["metadata"]["namespace"], a) for a in accounts if a["metadata"]["namespace"] in wanted)
    bindings_by_ns = {}
    for b in bindings:
        bindings_by_ns.setdefault(b["metadata"]["namespace"], []).append(b)

    writes = []
    for ns in namespaces:
        secret = secret_by_ns.get(ns)
        if secret is None or not holds(secret, config):
            body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                    "metadata": {"name": secret_name, "namespace": ns},
                    "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()}}
            if secret is None:
                writes.append(("POST", resource_path("secrets", ns), body))
            else:
                body["metadata"]["resourceVersion"] = secret["metadata"]["resourceVersion"]
                writes.append(("PUT", resource_path("secrets", ns, secret_name), body))
        account = account_by_ns[ns]
        linked = [ref.get("name") for ref in account.get("imagePullSecrets") or []]
        if secret_name not in linked:
            account = dict(account, imagePullSecrets=(account.get("imagePullSecrets") or []) + [{"name": secret_name}])
            writes.append(("PUT", resource_path("serviceaccounts", ns, "default"), account))
        if not grants(bindings_by_ns.get(ns, []), group):
            writes.append(("POST", resource_path("rolebindings", ns, group=RBAC), {
                "apiVersion": RBAC + "/v1", "kind": "RoleBinding",
                "metadata": {"name": ROLE, "namespace": ns},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": ROLE},
                "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": group}]}))

    failed = [r for r in client.parallel(lambda w: client.request(*w), writes) if isinstance(r, Exception)]
    for error in failed[:5]:
        print("error: %s" % error, file=sys.stderr)
    print(json.dumps({"namespaces": len(namespaces), "writes": len(writes), "failed": len(failed)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
