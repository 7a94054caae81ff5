# Test-only callback: writes each task result, diff included, as Ansible returns it (after its
# no_log masking) to the JSON Lines file named by OCP_TEST_RESULT_FILE.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: result_file
type: aggregate
short_description: write raw task results to a file (tests only)
description: Writes each task result to the file named by OCP_TEST_RESULT_FILE.
requirements: [enabled in configuration]
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'result_file'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get('OCP_TEST_RESULT_FILE')
        if not path:
            return
        data = dict(result._result)
        data['_status'] = status
        data['_task'] = result._task.get_name()
        with open(path, 'a') as f:
            f.write(json.dumps(data, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')
