"""No leak: every credential used in the session is collected (helpers.runner.register_secret), and all
output of the session is scanned for it, raw, JSON-escaped and base64-encoded at any alignment.

- The scanner is shown to find what it must find (a planted credential in each form it can take).
- The whole story runs at -vvvv, in check mode and for real, with diffs, failures and warnings:
  every module, both roles and both playbooks, the audit role writing its JSON and Markdown reports.
- The last test of the session scans everything once more (run outputs, pytest's reports, the audit
  role's report files) for every credential registered by then; the session hook repeats that scan
  after the last test and fails the session on any hit.
"""

import base64
import json

import pytest

from helpers.baseline import seeded_cluster_config
from helpers import runner
from helpers.runner import register_secret, run_module, run_playbook

PASSWORD = register_secret("fake-rel-leak-pass-<&>-7d21")
TOKEN = register_secret("fake-rel-leak-identity-token-4a9e")
AUTH_USER = "leak-robot"
AUTH = register_secret(base64.b64encode(("%s:%s" % (AUTH_USER, "fake-rel-leak-auth-pass-c3f0")).encode()).decode())
register_secret("fake-rel-leak-auth-pass-c3f0")
SERVER_PASSWORD = register_secret("fake-rel-leak-global-pass-91aa")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_find_leaks_finds_a_planted_credential_in_every_form():
    planted = "fake-planted-credential-<&>-5e6f"
    document = json.dumps({"auths": {"quay.io": {"username": "u", "password": planted, "auth": b64("u:" + planted)}}})
    forms = {
        "raw": "msg: login with %s failed" % planted,
        "python json": json.dumps({"password": planted}),
        "go json": '{"password":"%s"}' % planted.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        "base64 alone": b64(planted),
        "auth field": b64("some-user:" + planted),
        "secret data, aligned 0": b64(document),
        "secret data, aligned 1": b64("x" + document),
        "secret data, aligned 2": b64("xy" + document),
    }
    assert runner.find_leaks("\n".join(forms.values())) == []  # not registered yet: nothing to find
    runner.KNOWN_SECRETS.add(planted)
    try:
        for name, text in forms.items():
            assert runner.find_leaks(text), "the scanner missed the %s form" % name
        assert runner.find_leaks("fake-planted-credential-<&>-5e6") == []  # a near miss is no hit
        hits = runner.session_leaks(extra=[("planted", forms["secret data, aligned 1"])])
        assert [label for label, _form in hits] == ["planted"], "the session scan must be able to fail"
        with pytest.raises(AssertionError, match="leaked"):
            runner.assert_no_leak(forms["auth field"], record=False)
    finally:
        runner.KNOWN_SECRETS.discard(planted)


def test_the_whole_story_at_vvvv_prints_no_credential(api, cluster, namespace_factory, fault_cluster, fault_api,
                                                      report_dirs, tmp_path, figures):
    a = namespace_factory("leak-a", wait_for_default_sa=True)
    b = namespace_factory("leak-b", wait_for_default_sa=True)
    connection = {"kubeconfig": cluster.kubeconfig}
    registries = [{"server": "privateregistry.example.com", "username": "developer", "password": PASSWORD, "email": "d@example.com"},
                  {"server": "quay.io/my-org", "identity_token": TOKEN},
                  {"server": "registry.example.com:5000", "auth": AUTH}]
    runs = []
    pull_secret = dict(connection, name="private-registry", namespaces=[a, b], registries=registries, service_accounts=["default"])
    for check in (True, False, True, False):
        runs.append(run_module("pull_secret", pull_secret, check=check, verbosity=4))
    runs.append(run_module("pull_secret", dict(pull_secret, type="dockercfg"), verbosity=4))  # fails: type is immutable
    runs.append(run_module("pull_secret", dict(pull_secret, registries=registries[:1] + [
        {"server": "bad host", "username": "u", "password": PASSWORD}]), verbosity=4))
    runs.append(run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a],
                                                        verify=True), verbosity=4))
    runs.append(run_module("registry_access_info", dict(connection, namespaces=[a, b], can_pull=[
        {"service_account": "%s:default" % a, "from_namespace": b}]), verbosity=4))

    # the cluster-wide pull secret of the dedicated cluster, its Telemetry guard failing, a backup kept
    global_args = {"kubeconfig": fault_cluster.kubeconfig, "backup": True,
                   "registries": [{"server": "mirror.example.com/leak", "username": "mirror", "password": SERVER_PASSWORD}]}
    with seeded_cluster_config(fault_api, fault_cluster):
        for check in (True, False):
            runs.append(run_module("global_pull_secret", global_args, check=check, verbosity=4))
        runs.append(run_module("global_pull_secret", dict(global_args, registries=[
            {"server": "cloud.openshift.com", "username": "x", "password": SERVER_PASSWORD}]), verbosity=4))
        runs.append(run_module("registry_access_info", {"kubeconfig": fault_cluster.kubeconfig, "namespace": "openshift-config"},
                               verbosity=4))

    # the roles and playbooks: drift report, enforce, a failing role run, the audit with its report files
    declared = {"registry_access_kubeconfig": cluster.kubeconfig,
                "project_access_pull_secrets": [{"name": "role-secret", "namespace": a, "service_accounts": ["default"],
                                                 "registries": registries}],
                "project_access_image_pullers": [{"image_namespace": a, "all_service_accounts_in": [b]}]}
    playbooks = [run_playbook("playbooks/enforce.yml", extra_vars=[declared], check=True, verbosity=4),
                 run_playbook("playbooks/enforce.yml", extra_vars=[declared], verbosity=4),
                 run_playbook("playbooks/enforce.yml", extra_vars=[declared, {"project_access_pull_secrets": [
                     dict(declared["project_access_pull_secrets"][0], type="dockercfg")]}], verbosity=4)]
    reports = tmp_path / "reports"
    report_dirs.add(str(reports))
    playbooks.append(run_playbook("playbooks/audit.yml", extra_vars=[
        {"registry_access_kubeconfig": cluster.kubeconfig, "audit_namespaces": [a, b], "audit_report_dir": str(reports),
         "audit_global_namespace": a, "audit_global_name": "private-registry",
         "audit_can_pull": [{"service_account": "%s:default" % b, "from_namespace": a}]}], verbosity=4))

    assert [r.failed for r in runs] == [False] * 4 + [True, True] + [False] * 4 + [True, False], [r.msg for r in runs]
    assert [p.rc for p in playbooks] == [0, 0, 2, 0], [p.output[-2000:] for p in playbooks]
    assert sorted(f.name for f in reports.iterdir()) == ["registry-access-localhost.json", "registry-access-localhost.md"]
    for path in reports.iterdir():
        runner.assert_no_leak(path.read_text())
    # every run above was scanned as it finished (run_module, run_playbook); the report files just now
    output_bytes = sum(len(r.output) for r in runs) + sum(len(p.output) for p in playbooks)
    figures["no_leak_story"] = {"module_runs": len(runs), "playbook_runs": len(playbooks), "verbosity": "-vvvv",
                                "output_bytes": output_bytes, "report_files": 2}


@pytest.mark.session_end
def test_no_credential_in_any_output_of_the_session(session_scan, figures):
    scanned, hits = session_scan()
    figures["no_leak_final_test"] = scanned
    print("scanned %(bytes_scanned)d bytes: %(run_outputs)d run outputs, %(pytest_reports)d pytest reports, "
          "%(audit_report_files)d audit report files, for %(credentials)d credentials" % scanned)
    assert scanned["credentials"] >= 10 and scanned["run_outputs"] > 0
    assert not hits, "credentials leaked into: %s" % sorted(set(label for label, _form in hits))
