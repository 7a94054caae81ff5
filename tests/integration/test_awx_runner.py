"""AWX / Automation Controller's job model: enforce.yml and audit.yml run through ansible-runner with a private
data dir laid out as AWX lays it out (env/envvars with the "OpenShift or Kubernetes API Bearer Token"
credential's variables, env/extravars, env/cmdline, inventory/, project/), a check job with diff (the drift
report) and then a run job. AWX keeps every job event for good, so every file under artifacts/ is scanned for
every credential the jobs were given."""

import base64
import json
import os
import shutil
import stat
import sys

import ansible_runner
import jinja2.sandbox
import yaml

from helpers.runner import BIN, REPO, find_leaks, register_secret

PASSWORD = register_secret("fake-awx-runner-pass-7c1f")
MODULE_AGENT = "ocp.registry_access/"
SECRET = "awx-runner-registry"


def bearer_token_credential(api, cluster, namespace, private_data_dir):
    """The variables AWX's "OpenShift or Kubernetes API Bearer Token" credential injects, for a service account
    that is admin of the namespace only; the CA goes in a file of the private data dir, as AWX writes it."""
    api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "awx"}})
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "awx-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "awx", "namespace": namespace}]})
    ca_file = os.path.join(private_data_dir, "tmp_k8s_ca.crt")
    shutil.copyfile(cluster.ca_cert, ca_file)
    return {"K8S_AUTH_HOST": cluster.server, "K8S_AUTH_API_KEY": register_secret(api.token_for(namespace, "awx")),
            "K8S_AUTH_VERIFY_SSL": "True", "K8S_AUTH_SSL_CA_CERT": ca_file}


def private_data_dir(tmp_path, credential_env):
    """env/, inventory/ and project/ as AWX writes them before it starts ansible-runner."""
    pdd = tmp_path / "pdd"
    for sub in ("env", "inventory"):
        (pdd / sub).mkdir(parents=True, exist_ok=True)
    # The project: the repository's playbooks (AWX checks the project out); the collection is installed
    # where ANSIBLE_COLLECTIONS_PATH points, as AWX installs a project's collections/requirements.yml.
    shutil.copytree(os.path.join(REPO, "playbooks"), str(pdd / "project" / "playbooks"))
    home = tmp_path / "home"
    home.mkdir()
    envvars = dict(credential_env, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                   # nothing else to fall back on: no kubeconfig, no user configuration
                   HOME=str(home), KUBECONFIG=str(home / "no-kubeconfig"),
                   ANSIBLE_NOCOLOR="1")
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (pdd / "inventory" / "hosts").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    return pdd


class _UnsafeText(str):
    """A string AWX writes as !unsafe: an injected credential value, never templated again."""


class _ExtravarsDumper(yaml.SafeDumper):
    pass


_ExtravarsDumper.add_representer(_UnsafeText, lambda dumper, text: dumper.represent_scalar("!unsafe", str(text)))


def run_job(pdd, ident, playbook, extravars, cmdline):
    (pdd / "env" / "extravars").write_text(yaml.dump(extravars, Dumper=_ExtravarsDumper))
    (pdd / "env" / "cmdline").write_text(cmdline)
    # suppress_env_files: AWX's default (AWX_RUNNER_OMIT_ENV_FILES), so the environment with the credential's
    # token is not written under artifacts/.
    return ansible_runner.run(private_data_dir=str(pdd), ident=ident, playbook=playbook, quiet=True,
                              suppress_env_files=True, timeout=900)


def artifact_leaks(pdd):
    """(file, how many credential forms) for each file under artifacts/ that holds a registered credential."""
    hits = []
    for directory, _dirs, files in os.walk(str(pdd / "artifacts")):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                found = find_leaks(f.read().decode("utf-8", "replace"))
            if found:
                hits.append((os.path.relpath(path, str(pdd)), len(found)))
    return hits


def artifact_files(pdd, ident):
    return sorted(os.path.relpath(os.path.join(d, n), str(pdd / "artifacts" / ident))
                  for d, _dirs, files in os.walk(str(pdd / "artifacts" / ident)) for n in files)


def changed_count(result):
    return (result.stats or {}).get("changed", {}).get("localhost", 0)


def reported(result, task_prefix):
    """The msg of the role's safe report task (the enforce task itself is no_log: its event is censored)."""
    [msg] = [e["event_data"]["res"]["msg"] for e in result.events
             if e.get("event") == "runner_on_ok" and e["event_data"].get("task", "").startswith(task_prefix)]
    return msg


def test_enforce_check_job_then_run_job_then_audit_job_as_awx_runs_them(api, audit, cluster, namespace_factory,
                                                                        tmp_path):
    namespace = namespace_factory("awx-runner")
    credential = bearer_token_credential(api, cluster, namespace, str(tmp_path))
    pdd = private_data_dir(tmp_path, credential)
    enforce_vars = {"project_access_pull_secrets": [{
        "name": SECRET, "namespace": namespace, "service_accounts": ["default"],
        "registries": [{"server": "registry.example.com", "username": "awx", "password": PASSWORD}]}]}
    secret_path = "/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET)

    # Check job with diff: the drift report, nothing written.
    with audit.capture() as seen:
        check = run_job(pdd, "check", "playbooks/enforce.yml", enforce_vars, "--check --diff")
    assert (check.status, check.rc) == ("successful", 0), check.stdout.read()[-3000:]
    assert changed_count(check) == 1
    assert [(x["namespace"], x["name"], x["action"], x["registries"]) for x in reported(check, "Report pull secret")] == [
        (namespace, SECRET, "created", ["registry.example.com"])]
    assert [(x["name"], x["action"]) for x in reported(check, "Report service account link")] == [("default", "linked")]
    assert seen.writes(namespaces=[namespace]) == [], seen.summary(seen.writes(namespaces=[namespace]))
    assert api.get_or_none(secret_path) is None

    # Run job: the secret and the service account's link, written as the credential's service account only.
    with audit.capture() as seen:
        run = run_job(pdd, "run", "playbooks/enforce.yml", enforce_vars, "--diff")
    assert (run.status, run.rc) == ("successful", 0), run.stdout.read()[-3000:]
    assert api.get(secret_path)["type"] == "kubernetes.io/dockerconfigjson"
    default_sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    assert {"name": SECRET} in default_sa.get("imagePullSecrets", [])
    writes = seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT)
    assert writes and {e.user for e in writes} == {"system:serviceaccount:%s:awx" % namespace}

    # A second check job: no drift left.
    again = run_job(pdd, "check-again", "playbooks/enforce.yml", enforce_vars, "--check --diff")
    assert (again.status, again.rc) == ("successful", 0)
    assert changed_count(again) == 0

    # Audit job: read-only, its report in the job's working directory.
    report_dir = tmp_path / "reports"
    with audit.capture() as seen:
        audit_job = run_job(pdd, "audit", "playbooks/audit.yml",
                            {"audit_namespaces": [namespace], "audit_include_global": False,
                             "audit_report_dir": str(report_dir)}, "--diff")
    assert (audit_job.status, audit_job.rc) == ("successful", 0), audit_job.stdout.read()[-3000:]
    # the job's own identity wrote nothing anywhere (other xdist workers' module runs write meanwhile, as admin)
    job_user = "system:serviceaccount:%s:awx" % namespace
    writes = [e for e in seen.writes() if e.user == job_user] + seen.writes(namespaces=[namespace])
    assert writes == [], seen.summary(writes)
    report_text = (report_dir / "registry-access-localhost.json").read_text()
    assert SECRET in report_text and "registry.example.com" in report_text

    idents = ("check", "run", "check-again", "audit")
    for ident in idents:
        files = artifact_files(pdd, ident)
        assert "stdout" in files and any(f.startswith("job_events/") for f in files), files
    # ansible-runner records the job's environment in artifacts/<job>/command (mode 0600, not a job event AWX
    # stores): the token AWX injects as K8S_AUTH_API_KEY is there by construction. Every other file, and every
    # other part of that one, holds no credential at all.
    assert sorted(artifact_leaks(pdd)) == sorted((os.path.join("artifacts", ident, "command"), 1) for ident in idents)
    for ident in idents:
        command_file = pdd / "artifacts" / ident / "command"
        assert stat.S_IMODE(os.stat(str(command_file)).st_mode) == 0o600
        recorded = json.loads(command_file.read_text())
        assert recorded["env"].pop("K8S_AUTH_API_KEY") == credential["K8S_AUTH_API_KEY"]
        assert find_leaks(json.dumps(recorded)) == []
    assert find_leaks(report_text) == []
    assert find_leaks(json.dumps([e for job in (check, run, again, audit_job) for e in job.events])) == []


CREDENTIAL_TYPE = os.path.join(REPO, "docs", "awx-credential-type.yml")


def inject_registry_credential(inputs):
    """The extra variables AWX injects for a credential of docs/awx-credential-type.yml: each injector rendered
    with Jinja2 in a sandbox over the credential's inputs, and marked unsafe."""
    with open(CREDENTIAL_TYPE) as f:
        credential_type = yaml.safe_load(f)
    field_ids = {field["id"] for field in credential_type["inputs"]["fields"]}
    assert set(credential_type["inputs"]["required"]) <= field_ids and set(inputs) <= field_ids
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    return {name: _UnsafeText(environment.from_string(template).render(**inputs))
            for name, template in credential_type["injectors"]["extra_vars"].items()}


def test_registry_credential_type_marks_the_password_secret_and_injects_extra_vars_only():
    with open(CREDENTIAL_TYPE) as f:
        credential_type = yaml.safe_load(f)
    secret_fields = [field["id"] for field in credential_type["inputs"]["fields"] if field.get("secret")]
    assert secret_fields == ["password"]
    assert set(credential_type["injectors"]) == {"extra_vars"}  # no env var or file a task could print
    assert inject_registry_credential({"server": "r.example.com", "username": "u", "password": "p"}) == {
        "registry_access_registry_server": "r.example.com", "registry_access_registry_username": "u",
        "registry_access_registry_password": "p", "registry_access_registry_email": ""}


def test_registry_credential_injected_as_awx_does_runs_the_project_access_role(api, cluster, namespace_factory,
                                                                               tmp_path):
    namespace = namespace_factory("awx-regcred")
    pdd = private_data_dir(tmp_path, bearer_token_credential(api, cluster, namespace, str(tmp_path)))
    password = register_secret("fake-awx-credtype-pass-{{ 9d2e }}")  # braces: an unsafe value is not templated
    injected = inject_registry_credential({"server": "creds.example.com", "username": "awx-robot",
                                           "password": password})
    job_vars = {"project_access_pull_secrets": [{
        "name": "from-credential", "namespace": namespace, "service_accounts": ["default"],
        "registries": [{"server": "{{ registry_access_registry_server }}",
                        "username": "{{ registry_access_registry_username }}",
                        "password": "{{ registry_access_registry_password }}"}]}]}
    job = run_job(pdd, "credential", "playbooks/enforce.yml", dict(job_vars, **injected), "--diff")
    assert (job.status, job.rc) == ("successful", 0), job.stdout.read()[-3000:]
    secret = api.get("/api/v1/namespaces/%s/secrets/from-credential" % namespace)
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"]["creds.example.com"]["username"] == "awx-robot"
    assert config["auths"]["creds.example.com"]["password"] == password
    assert base64.b64decode(config["auths"]["creds.example.com"]["auth"]).decode() == "awx-robot:" + password
    leaks = [hit for hit in artifact_leaks(pdd) if not hit[0].endswith(os.sep + "command")]
    assert leaks == []
    recorded = json.loads((pdd / "artifacts" / "credential" / "command").read_text())
    recorded["env"].pop("K8S_AUTH_API_KEY")
    assert find_leaks(json.dumps(recorded)) == []
