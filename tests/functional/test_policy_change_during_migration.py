"""A change of a live-migrating server's timeout or maximum downtime
(``nova meta`` during the migration) applies to the running migration
(seed 001: the downtime "updated after the instance is running").

Nova 34 stores metadata of a migrating instance (its
``update_instance_metadata`` does not check the task state); the driver on
the source re-reads the instance's metadata every ``[wrs_lm]
live_migration_policy_refresh_interval`` seconds of the migration (5: ten
polls of the job), never on every poll.  Settings libvirt takes with the
job (auto-converge, tunnelling) apply from the next migration.
"""

import re

from nova.tests.functional.api import client

from nova_wrs_lm.harness import waits
from tests.functional import test_live_migration_policy as base

TIMEOUT = base.TIMEOUT
DOWNTIME = base.DOWNTIME
AUTO_CONVERGE = base.AUTO_CONVERGE
_CHANGED = re.compile(r'Live migration policy changed during the migration, '
                      r'after (\d+) sec: (.*)')


class PolicyChangeDuringMigrationTest(base.LiveMigrationTestBase):

    def _hold_migration_at(self, server, at):
        """Start ``server``'s migration (a job that never converges) and
        hold its monitor at ``at`` simulated seconds."""
        self.clock.hold(at=at)
        self._start_migration(server)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))
        self.assertEqual('migrating', self.api.get_server(
            server['id'])['OS-EXT-STS:task_state'])

    def _go_on_to(self, at):
        self.clock.hold(at=at)
        self.assertTrue(self.clock.held.wait(waits.SAFETY_LIMIT))

    def _request(self, method, server, path='', body=None):
        """(status, decoded body or text) of one metadata request."""
        url = 'servers/%s/metadata%s' % (server['id'], path)
        args = (url,) if method == 'delete' else (url, body)
        try:
            response = getattr(self.api, 'api_' + method)(
                *args, check_response_status=[200, 204])
        except client.OpenStackApiException as exc:
            return exc.response.status_code, exc.response.text
        return response.status, response.body

    def _meta_set(self, server, **metadata):
        """``nova meta SERVER set key=value ...`` (POST: merge)."""
        return self._request('post', server, body={'metadata': metadata})

    def _metadata(self, server):
        return self.api.api_get('servers/%s/metadata' % server['id']).body[
            'metadata']

    def _changes(self):
        return [(int(m.group(1)), m.group(2))
                for m in _CHANGED.finditer(self._log())]

    def _end(self, server):
        self.jobs.end(server['id'])
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])
        self._assert_on(server, 'src', 'ACTIVE')

    def test_raised_max_downtime_applies_within_the_refresh_interval(self):
        server = self._stuck_server(metadata={TIMEOUT: '600',
                                              DOWNTIME: '1000'})
        self._hold_migration_at(server, 100)
        before = list(self.jobs.downtimes[server['id']])
        self.assertLess(max(before), 1000)

        status, body = self._meta_set(server, **{DOWNTIME: '5000'})
        self.assertEqual(200, status, body)
        self.assertEqual('5000', body['metadata'][DOWNTIME])
        self.assertEqual('600', body['metadata'][TIMEOUT])
        self.assertEqual('5000', self._metadata(server)[DOWNTIME])

        self._go_on_to(450)
        applied = self.jobs.downtimes[server['id']]
        self.assertEqual(5000, max(applied))
        [(elapsed, what)] = self._changes()
        self.assertEqual('live_migration_max_downtime 1000 -> 5000 '
                         '(from instance)', what)
        # Within one refresh interval (5 s) of the change, made at 100 s.
        self.assertTrue(100 <= elapsed <= 105, elapsed)
        # The new ramp goes on from where the migration is: no step back.
        self.assertEqual(sorted(applied), applied)
        self.assertFalse(self.jobs.aborted[server['id']].is_set())
        self._end(server)

    def test_raised_timeout_postpones_the_abort(self):
        server = self._stuck_server(metadata={TIMEOUT: '120'})
        self._hold_migration_at(server, 100)
        status, body = self._meta_set(server, **{TIMEOUT: '300'})
        self.assertEqual(200, status, body)

        self._go_on_to(290)
        self.assertFalse(self.jobs.aborted[server['id']].is_set())
        self.assertEqual([('live_migration_timeout 120 -> 300 '
                           '(from instance)')],
                         [what for _, what in self._changes()])
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])
        self.assertTrue(self.jobs.aborted[server['id']].is_set())
        self.assertIn('Live migration not completed after 300 sec',
                      self._log())
        self.assertNotIn('Live migration not completed after 120 sec',
                         self._log())
        self._assert_on(server, 'src', 'ACTIVE')

    def test_removed_key_falls_back_to_the_next_rule(self):
        server = self._stuck_server(metadata={TIMEOUT: '600',
                                              DOWNTIME: '1000'})
        self._hold_migration_at(server, 50)
        status, _ = self._request('delete', server, '/' + DOWNTIME)
        self.assertEqual(204, status)
        self.assertNotIn(DOWNTIME, self._metadata(server))
        self._go_on_to(60)
        # Nova's [libvirt] live_migration_downtime (500) by default.
        self.assertEqual(['live_migration_max_downtime 1000 -> 500 '
                          '(from default)'],
                         [what for _, what in self._changes()])
        self._end(server)

    def test_single_key_form_and_replacement(self):
        server = self._stuck_server(metadata={TIMEOUT: '600',
                                              'owner': 'team-a'})
        self._hold_migration_at(server, 50)
        status, body = self._request('put', server, '/' + DOWNTIME,
                                     {'meta': {DOWNTIME: '3000'}})
        self.assertEqual((200, {'meta': {DOWNTIME: '3000'}}), (status, body))
        # A replacement that changes only changeable keys.
        status, body = self._request('put', server, body={'metadata': {
            TIMEOUT: '700', DOWNTIME: '3000', 'owner': 'team-a'}})
        self.assertEqual(200, status, body)
        self.assertEqual({TIMEOUT: '700', DOWNTIME: '3000',
                          'owner': 'team-a'}, self._metadata(server))
        self._end(server)

    def test_other_settings_wait_for_the_next_migration(self):
        server = self._stuck_server(metadata={TIMEOUT: '600'})
        self._hold_migration_at(server, 50)
        status, _ = self._meta_set(server, **{AUTO_CONVERGE: 'false',
                                              'owner': 'team-b'})
        self.assertEqual(200, status)
        self._go_on_to(100)
        self._end(server)
        self.assertEqual([], self._changes())

    def test_no_refresh_when_the_interval_is_zero(self):
        self.flags(group='wrs_lm', live_migration_policy_refresh_interval=0)
        server = self._stuck_server(metadata={TIMEOUT: '120'})
        self._hold_migration_at(server, 100)
        status, _ = self._meta_set(server, **{TIMEOUT: '300'})
        self.assertEqual(200, status)
        self.clock.release()
        self._wait_for_migration_status(server, ['failed'])
        self.assertIn('Live migration not completed after 120 sec',
                      self._log())
        self.assertEqual([], self._changes())
