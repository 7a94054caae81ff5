"""No traceback on any input: every module runs in-process, in check mode, against the local cluster, on
arguments generated from its own argument spec - right and wrong types, huge and unicode values, aliases and
duplicate spellings, unknown keys, nested junk - and every outcome must be exit_json or fail_json with a
message. Any other exception fails the test and shows the input.

In-process (not through the `ansible` command) so that a few hundred examples per module fit in well under two
minutes: the module's main() runs with ansible.module_utils.basic._ANSIBLE_ARGS set, as AnsiballZ would, and its
SystemExit and stdout JSON are the outcome. Each module gets a fixed-seed run (the same inputs every time) and a
random one (new inputs each run; a failure prints the seed to reproduce it).
"""

import base64
import contextlib
import io
import json
import time
import traceback

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st

from ansible.module_utils import basic
from ansible_collections.ocp.registry_access.plugins.modules import (
    global_pull_secret, image_puller_binding, prune, pull_secret, registry_access_info,
)
from helpers import specs
from helpers.runner import find_leaks, record_output, register_secret

MODULES = {
    "pull_secret": pull_secret,
    "image_puller_binding": image_puller_binding,
    "global_pull_secret": global_pull_secret,
    "registry_access_info": registry_access_info,
    "prune": prune,
}
FIXED_SEED = 20261201
FIXED_EXAMPLES = 200
RANDOM_EXAMPLES = 100
MODULE_AGENT = "ocp.registry_access/"

PASSWORD = register_secret("fake-fuzz-pass-8e2f")
TOKEN = register_secret("fake-fuzz-bearer-token-41b7")
HUGE = "x" * 100000
# No lone surrogate: Ansible itself cannot carry one to a module (its JSON decoding of the arguments refuses it).
UNICODE = ["é", "名前", "\u202e", "\x00", "\U0010ffff", "😀" * 50, "Ω≈ç√", "\n\t", "'\"\\"]


def b64(text):
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


# -- generic junk -----------------------------------------------------------------------------

SCALAR_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(UNICODE + ["", " ", HUGE, "0", "-1", "yes", "None"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
JUNK = st.recursive(SCALAR_JUNK, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


class Context(object):
    """What the generated arguments may point at: a prepared namespace, files, the cluster."""

    def __init__(self, cluster, namespace, tmp_path):
        self.cluster = cluster
        self.ns = namespace
        good = tmp_path / "config.json"
        good.write_text(json.dumps({"auths": {"quay.io": {"auth": b64("robot:" + PASSWORD)}}}))
        bad = tmp_path / "junk.json"
        bad.write_bytes(b"\xff\xfe not json")
        legacy = tmp_path / "dockercfg"
        legacy.write_text(json.dumps({"registry.example.com": {"username": "u", "password": PASSWORD}}))
        self.paths = [str(good), str(bad), str(legacy), str(tmp_path), "/nonexistent/file", "/dev/null", "", "~/nope",
                      "relative/path", HUGE[:5000]]
        self.files = self.paths


def registry_entry(ctx):
    servers = ["quay.io", "registry.example.com:5000/team", "https://index.docker.io/v1/", "docker.io", "bad host", "",
               "user@registry", "registry.example.com:99999", "ftp://x", "cloud.openshift.com", "名前.example.com"]
    optional = {
        "username": st.one_of(st.sampled_from(["robot", "", "é"]), JUNK),
        "password": st.one_of(st.just(PASSWORD), JUNK),
        "email": st.one_of(st.sampled_from(["a@example.com", ""]), JUNK),
        "auth": st.one_of(st.sampled_from([b64("robot:" + PASSWORD), b64("nocolon"), "%%%", ""]), JUNK),
        "identity_token": st.one_of(st.just(TOKEN), JUNK),
        "unknown_field": JUNK,
    }
    return st.fixed_dictionaries({"server": st.one_of(st.sampled_from(servers), JUNK)}, optional=optional)


def docker_config(ctx):
    entry = st.dictionaries(st.sampled_from(["auth", "username", "password", "email", "identitytoken", "x"]),
                            st.one_of(st.sampled_from([b64("robot:" + PASSWORD), PASSWORD, ""]), JUNK), max_size=4)
    auths = st.dictionaries(st.sampled_from(["quay.io", "https://index.docker.io/v1/", "", "bad host", "é"]),
                            st.one_of(entry, JUNK), max_size=3)
    return st.one_of(st.builds(lambda a: {"auths": a}, auths), auths, st.builds(lambda a: json.dumps({"auths": a}), auths),
                     st.sampled_from(["{not json", "[1, 2]", "", "null", '{"auths": []}', HUGE]), JUNK)


def kubeconfig_dict(ctx):
    return st.one_of(
        st.just({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "c", "cluster": {"server": ctx.cluster.server,
                 "certificate-authority": ctx.cluster.ca_cert}}], "users": [{"name": "u", "user": {"token": TOKEN}}],
                 "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}),
        st.dictionaries(st.sampled_from(["clusters", "users", "contexts", "current-context", "apiVersion"]), JUNK, max_size=4),
        JUNK)


def domain_values(name, ctx):
    """Plausible values of an option, by its name: these reach the code behind the argument spec."""
    ns = ctx.ns
    pools = {
        "name": ["p", "pull-secret", "default", "Bad_Name", "x" * 300, ""],
        "namespace": [ns, "openshift-config", "does-not-exist", "Bad_NS", ""],
        "global_namespace": ["openshift-config", ns, "nope"],
        "global_name": ["pull-secret", "nope", ""],
        "namespace_selector": ["team=fuzz", "kubernetes.io/metadata.name=%s" % ns, "a in (b,c)", "!!!", "=", ""],
        "role": ["system:image-puller", "system:image-pusher", "nope", "x" * 500, ""],
        "rolebinding_name": ["system:image-puller", "mine", "Bad Name", ""],
        "context": ["", "nope", "x"],
        "host": [ctx.cluster.server, "not a url", "https://", "::::", "ftp://x", ""],
        "api_key": [TOKEN, "", "é"],
        "proxy": ["not a proxy", "", "socks5://"],
        "no_proxy": ["*", "127.0.0.1", ""],
        "impersonate_user": ["someone", "system:serviceaccount:%s:default" % ns, ""] + UNICODE,
        "fingerprint_key": ["k", "", HUGE[:1000]] + UNICODE,
    }
    list_pools = {
        "namespaces": [ns, "does-not-exist", "Bad_NS", "openshift-config"],
        "exclude_namespaces": [ns, "*", "[", "openshift-*"],
        "service_accounts": ["default", "ghost", "Bad_SA", "%s:default" % ns, "system:serviceaccount:%s:default" % ns, ":"],
        "all_service_accounts_in": [ns, "nope", ""],
        "groups": ["system:authenticated", "team", ""],
        "users": ["alice", "system:admin", ""],
        "impersonate_groups": ["system:masters", "team", ""],
        "link_for": ["pull", "mount", "push"],
    }
    if name in pools:
        return st.one_of(st.sampled_from(pools[name]), st.text(max_size=12))
    if name in list_pools:
        return st.one_of(st.lists(st.sampled_from(list_pools[name]), max_size=3),
                         st.sampled_from([",".join(list_pools[name][:2]), list_pools[name][0]]),
                         st.lists(st.one_of(st.sampled_from(list_pools[name]), JUNK), max_size=3))
    return None


def value_for(name, option, ctx):
    kind = option.get("type", "str")
    if name == "kubeconfig":
        valid = st.one_of(st.just(ctx.cluster.kubeconfig), st.sampled_from(ctx.paths), kubeconfig_dict(ctx))
    elif name in ("registries",):
        valid = st.lists(st.one_of(registry_entry(ctx), JUNK), max_size=3)
    elif name == "content":
        valid = docker_config(ctx)
    elif name == "can_pull":
        valid = st.lists(st.one_of(st.fixed_dictionaries({}, optional={
            "service_account": st.sampled_from(["%s:default" % ctx.ns, "default", "system:serviceaccount:x:y", ":"]),
            "from_namespace": st.sampled_from([ctx.ns, "nope", ""])}), JUNK), max_size=2)
    elif name == "service_accounts" and option.get("elements") == "raw":
        valid = st.lists(st.one_of(st.sampled_from(["%s:default" % ctx.ns, "system:serviceaccount:%s:default" % ctx.ns,
                                                    "default", ":", "a:b:c"]),
                                   st.fixed_dictionaries({}, optional={"namespace": st.sampled_from([ctx.ns, "", "Bad"]),
                                                                       "name": st.sampled_from(["default", "", "Bad"])}),
                                   JUNK), max_size=3)
    elif name in ("wait_timeout",):
        # bounded, so that a valid run does not wait for long
        return st.sampled_from([-1, 0, 1, "1", "x", 1.5, 2 ** 70, None, [], {}])
    elif name == "backup_keep":
        valid = st.integers(min_value=-3, max_value=7)
    elif domain_values(name, ctx) is not None:
        valid = domain_values(name, ctx)
    elif option.get("choices"):
        choices = list(option["choices"])
        valid = st.lists(st.sampled_from(choices), max_size=3) if kind == "list" else st.sampled_from(choices)
    elif kind == "bool":
        valid = st.one_of(st.booleans(), st.sampled_from(["yes", "no", "true", "off", "1", "maybe"]))
    elif kind == "int":
        valid = st.integers(min_value=-10, max_value=10)
    elif kind == "path":
        valid = st.sampled_from(ctx.paths)
    elif kind == "dict":
        valid = st.dictionaries(st.one_of(st.sampled_from(["team", "app.kubernetes.io/managed-by", "bad key!", ""]),
                                          st.text(max_size=10)),
                                st.one_of(st.text(max_size=10), JUNK), max_size=3)
    elif kind == "list":
        valid = st.lists(st.text(max_size=10), max_size=3)
    else:
        valid = st.one_of(st.text(max_size=20), st.sampled_from(UNICODE))
    return st.one_of(valid, valid, valid, JUNK)


def valid_base(module, ctx):
    """Arguments a run of the module would succeed with, for half the examples to start from (so that the
    generated options also reach the code behind the argument checks)."""
    good_registry = st.fixed_dictionaries({"server": st.sampled_from(["quay.io", "registry.example.com:5000"]),
                                           "username": st.just("robot"), "password": st.just(PASSWORD)})
    bases = {
        "pull_secret": st.fixed_dictionaries({"name": st.sampled_from(["p", "q"]), "namespace": st.just(ctx.ns),
                                              "registries": st.lists(good_registry, min_size=1, max_size=2)},
                                             optional={"service_accounts": st.just(["default"]),
                                                       "state": st.sampled_from(["present", "absent"])}),
        "image_puller_binding": st.fixed_dictionaries({"namespace": st.just(ctx.ns)}, optional={
            "service_accounts": st.just(["%s:default" % ctx.ns]), "groups": st.just(["team"]),
            "all_service_accounts_in": st.just([ctx.ns]), "state": st.sampled_from(["present", "absent"])}),
        "global_pull_secret": st.fixed_dictionaries({"namespace": st.just(ctx.ns), "name": st.just("pull-secret"),
                                                     "registries": st.lists(good_registry, min_size=1, max_size=2)},
                                                    optional={"state": st.sampled_from(["present", "absent"]),
                                                              "backup": st.booleans()}),
        "registry_access_info": st.fixed_dictionaries({"namespace": st.just(ctx.ns)}, optional={
            "can_pull": st.just([{"service_account": "%s:default" % ctx.ns, "from_namespace": ctx.ns}])}),
        "prune": st.fixed_dictionaries({"owner": st.sampled_from(["team-a", "team-b/enforce"]),
                                        "namespaces": st.just([ctx.ns])}, optional={
            "declared_secrets": st.just([{"namespace": ctx.ns, "name": "p"}]),
            "declared_grants": st.just([])}),
    }
    return bases[module]


def module_args(module, spec, ctx):
    """Arguments for one run: a random subset of the spec's options, usually with a working connection."""
    options = dict((name, value_for(name, option, ctx)) for name, option in spec.items())
    base = valid_base(module, ctx)
    aliases = dict((alias, options[name]) for name, option in spec.items() for alias in option.get("aliases") or [])

    @st.composite
    def draw(d):
        args = d(base) if d(st.booleans()) else {}
        # a few options at a time, so that one bad value does not hide what the others would reach
        for key in d(st.lists(st.sampled_from(sorted(options)), max_size=5, unique=True)):
            args[key] = d(options[key])
        if d(st.integers(0, 9)) < 8:
            args.setdefault("kubeconfig", ctx.cluster.kubeconfig)  # most runs reach the cluster
        if "name" in spec and spec["name"].get("required") and d(st.integers(0, 9)) < 8:
            args.setdefault("name", d(options["name"]))
        if "namespace" in spec and d(st.integers(0, 9)) < 6:
            args.setdefault("namespace", ctx.ns)
        if "wait_timeout" in spec:
            args.setdefault("wait_timeout", 1)
        if aliases and d(st.booleans()):  # an alias beside (or instead of) its option
            args.update(d(st.fixed_dictionaries({}, optional=aliases)))
        if d(st.integers(0, 9)) == 0:  # unknown keys and other spellings
            args.update(d(st.dictionaries(st.sampled_from(["Name", "namespace ", "state_", "registry", "unknown", "_x"]),
                                          JUNK, max_size=2)))
        return args

    return draw()


# -- running a module in-process ---------------------------------------------------------------


class Traceback(AssertionError):
    pass


def run_in_process(module, args):
    """(exit code, result) of module.main() in this process, in check mode; Traceback on any other exception."""
    payload = dict(args, _ansible_check_mode=True, _ansible_diff=True, _ansible_verbosity=0, _ansible_no_log=False)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode("utf-8")
    basic._ANSIBLE_PROFILE = "legacy"
    out = io.StringIO()
    code = None
    try:
        with contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit as e:
                code = e.code
    except Exception:  # pylint: disable=broad-except
        raise Traceback("%s raised on input %s:\n%s" % (module.__name__.split(".")[-1], shown(args), traceback.format_exc()))
    finally:
        basic._ANSIBLE_ARGS = None
    text = out.getvalue().strip()
    record_output("in-process %s" % module.__name__.split(".")[-1], text)
    leaks = find_leaks(text)
    if leaks:
        raise AssertionError("credential(s) in the output of %s: %d form(s), e.g. one starting %r; input %s" % (
            module.__name__.split(".")[-1], len(leaks), leaks[0][:4], shown(args)))
    try:
        result = json.loads(text.splitlines()[-1]) if text else None
    except ValueError:
        result = None
    if result is None:
        raise Traceback("%s printed no JSON result (exit %r) on input %s:\n%s" % (
            module.__name__.split(".")[-1], code, shown(args), text[-2000:]))
    return code, result


def shown(args):
    """The input, credentials masked (failure reports are scanned for them too)."""
    text = json.dumps(args, default=repr)
    for value in (PASSWORD, TOKEN):
        text = text.replace(value, "<registered credential>")
    return text if len(text) < 3000 else text[:3000] + "... (%d characters)" % len(text)


def check_outcome(name, args):
    started = time.time()
    code, result = run_in_process(MODULES[name], args)
    took = time.time() - started
    if took > STATS[name].get("slowest_seconds", 0):
        STATS[name]["slowest_seconds"] = round(took, 2)
    if result.get("failed"):
        assert code == 1, (code, shown(args))
        assert isinstance(result.get("msg"), str) and result["msg"].strip(), "fail_json without a message: %s" % shown(args)
        assert "Traceback (most recent call last)" not in result["msg"], result["msg"]
    else:
        assert code == 0, (code, result, shown(args))
    STATS[name]["runs"] += 1
    STATS[name]["failed" if result.get("failed") else "ok"] += 1


STATS = {}
# POSTed, but they only ask a question and change nothing
REVIEWS = frozenset(["localsubjectaccessreviews", "subjectaccessreviews", "selfsubjectaccessreviews"])


# Inputs that raised (or leaked a credential, or were retried for seconds) before the fixes, kept as fixed
# cases: (module, what, arguments beside a working kubeconfig - None to leave it out).
FOUND = [
    ("pull_secret", "proxy not a URL", dict(name="p", registries=[], proxy="not a proxy")),
    ("registry_access_info", "proxy a list", dict(proxy=[])),
    ("registry_access_info", "client_key not PEM text", dict(client_key="<junk file>")),
    ("registry_access_info", "impersonate_user not ASCII", dict(impersonate_user="名前")),
    ("image_puller_binding", "impersonate_groups with a line break", dict(groups=["team"], impersonate_groups=["a\nb"])),
    ("pull_secret", "api_key not ASCII", dict(name="p", registries=[], api_key="名前")),
    ("registry_access_info", "kubeconfig users not a list", dict(kubeconfig={"clusters": None, "users": 1})),
    ("registry_access_info", "kubeconfig clusters not a list", dict(kubeconfig={"clusters": 1})),
    ("pull_secret", "bad suboption beside api_key (api_key echoed)", dict(name="p", api_key=TOKEN, registries=[None])),
    ("pull_secret", "argument error beside a kubeconfig dict (its token echoed)", dict(
        name="p", kubeconfig={"apiVersion": "v1", "kind": "Config", "users": [{"name": "u", "user": {"token": TOKEN}}]})),
    ("global_pull_secret", "host with a space", dict(
        host="https://bad host", name="pull-secret", registries=[dict(server="quay.io", auth=b64("a:b"))])),
]


@pytest.mark.parametrize("name,case,args", FOUND, ids=[c[1] for c in FOUND])
def test_inputs_that_raised_before_fail_cleanly(fuzz_context, name, case, args):
    STATS[name] = {"runs": 0, "failed": 0, "ok": 0}
    args = dict(dict(kubeconfig=fuzz_context.cluster.kubeconfig, namespace=fuzz_context.ns), **args)
    if args.get("client_key") == "<junk file>":
        args["client_key"] = fuzz_context.paths[1]
    started = time.time()
    check_outcome(name, args)
    assert STATS[name]["failed"] == 1, case
    assert time.time() - started < 1, "%s took %.1fs: retried what cannot succeed" % (case, time.time() - started)


@pytest.fixture
def fuzz_context(api, cluster, namespace, tmp_path):
    """A namespace with something in it for the modules to read: a pull secret linked to default, a binding."""
    api.wait_for("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "p", "labels": {"app.kubernetes.io/managed-by": "ocp.registry_access"}},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(json.dumps({"auths": {"quay.io": {"auth": b64("robot:" + PASSWORD)}}}))}})
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % namespace)
    sa["imagePullSecrets"] = [{"name": "p"}, {"name": "gone"}]
    api.replace("/api/v1/namespaces/%s/serviceaccounts/default" % namespace, sa)
    api.create("/api/v1/namespaces/%s/secrets" % namespace, {  # a copy of a cluster-wide pull secret
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull-secret"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(json.dumps({"auths": {
            "cloud.openshift.com": {"auth": b64("ocm:" + TOKEN), "email": "a@example.com"},
            "quay.io": {"auth": b64("robot:" + PASSWORD)}}}))}})
    api.create("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-puller"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]})
    return Context(cluster, namespace, tmp_path)


@pytest.mark.parametrize("mode", ["fixed-seed", "random"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_traceback_on_any_input(audit, fuzz_context, figures, name, mode):
    STATS[name] = {"runs": 0, "failed": 0, "ok": 0}
    spec = specs.module_spec(name)
    strategy = module_args(name, spec, fuzz_context)

    @settings(max_examples=FIXED_EXAMPLES if mode == "fixed-seed" else RANDOM_EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              print_blob=True)
    @given(args=strategy)
    def fuzz(args):
        check_outcome(name, args)

    if mode == "fixed-seed":
        fuzz = seed(FIXED_SEED)(fuzz)
    started = time.time()
    with audit.capture() as seen:
        fuzz()
    writes = [e for e in seen.writes(namespaces=[fuzz_context.ns], user_agent_prefix=MODULE_AGENT)
              if e.resource not in REVIEWS]
    assert writes == [], "check mode wrote: %s" % seen.summary(writes)
    figures.setdefault("fuzz_no_traceback", {})["%s/%s" % (name, mode)] = dict(
        STATS.get(name, {}), seconds=round(time.time() - started, 1))
