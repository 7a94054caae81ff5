"""The roles' argument specs (roles/*/meta/argument_specs.yml) agree with the modules they pass through.

Each role task that calls a module maps module options to role variables (cluster_pull_secret_backup ->
backup) or to keys of a loop item (item.image_namespace -> namespace). For every such pair the role
documents, the type, elements, choices, required, no_log and default must be the module's, suboptions
included; every key of an item list is passed to the module, and every module option is either passed
or set by the role itself. The module's argument spec is taken from the AnsibleModule its main() builds,
so the test does not depend on how a module assembles its spec.
"""

import os
import re

import pytest
import yaml
from helpers import specs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "ocp.registry_access."
# Given to every module through module_defaults (group/ocp.registry_access.cluster), never by a role.
CONNECTION = {"kubeconfig", "context", "host", "api_key", "ca_cert", "client_cert", "client_key", "validate_certs",
              "proxy", "no_proxy", "impersonate_user", "impersonate_groups"}
# Module options a role sets itself or leaves to the module, per role and module, with the reason.
NOT_PASSED_ON = {
    ("audit", "registry_access_info"): {
        "namespace": "audit_namespaces takes one namespace or several (the module's namespaces)",
    },
    ("cluster_pull_secret", "global_pull_secret"): {
        "content": "the role edits entries; a whole document is the module's job",
        "src": "the role edits entries; a whole document is the module's job",
    },
}
TEMPLATE_NAME = re.compile(r"\{\{\s*(item\.)?([A-Za-z_][A-Za-z0-9_]*)")
# A value passed as-is or omitted when unset: the module's default is the role's default.
PASS_THROUGH = re.compile(r"^\{\{\s*(item\.)?[A-Za-z_][A-Za-z0-9_]*\s*(\|\s*default\(omit(,\s*true)?\)\s*)?\}\}$")


def load(path):
    with open(os.path.join(REPO, path)) as f:
        return yaml.safe_load(f)


def role_options(role):
    return load("roles/%s/meta/argument_specs.yml" % role)["argument_specs"]["main"]["options"]


def module_tasks(role):
    """(module name, task arguments) of each task of the role that calls a module of the collection."""
    for task in load("roles/%s/tasks/main.yml" % role):
        for key, args in task.items():
            if key.startswith(COLLECTION):
                yield key[len(COLLECTION):], args, task.get("loop")


def mapping(args):
    """module option -> (role variable or item key, is it an item key, the template) for each templated argument."""
    found = {}
    for option, value in args.items():
        match = TEMPLATE_NAME.match(str(value))
        if match and not match.group(2).startswith("__"):
            found[option] = (match.group(2), bool(match.group(1)), str(value))
    return found


def normalised(spec, key):
    value = spec.get(key)
    if key == "default" and value is None and spec.get("type") in ("list", "dict"):
        return {"list": [], "dict": {}}[spec["type"]]
    if key in ("required", "no_log"):
        return bool(value)
    if key == "type":
        return value or "str"
    return value


def differences(path, role_spec, module_spec_, compare_default=True):
    """What differs between a role option and the module option it is passed to, suboptions included."""
    found = []
    keys = ["type", "elements", "choices", "no_log"] + (["default"] if compare_default else [])
    if path.count(".") and compare_default:
        keys.append("required")  # a role variable is never required; a suboption is as the module's
    for key in keys:
        if normalised(role_spec, key) != normalised(module_spec_, key):
            found.append("%s: %s is %r in the role, %r in the module" % (path, key, normalised(role_spec, key),
                                                                         normalised(module_spec_, key)))
    role_sub, module_sub = role_spec.get("options") or {}, module_spec_.get("options") or {}
    for name in sorted(set(role_sub) | set(module_sub)):
        if name not in module_sub:
            found.append("%s.%s: in the role, not in the module" % (path, name))
        elif name not in role_sub:
            found.append("%s.%s: in the module, not in the role" % (path, name))
        else:
            found.extend(differences("%s.%s" % (path, name), role_sub[name], module_sub[name]))
    return found


def role_module_pairs():
    for role in sorted(os.listdir(os.path.join(REPO, "roles"))):
        for module, args, loop in module_tasks(role):
            yield pytest.param(role, module, args, loop, id="%s-%s" % (role, module))


PAIRS = list(role_module_pairs())


def test_every_role_calls_a_module():
    assert sorted(set(p.values[0] for p in PAIRS)) == sorted(os.listdir(os.path.join(REPO, "roles")))


@pytest.mark.parametrize("role,module,args,loop", PAIRS)
def test_role_argument_spec_agrees_with_the_module(role, module, args, loop):
    spec = specs.module_spec(module)
    options = role_options(role)
    item_spec = None
    if loop is not None:
        [(list_name, _item, _template)] = [mapping({"loop": loop})["loop"]]
        item_spec = options[list_name]
        assert item_spec["type"] == "list" and item_spec["elements"] == "dict", list_name
    found = []
    passed = mapping(args)
    for option, (name, from_item, template) in sorted(passed.items()):
        if option not in spec:
            found.append("%s: the role passes an option the module does not have" % option)
            continue
        source = item_spec["options"] if from_item else options
        if name not in source:
            if not from_item and not name.startswith(role + "_"):
                continue  # a variable of the play (registry_access_*), not the role's
            found.append("%s: passed from %s, which the role's argument spec does not document" % (option, name))
            continue
        found.extend(differences("%s (%s)" % (name, option), source[name], spec[option],
                                 compare_default=bool(PASS_THROUGH.match(template.strip()))))
    if item_spec is not None:
        # every key an item may have reaches the module
        from_items = set(name for name, from_item, _t in passed.values() if from_item)
        found.extend("%s[].%s: documented, never passed to the module" % (list_name, key)
                     for key in sorted(set(item_spec["options"]) - from_items))
    reasons = NOT_PASSED_ON.get((role, module), {})
    found.extend("%s: a module option the role neither passes nor sets" % option
                 for option in sorted(set(spec) - set(args) - CONNECTION - set(reasons)))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("role", sorted(os.listdir(os.path.join(REPO, "roles"))))
def test_role_defaults_are_the_documented_defaults(role):
    defaults = load("roles/%s/defaults/main.yml" % role) or {}
    options = role_options(role)
    assert sorted(set(defaults) - set(options)) == []
    differ = []
    for name, spec in sorted(options.items()):
        value = defaults.get(name)
        if isinstance(value, str) and "{{" in value and spec.get("type", "str") not in ("str", "raw"):
            # a list or dict computed by a template: an argument spec cannot carry it (antsibull-docs refuses a
            # string as the default of a list), so the description says it and no default is documented
            if "default" in spec:
                differ.append((name, value, spec["default"]))
        elif value != spec.get("default"):
            differ.append((name, value, spec.get("default")))
    assert differ == []


def test_a_changed_suboption_is_found():
    role = {"type": "list", "elements": "dict", "options": {
        "server": {"type": "str", "required": True}, "password": {"type": "str"}}}
    module = {"type": "list", "elements": "dict", "options": {
        "server": {"type": "str", "required": True}, "password": {"type": "str", "no_log": True},
        "email": {"type": "str"}}}
    assert differences("registries", role, module) == [
        "registries.email: in the module, not in the role",
        "registries.password: no_log is False in the role, True in the module"]
    assert differences("wait_for", {"type": "str", "choices": ["exists"], "default": "exists"},
                       {"type": "str", "choices": ["exists", "none"], "default": "exists"}) == [
        "wait_for: choices is ['exists'] in the role, ['exists', 'none'] in the module"]


# Facts a role sets for the play after it, documented in its README; every other variable a role makes is internal.
PUBLIC_FACTS = {"audit": {"audit_result", "audit_report_files"}}


def made_variables(tasks):
    """The names a list of tasks makes: register, set_fact and task vars, blocks included."""
    for task in tasks or []:
        if task.get("register"):
            yield task["register"]
        yield from (task.get("ansible.builtin.set_fact") or task.get("set_fact") or {})
        yield from (task.get("vars") or {})
        for key in ("block", "rescue", "always"):
            yield from made_variables(task.get(key))


@pytest.mark.parametrize("role", sorted(os.listdir(os.path.join(REPO, "roles"))))
def test_role_internals_are_double_underscored(role):
    """linux-system-roles' convention: public variables role_*, internal ones __role_*."""
    names = set(made_variables(load("roles/%s/tasks/main.yml" % role)))
    if os.path.exists(os.path.join(REPO, "roles", role, "vars", "main.yml")):
        names |= set(load("roles/%s/vars/main.yml" % role) or {})
    public = PUBLIC_FACTS.get(role, set())
    assert sorted(n for n in names - public if not n.startswith("__%s_" % role)) == []
