"""The modules' registry options, and the docker config their content or src gives."""

import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _config_file as config_file
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro


# -- the modules' shared options --------------------------------------------------------------------

def test_entries_from_options_builds_as_kubectl_writes():
    entries = ro.entries_from_options([dict(server='r.example.com', username='u', password='fake-opt-pw', email=None,
                                            auth=None, identity_token=None)])
    assert entries == {'r.example.com': dc.build_entry(username='u', password='fake-opt-pw')}


@pytest.mark.parametrize('registries,message', [
    ([dict(server='')], 'empty'),
    ([dict(server='https://quay.io', username='a', password='b'), dict(server='quay.io', username='a', password='b')],
     'same registry'),
    ([dict(server='quay.io', username='a')], 'quay.io'),
])
def test_entries_from_options_rejects_bad_entries(registries, message):
    with pytest.raises(dc.DockerConfigError, match=message):
        ro.entries_from_options(registries)


def test_load_config_reads_src_and_content(tmp_path):
    document = {'auths': {'quay.io': dc.build_entry(username='u', password='fake-load-pw')}}
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(document))
    assert config_file.load_config(src=str(path)).auths == document['auths']
    assert config_file.load_config(content=document).auths == document['auths']


@pytest.mark.parametrize('kwargs,message', [
    (dict(src='/nonexistent/config.json'), 'src: cannot read /nonexistent/config.json'),
    (dict(content='{not json'), 'content is not a valid docker config'),
])
def test_load_config_says_which_option_is_wrong(kwargs, message):
    with pytest.raises(dc.DockerConfigError, match=message):
        config_file.load_config(**kwargs)
