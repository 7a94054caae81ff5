"""The oracles answer what the upstream code is known to do (no cluster needed).

Each expectation here was read in the upstream source (k8s.io/kubernetes v1.36.3
pkg/credentialprovider, go.podman.io/image/v5 v5.42.1 pkg/docker/config) and then observed
through the oracle; a failure means the oracle no longer reflects upstream, not that the
collection is wrong.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from helpers.oracles import ContainersImageOracle, KubeletOracle, b64

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"


def auth(username: str, password: str, **extra: str) -> dict:
    return {"auth": b64(f"{username}:{password}"), **extra}


def pull_secret(name: str, auths: dict, secret_type: str = DOCKERCONFIGJSON, **top: object) -> dict:
    key = ".dockerconfigjson" if secret_type == DOCKERCONFIGJSON else ".dockercfg"
    return {"name": name, "type": secret_type, "data": {key: json.dumps({"auths": auths, **top})}}


def users(response: dict) -> list[list[str]]:
    assert response["error"] is None, response
    return [[c["username"] for c in order] for order in response["orders"]]


def authfile(auths: dict, **top: object) -> str:
    return json.dumps({"auths": auths, **top})


def credential(response: dict):
    assert response["error"] is None, response
    c = response["credential"]
    return None if c is None else (c["username"], c["password"], c["identitytoken"])


# kubelet


def test_kubelet_docker_io_key_serves_a_short_image_name(kubelet_oracle):
    r = kubelet_oracle.lookup("nginx", [pull_secret("s1", {"docker.io": auth("u", "p")})])
    assert r["repo"] == "docker.io/library/nginx"
    assert r["orders"] == [[{"source": "secret:s1", "username": "u", "password": "p", "auth": "", "email": "",
                             "serveraddress": "", "identitytoken": "", "registrytoken": ""}]]


def test_kubelet_legacy_index_key_serves_docker_hub_by_fallback(kubelet_oracle):
    r = kubelet_oracle.lookup("nginx", [pull_secret("s1", {"https://index.docker.io/v1/": auth("u", "p")})])
    assert users(r) == [["u"]]


def test_kubelet_namespace_key_does_not_serve_another_namespace(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/other/x", [pull_secret("s1", {"quay.io/org": auth("u", "p")})])
    assert r["orders"] == [[]]


def test_kubelet_path_keys_match_as_string_prefixes(kubelet_oracle):
    # URLsMatch uses strings.HasPrefix on the path: "org" also serves "organisation".
    r = kubelet_oracle.lookup("quay.io/organisation/x", [pull_secret("s1", {"quay.io/org": auth("u", "p")})])
    assert users(r) == [["u"]]


def test_kubelet_two_spellings_of_one_host_give_both_orders(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/org/x", [pull_secret("s1", {"quay.io": auth("a", "1"),
                                                                   "https://quay.io": auth("b", "2")})])
    assert users(r) == [["a", "b"], ["b", "a"]]


def test_kubelet_more_specific_key_comes_first_and_node_last(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/org/x", [pull_secret("s1", {"quay.io": auth("a", "1"),
                                                                   "quay.io/org": auth("c", "3")})],
                              node_config=authfile({"quay.io": auth("n", "0")}))
    assert users(r) == [["c", "a", "n"]]
    assert [c["source"] for c in r["orders"][0]] == ["secret:s1", "secret:s1", "node"]


def test_kubelet_dockercfg_secret_holding_auths_gives_no_credential(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/org/x", [pull_secret("s1", {"quay.io": auth("u", "p")}, DOCKERCFG)])
    assert r["orders"] == [[]]


def test_kubelet_malformed_secret_fails_the_lookup(kubelet_oracle):
    bad = {"name": "s1", "type": DOCKERCONFIGJSON, "data": {".dockerconfigjson": "{not json"}}
    r = kubelet_oracle.lookup("quay.io/org/x", [bad])
    assert r["error"] and r["orders"] == []


def test_kubelet_auth_without_colon_fails_the_whole_lookup(kubelet_oracle):
    r = kubelet_oracle.lookup("other.io/x", [pull_secret("s1", {"quay.io": {"auth": b64("nocolon")}})])
    assert "base64(username:password)" in r["error"]


def test_kubelet_keeps_only_username_password_email(kubelet_oracle):
    entry = {"username": "u", "password": "p", "email": "e@x", "identitytoken": "tok", "registrytoken": "rt"}
    r = kubelet_oracle.lookup("quay.io/x", [pull_secret("s1", {"quay.io": entry})])
    (c,), = r["orders"]
    assert (c["username"], c["password"], c["email"], c["identitytoken"], c["registrytoken"]) == ("u", "p", "e@x", "", "")


def test_kubelet_auth_overrides_username_and_accepts_unpadded_base64(kubelet_oracle):
    entry = {"auth": b64("a:pw").rstrip("="), "username": "ignored", "password": "ignored"}
    r = kubelet_oracle.lookup("quay.io/x", [pull_secret("s1", {"quay.io": entry})])
    assert [[(c["username"], c["password"]) for c in o] for o in r["orders"]] == [[("a", "pw")]]


def test_kubelet_reads_capitalised_auths_and_ignores_cred_helpers(kubelet_oracle):
    data = json.dumps({"Auths": {"quay.io": auth("u", "p")}, "credHelpers": {"quay.io": "x"}, "credsStore": "y"})
    r = kubelet_oracle.lookup("quay.io/x", [{"name": "s1", "type": DOCKERCONFIGJSON,
                                             "data": {".dockerconfigjson": data}}])
    assert users(r) == [["u"]]


def test_kubelet_http_headers_of_wrong_type_fail_the_lookup(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/x", [pull_secret("s1", {"quay.io": auth("u", "p")}, HttpHeaders={"X": 1})])
    assert "HttpHeaders" in r["error"]


def test_kubelet_host_match_is_case_sensitive(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/x", [pull_secret("s1", {"Quay.io": auth("u", "p")})])
    assert r["orders"] == [[]]


def test_kubelet_wildcard_host_key_serves_one_label(kubelet_oracle):
    s = [pull_secret("s1", {"*.example.com": auth("u", "p")})]
    assert users(kubelet_oracle.lookup("a.example.com/x", s)) == [["u"]]
    assert users(kubelet_oracle.lookup("a.b.example.com/x", s)) == [[]]


def test_kubelet_node_config_alone_serves(kubelet_oracle):
    r = kubelet_oracle.lookup("quay.io/x", [], node_config=authfile({"quay.io": auth("n", "0")}))
    assert [[c["source"] for c in o] for o in r["orders"]] == [["node"]]


def test_kubelet_unparseable_image_is_an_error(kubelet_oracle):
    r = kubelet_oracle.lookup("NGINX", [])
    assert "must be lowercase" in r["error"] and r["orders"] == []


def test_kubelet_bad_request_is_answered(kubelet_oracle):
    assert kubelet_oracle.raw("not json")["error"].startswith("bad request:")
    assert kubelet_oracle.raw('{"id": 7, "image": 3}')["error"].startswith("bad request:")
    assert kubelet_oracle.lookup("quay.io/x", [])["orders"] == [[]]  # still serving


# containers/image


def test_containers_image_legacy_index_key_serves_docker_hub(containers_image_oracle):
    r = containers_image_oracle.lookup("nginx", authfile({"https://index.docker.io/v1/": auth("u", "p")}))
    assert r["name"] == "docker.io/library/nginx"
    assert credential(r) == ("u", "p", "")


def test_containers_image_host_match_is_case_sensitive(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"Quay.io": auth("u", "p")}))
    assert credential(r) is None


def test_containers_image_ignores_username_and_password_without_auth(containers_image_oracle):
    # Only "auth" and "identitytoken" are read from an entry; this entry is as good as absent.
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": {"username": "u", "password": "p"}}))
    assert credential(r) is None


def test_containers_image_rejects_unpadded_base64(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": {"auth": b64("u:pw").rstrip("=")}}))
    assert "illegal base64" in r["error"]


def test_containers_image_keeps_identity_token(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": auth("u", "p", identitytoken="tok")}))
    assert credential(r) == ("u", "p", "tok")


def test_containers_image_auth_without_colon_is_anonymous(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": {"auth": b64("nocolon")}}))
    assert credential(r) is None


def test_containers_image_namespace_keys_match_whole_segments(containers_image_oracle):
    f = authfile({"quay.io/org": auth("u", "p")})
    assert credential(containers_image_oracle.lookup("quay.io/org/app", f)) == ("u", "p", "")
    assert credential(containers_image_oracle.lookup("quay.io/organisation/app", f)) is None


def test_containers_image_url_key_path_is_dropped(containers_image_oracle):
    # A scheme-prefixed key is cut to its host, so its path no longer limits it.
    r = containers_image_oracle.lookup("quay.io/other/app", authfile({"https://quay.io/org": auth("u", "p")}))
    assert credential(r) == ("u", "p", "")


def test_containers_image_exact_key_wins_even_when_empty(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": {}, "https://quay.io": auth("b", "2")}))
    assert credential(r) is None and not r["ambiguous"]


def test_containers_image_two_url_spellings_are_ambiguous(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"https://quay.io": auth("a", "1"),
                                                              "http://quay.io/v1/": auth("b", "2")}))
    assert r["ambiguous"]
    assert sorted(o["credential"]["username"] for o in r["outcomes"]) == ["a", "b"]


def test_containers_image_reads_capitalised_auths(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", json.dumps({"Auths": {"quay.io": auth("u", "p")}}))
    assert credential(r) == ("u", "p", "")


def test_containers_image_cred_helper_entry_is_an_error_without_the_helper(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", authfile({"quay.io": auth("u", "p")}, credHelpers={"quay.io": "x"}))
    assert "docker-credential-x" in r["error"]


def test_containers_image_malformed_file_is_an_error(containers_image_oracle):
    r = containers_image_oracle.lookup("quay.io/x", "[]")
    assert "<authfile>" in r["error"] and r["credential"] is None


@pytest.mark.parametrize("key, expected_error", [("quay.io/org", None), ("https://quay.io", "http[s]:// prefix")])
def test_containers_image_key_lookup(containers_image_oracle, key, expected_error):
    r = containers_image_oracle.lookup_key(key, authfile({"quay.io/org": auth("u", "p")}))
    if expected_error:
        assert expected_error in r["error"]
    else:
        assert credential(r) == ("u", "p", "")


def test_containers_image_bad_request_is_answered(containers_image_oracle):
    assert containers_image_oracle.raw("{")["error"].startswith("bad request:")
    assert containers_image_oracle.raw('{"id": 1, "image": "x"}')["error"].startswith("bad request:")


# both


@pytest.mark.parametrize("fixture", ["kubelet_oracle", "containers_image_oracle"])
def test_a_panic_is_answered_and_the_process_keeps_serving(request, fixture):
    oracle = request.getfixturevalue(fixture)
    assert oracle.ask({"op": "panic"})["error"] == "panic: requested by the client"
    # Both oracles take this request (the kubelet one ignores "authfile").
    assert oracle.ask({"image": "quay.io/x", "authfile": b64("{}")})["error"] is None


@pytest.mark.parametrize("oracle_class", [KubeletOracle, ContainersImageOracle])
def test_the_client_restarts_a_killed_oracle(request, oracle_class):
    shared = request.getfixturevalue("kubelet_oracle" if oracle_class is KubeletOracle else "containers_image_oracle")
    with oracle_class(shared.binary) as oracle:
        first = oracle.ask({"image": "quay.io/x", "authfile": b64("{}")})
        os.kill(oracle._proc.pid, signal.SIGKILL)  # pylint: disable=protected-access
        oracle._proc.wait()  # pylint: disable=protected-access
        again = oracle.ask({"image": "quay.io/x", "authfile": b64("{}")})
        assert first["error"] is None and again["error"] is None
