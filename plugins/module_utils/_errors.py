# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The errors of the collection: one base class, caught once per module (_module.run).

str() of every error is one line that is safe to show: the code that raises one redacts what it
puts in; the module frame redacts again before it fails.
"""

from __future__ import annotations


class RegistryAccessError(Exception):
    """Base of every error the collection raises on purpose; result: what a module did before it (returned with the failure)."""

    def __init__(self, *args, result=None):
        super().__init__(*args)
        self.result = result


class InputError(RegistryAccessError, ValueError):
    """The module's input cannot be used; found before anything is written."""


class ConfigError(RegistryAccessError):
    """The connection options do not describe a usable cluster."""


class PlanError(RegistryAccessError):
    """The change cannot be planned from what the cluster holds (only the user or force can resolve it)."""


class ApiError(RegistryAccessError):
    """An API request that failed; str() is one line, safe to show."""

    def __init__(self, status, reason, message, method=None, path=None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.method = method
        self.path = path

    def __str__(self):
        where = '%s %s: ' % (self.method, self.path) if self.method else ''
        code = 'HTTP %s %s: ' % (self.status, self.reason) if self.status else ''
        return '%s%s%s' % (where, code, self.message)

    @property
    def unauthorized(self):
        return self.status == 401

    @property
    def forbidden(self):
        return self.status == 403

    @property
    def denied(self):
        """Unauthorized or forbidden: the identity may not do this."""
        return self.status in (401, 403)

    @property
    def not_found(self):
        return self.status == 404

    @property
    def conflict(self):
        """409: a stale resourceVersion, or an object that already exists."""
        return self.status == 409

    @property
    def gone(self):
        """410: a list continue token or watch that expired."""
        return self.status == 410
