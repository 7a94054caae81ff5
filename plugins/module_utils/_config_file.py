# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""Module layer: the docker config the modules' `content` or `src` option gives (reads the file)."""

from __future__ import annotations

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro


def load_config(content=None, src=None):
    """The DockerConfig of the modules' `content` (dict or JSON text) or `src` (a file path).

    DockerConfigError saying which option and why, never with the document's text.
    """
    if src is None:
        return ro.config_from_option(content, 'content')
    try:
        with open(src, 'rb') as f:
            raw = f.read()
    except (IOError, OSError) as e:
        raise dc.DockerConfigError('src: cannot read %s: %s' % (src, e.strerror or e))
    return ro.config_from_option(raw, 'src %s' % src)
