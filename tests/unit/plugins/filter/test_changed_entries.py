"""The changed_entries filter gives what the Jinja chain it replaces in the project_access role gave."""

from __future__ import annotations

import jinja2.nativetypes
import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import flatten
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocp.registry_access.plugins.filter.changed_entries import FilterModule, changed_entries

JINJA_CHAIN = "{{ results | map(attribute=key, default=[]) | flatten | rejectattr('action', 'equalto', 'unchanged') | list }}"

actions = st.sampled_from(["created", "updated", "unchanged", "linked", "deleted"])
entry = st.fixed_dictionaries({"namespace": st.text(max_size=3)}, optional={"action": actions})
result = st.fixed_dictionaries({}, optional={"secrets": st.lists(entry, max_size=4), "service_accounts": st.lists(entry, max_size=4),
                                             "changed": st.booleans()})


def jinja_chain_value(results, key):
    env = jinja2.nativetypes.NativeEnvironment()
    env.filters["flatten"] = flatten
    return env.from_string(JINJA_CHAIN).render(results=results, key=key)


@settings(max_examples=200, deadline=None)
@given(st.lists(result, max_size=5), st.sampled_from(["secrets", "service_accounts"]))
def test_the_same_entries_as_the_jinja_chain(results, key):
    assert changed_entries(results, key) == list(jinja_chain_value(results, key) or [])


def test_keeps_order_and_drops_only_unchanged():
    results = [{"secrets": [{"n": 1, "action": "created"}, {"n": 2, "action": "unchanged"}]}, {"changed": False},
               {"secrets": [{"n": 3, "action": "updated"}, {"n": 4}]}]
    assert [e["n"] for e in changed_entries(results, "secrets")] == [1, 3, 4]


def test_registered_by_name():
    assert FilterModule().filters() == {"changed_entries": changed_entries}


@pytest.mark.parametrize("bad", [None, "text", {"results": []}])
def test_not_a_list_of_results_is_a_filter_error(bad):
    with pytest.raises(AnsibleFilterError, match="changed_entries: expected a list of results"):
        changed_entries(bad, "secrets")
