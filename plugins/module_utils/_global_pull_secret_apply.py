# -*- coding: utf-8 -*-
# Copyright (c) 2026, ocp.registry_access contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# private: do not use from other collections

"""The global_pull_secret module's run: read, plan (_global_pull_secret, pure), back up, write with the read
resourceVersion, prune, wait for the rollout.

Runs in the module frame (_module.RegistryAccessModule): the client is the frame's (a dry-run client
in check mode, so the same code path serves both), errors are raised and reported once by the frame.
"""

from __future__ import annotations

import datetime

from ansible_collections.ocp.registry_access.plugins.module_utils import _config_file as config_file
from ansible_collections.ocp.registry_access.plugins.module_utils import _credential_lookup as cl
from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from ansible_collections.ocp.registry_access.plugins.module_utils import _global_pull_secret as gps
from ansible_collections.ocp.registry_access.plugins.module_utils import _registry_options as ro
from ansible_collections.ocp.registry_access.plugins.module_utils._constants import MAX_CONFLICT_ATTEMPTS, resource_path
from ansible_collections.ocp.registry_access.plugins.module_utils._errors import ApiError, InputError, PlanError
from ansible_collections.ocp.registry_access.plugins.module_utils._poll import poll, slowing

MCO_GROUP = 'machineconfiguration.openshift.io'


class GlobalPullSecret(object):
    """Orchestration: read, plan (pure), back up, write with the read resourceVersion, prune, wait.

    Check mode is the client's (a dry run): the same steps run, no write is sent; pruning and the
    rollout wait follow a real write only.
    """

    def __init__(self, module):
        self.module, self.params, self.client = module, module.params, module.client
        self.guard_hosted = gps.is_default_target(self.params['namespace'], self.params['name'])
        self.namespace = self.params['namespace'] or gps.DEFAULT_NAMESPACE
        self.name = self.params['name'] or gps.DEFAULT_NAME
        self.where = '%s/%s' % (self.namespace, self.name)
        self.path = resource_path('secrets', self.namespace, self.name)
        # returned with a failure too: what was done before it
        self.result = module.result
        self.result.update(changed=False, backup_name=None, pruned_backups=[], rollout=[])

    # -- input ----------------------------------------------------------------------------

    def request(self):
        """(mode, given) for gps.plan_change from registries, content or src; InputError on bad input."""
        p = self.params
        if p['backup_keep'] < 1:
            raise InputError('backup_keep must be at least 1')
        if p['wait_timeout'] < 1:
            raise InputError('wait_timeout must be at least 1 second')
        try:
            if p['registries'] is not None:
                if not p['registries']:
                    raise InputError('registries is empty: name at least one registry')
                if p['state'] == 'absent':
                    servers = [reg['server'] for reg in p['registries']]
                    if not all(servers):
                        raise dc.DockerConfigError('a registry key (server) is empty')
                    return 'absent', servers
                entries = ro.entries_from_options(p['registries'], consumer=cl.CONTAINERS_IMAGE)
                self.module.hide(dc.secret_values(entries))
                return 'present', entries
        except dc.DockerConfigError as e:
            raise InputError('registries: %s; nothing was changed' % e)
        try:
            config = config_file.load_config(p['content'], p['src'])
        except dc.DockerConfigError as e:
            raise InputError('%s; nothing was changed' % e)
        self.module.hide(dc.secret_values(config.auths))
        return 'replace', config

    # -- run ------------------------------------------------------------------------------

    def check_topology(self):
        """Fail on a hosted control plane unless the target is another Secret; skipped where the API is absent or forbidden."""
        if not self.guard_hosted:
            return
        try:
            infrastructure = self.client.get(resource_path('infrastructures', name='cluster', group='config.openshift.io'))
        except ApiError as e:
            if not e.forbidden:
                raise
            self.module.warn('cannot read infrastructures.config.openshift.io/cluster (forbidden), so whether this is a '
                             'hosted control plane (where %s/%s is overwritten) was not checked' % (self.namespace, self.name))
            return
        if gps.is_hosted_control_plane(infrastructure):
            raise PlanError('%s; nothing was changed' % gps.HOSTED_GUIDANCE)

    def run(self):
        p = self.params
        mode, given = self.request()
        self.check_topology()
        secret = self.client.get(self.path)
        self.module.hide_secrets([secret])
        plan = self.plan(secret, mode, given)
        wait = p['wait'] and not self.client.dry_run
        rendered_before = self.rendered_configs() if wait else None
        if plan.changed:
            plan = self.write(secret, mode, given)
            if plan.changed and p['backup'] and not self.client.dry_run:
                self.prune_backups()
        self.finish(plan)
        if wait:
            self.wait(rendered_before, require_new=plan.changed)
        return self.result

    def plan(self, secret, mode, given):
        try:
            return gps.plan_change(secret, self.where, mode, given, self.params['allow_telemetry_change'])
        except PlanError as e:
            raise PlanError('%s: %s; nothing was changed' % (self.where, e))

    def write(self, secret, mode, given):
        """Back up and replace with the read resourceVersion; on a conflict the plan is made again from the fresh Secret."""
        outcome = {}

        def mutate(current):
            self.module.hide_secrets([current])
            plan = outcome['plan'] = self.plan(current, mode, given)
            if not plan.changed:
                return None
            self.module.hide(dc.document_values(plan.data))
            if self.params['backup']:
                try:
                    self.backup(current)
                except ApiError as e:
                    raise PlanError('cannot back up %s: %s; nothing was changed' % (self.where, e))
            return gps.updated_secret(current, plan.data)

        self.client.read_modify_write(self.path, mutate, current=secret)
        self.result['changed'] = outcome['plan'].changed
        return outcome['plan']

    # -- backups --------------------------------------------------------------------------

    @staticmethod
    def now():
        return datetime.datetime.now(datetime.timezone.utc)

    def backup(self, secret):
        """Keep secret's data in a backup Secret; after a conflict, the same backup gets the fresher data."""
        name = self.result['backup_name']
        if name is not None:
            path = resource_path('secrets', self.namespace, name)
            self.client.read_modify_write(path, lambda b: None if b is None or b.get('data') == secret.get('data')
                                          else dict(b, data=dict(secret.get('data') or {})))
            return
        stamp = self.now()

        def create(attempt):  # a 409 (AlreadyExists) is a backup of the same second: the next name
            name = gps.backup_name(self.name, stamp, attempt)
            self.client.create(resource_path('secrets', self.namespace), gps.backup_secret(secret, name))
            return name

        try:
            self.result['backup_name'] = self.client.retry_on_conflict(create)
        except ApiError as e:
            if not e.conflict:
                raise
            raise PlanError('cannot create a backup of %s: %d backups of the same second exist; nothing was changed'
                            % (self.where, MAX_CONFLICT_ATTEMPTS))

    def prune_backups(self):
        try:
            backups = self.client.list(resource_path('secrets', self.namespace),
                                       label_selector='%s=%s' % (gps.BACKUP_LABEL, self.name))
            for name in gps.backups_to_prune(backups, self.name, self.params['backup_keep']):
                self.client.delete(resource_path('secrets', self.namespace, name))
                self.result['pruned_backups'].append(name)
        except ApiError as e:
            self.module.warn('the pull secret was updated, but pruning its old backups failed: %s' % e)

    # -- rollout --------------------------------------------------------------------------

    def pools(self):
        """Every MachineConfigPool, or None where the API does not exist (not OpenShift)."""
        try:
            return self.client.list(resource_path('machineconfigpools', group=MCO_GROUP))
        except ApiError as e:
            if e.not_found:
                return None
            raise

    def rendered_configs(self):
        pools = self.pools()
        return None if pools is None else gps.rendered_configs(pools)

    def wait(self, rendered_before, require_new):
        if rendered_before is None:
            self.module.warn('this cluster has no MachineConfigPool API (%s), so there is no rollout to wait for' % MCO_GROUP)
            return
        done_what = 'the pull secret was updated' if self.result['changed'] else 'the pull secret did not change'
        progress = []

        def rolled_out():
            try:
                progress[:] = gps.rollout_state(self.pools() or [], rendered_before, require_new)
            except ApiError as e:
                raise PlanError('%s, but reading the MachineConfigPools failed: %s' % (done_what, e))
            self.result['rollout'] = gps.rollout_result(progress)
            degraded = [p for p in progress if p['degraded']]
            if degraded:
                raise PlanError('%s, but %s' % (done_what, '; '.join('MachineConfigPool %s is degraded (%s)'
                                                                     % (p['name'], p['degraded']) for p in degraded)))
            return all(p['done'] for p in progress)

        # every second at first, then less often on a long rollout
        timeout = self.params['wait_timeout']
        if not poll(rolled_out, timeout, slowing(1, 1 / 30.0, 10)):
            raise PlanError('%s, but timed out after %ds waiting for the MachineConfigPools to roll it out: %s'
                            % (done_what, timeout, gps.describe_pending(progress)))

    # -- result ---------------------------------------------------------------------------

    def finish(self, plan):
        """The result of plan (the one written, or in check mode the one that would be)."""
        self.result.update(changed=plan.changed, registries=sorted(plan.auths_after), added=plan.added,
                           updated=plan.updated, removed=plan.removed, fingerprint=dc.fingerprint_config(plan.auths_after))
        for warning in gps.warnings(plan.auths_after, plan.extra_after):
            self.module.warn(warning)
        if self.module.diff:
            self.result['diff'] = {'before': gps.view(plan.auths_before), 'after': gps.view(plan.auths_after)}
