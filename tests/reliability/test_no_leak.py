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
import os
import sys

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


# -- every connection option, every kubeconfig auth kind ------------------------------------------------------

KC = dict(
    basic=register_secret("fake-rel-kc-basic-pass-0d1e"),
    other_token=register_secret("fake-rel-kc-other-token-2f3a"),
    id_token=register_secret("fake-rel-kc-oidc-id-token-4b5c"),
    refresh_token=register_secret("fake-rel-kc-oidc-refresh-token-6d7e"),
    client_secret=register_secret("fake-rel-kc-oidc-client-secret-8f90"),
    access_token=register_secret("fake-rel-kc-oidc-access-token-a1b2"),
    exec_env=register_secret("fake-rel-kc-exec-env-c3d4"),
    exec_arg=register_secret("fake-rel-kc-exec-arg-token-e5f6"),
    proxy_url=register_secret("fake-rel-kc-proxy-url-pass-0718"),
    proxy=register_secret("fake-rel-leak-proxy-pass-293a"),
)


def _admin_client_cert(cluster, tmp_path):
    """A client certificate of group system:masters signed by the test cluster's CA: (cert path, key path)."""
    import subprocess
    pki = os.path.dirname(cluster.ca_cert)
    key, csr, cert = (str(tmp_path / name) for name in ("leak-admin.key", "leak-admin.csr", "leak-admin.crt"))
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/O=system:masters/CN=leak-admin"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", cluster.ca_cert, "-CAkey", os.path.join(pki, "ca.key"),
                    "-CAcreateserial", "-CAserial", str(tmp_path / "ca.srl"), "-out", cert, "-days", "1"],
                   check=True, capture_output=True)
    return cert, key


def _kubeconfig_of_every_auth_kind(cluster, token, cert, key):
    """Users of every kind (token, basic, client cert, OIDC auth provider, exec with env), one context each."""
    with open(cert, "rb") as f:
        cert_data = register_secret(base64.b64encode(f.read()).decode())
    with open(key, "rb") as f:
        key_data = register_secret(base64.b64encode(f.read()).decode())
    helper = ("import json, os; print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
              "'kind': 'ExecCredential', 'status': {'token': os.environ['LEAK_HELPER_TOKEN']}}))")
    users = {
        "token": {"token": token},
        "basic": {"username": "leak-basic", "password": KC["basic"]},
        "cert": {"client-certificate-data": cert_data, "client-key-data": key_data},
        "oidc": {"auth-provider": {"name": "oidc", "config": {
            "client-id": "leak-client", "client-secret": KC["client_secret"], "id-token": KC["id_token"],
            "refresh-token": KC["refresh_token"], "access-token": KC["access_token"],
            "idp-issuer-url": "https://issuer.example.com"}}},
        "exec": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                          "args": ["-c", helper, "--token=" + KC["exec_arg"]], "interactiveMode": "Never",
                          "env": [{"name": "LEAK_HELPER_TOKEN", "value": token},
                                  {"name": "LEAK_OTHER_SECRET", "value": KC["exec_env"]}]}},
        "other": {"token": KC["other_token"]},
    }
    with open(cluster.ca_cert, "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "token",
        "clusters": [{"name": "local", "cluster": {"server": cluster.server, "certificate-authority-data": ca_data}},
                     {"name": "proxied", "cluster": {"server": cluster.server, "certificate-authority-data": ca_data,
                                                     "proxy-url": "http://kc:%s@127.0.0.1:9" % KC["proxy_url"]}}],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name}} for name in users]
        + [{"name": "proxied", "context": {"cluster": "proxied", "user": "other"}}],
    }


def test_every_connection_option_and_kubeconfig_auth_kind_prints_no_credential(
        cluster, namespace_factory, tmp_path, figures):
    a = namespace_factory("leak-conn", wait_for_default_sa=True)
    token = register_secret(cluster.admin_token)
    cert, key = _admin_client_cert(cluster, tmp_path)
    kubeconfig = _kubeconfig_of_every_auth_kind(cluster, token, cert, key)
    read = dict(namespace=a, include_global=False)
    write = dict(name="leak-conn", namespace=a, registries=[{"server": "registry.example.com", "username": "u",
                                                             "password": PASSWORD}])
    runs, expected = [], []

    def run(module, args, ok, check=False, env=None):
        runs.append(run_module(module, args, check=check, verbosity=4, env=env))
        expected.append(ok)

    # every kubeconfig auth kind as the current user (the others in the same dict): the working ones read and
    # write, the ones the cluster refuses or cannot reach fail, all at -vvvv
    for context, ok in (("token", True), ("cert", True), ("exec", True), ("basic", False), ("oidc", False),
                        ("proxied", False)):
        run("registry_access_info", dict(read, kubeconfig=kubeconfig, context=context), ok)
    run("pull_secret", dict(write, kubeconfig=kubeconfig, context="exec"), True, check=True)
    run("pull_secret", dict(write, kubeconfig=kubeconfig, context="cert"), True)
    run("image_puller_binding", dict(kubeconfig=kubeconfig, namespace=a, service_accounts=["%s:default" % a], verify=True), True)
    run("global_pull_secret", dict(kubeconfig=kubeconfig, namespace=a, name="leak-conn", registries=write["registries"]),
        True, check=True)
    # the options one by one: host, api_key, ca_cert, validate_certs, client_cert, client_key, proxy (a password in
    # it), no_proxy, impersonation, kubeconfig path and context
    direct = dict(host=cluster.server, api_key=token, ca_cert=cluster.ca_cert, validate_certs=True,
                  proxy="http://leak:%s@127.0.0.1:9" % KC["proxy"], no_proxy="127.0.0.1")
    run("registry_access_info", dict(read, **direct), True)
    run("registry_access_info", dict(read, impersonate_user="system:serviceaccount:%s:default" % a,
                                     impersonate_groups=["system:serviceaccounts"], **direct), False)
    run("registry_access_info", dict(read, host=cluster.server, ca_cert=cluster.ca_cert, client_cert=cert, client_key=key),
        True)
    run("registry_access_info", dict(read, host=cluster.server, api_key=token, validate_certs=False), True)
    run("registry_access_info", dict(read, kubeconfig=cluster.kubeconfig), True)
    run("pull_secret", dict(write, host=cluster.server, api_key=token, ca_cert=cluster.ca_cert,
                            proxy="http://leak:%s@127.0.0.1:9" % KC["proxy"]), False)  # the proxy does not answer
    # the same through K8S_AUTH_* variables, as AWX passes them
    env = {"K8S_AUTH_HOST": cluster.server, "K8S_AUTH_API_KEY": token, "K8S_AUTH_SSL_CA_CERT": cluster.ca_cert,
           "K8S_AUTH_VERIFY_SSL": "true", "K8S_AUTH_PROXY": "http://leak:%s@127.0.0.1:9" % KC["proxy"],
           "K8S_AUTH_NO_PROXY": "127.0.0.1", "KUBECONFIG": str(tmp_path / "none")}
    run("registry_access_info", read, True, env=env)

    assert [not r.failed for r in runs] == expected, [(r.failed, r.msg[:300]) for r in runs]
    # every run above was scanned as it finished; a planted kubeconfig value must also be in the masking's reach
    assert any("leak-basic" in r.output for r in runs)  # the dict is printed, only its secrets masked
    figures["no_leak_connection"] = {"module_runs": len(runs), "kubeconfig_auth_kinds": 5, "kubeconfig_users": 6,
                                     "connection_options": 12, "verbosity": "-vvvv"}


@pytest.mark.session_end
def test_no_credential_in_any_output_of_the_session(session_scan, figures):
    scanned, hits = session_scan()
    figures["no_leak_final_test"] = scanned
    print("scanned %(bytes_scanned)d bytes: %(run_outputs)d run outputs, %(pytest_reports)d pytest reports, "
          "%(audit_report_files)d audit report files, for %(credentials)d credentials" % scanned)
    assert scanned["credentials"] >= 10 and scanned["run_outputs"] > 0
    assert not hits, "credentials leaked into: %s" % sorted(set(label for label, _form in hits))
