"""``nova-wrs-lm segment list`` and ``segment show`` against Nova's
in-process cloud, through openstacksdk as an operator runs them: seed
004's segment host list before and after a failure (report-down and
``host recover`` with the CLI), bad metadata, a host in maintenance, an
unknown segment.

    segment S1: s1-a, s1-b (active), s1-r (reserved)
    segment S2: s2-a
    no segment: free
"""

import io
import json

from nova import conf as nova_conf
from nova import context as nova_context

from nova_wrs_lm.cmd import main
from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import sdk
from nova_wrs_lm.harness import segments as declared
from nova_wrs_lm.harness import settings
from nova_wrs_lm.scheduler import segments

HOSTS = ('s1-a', 's1-b', 's1-r', 's2-a', 'free')


def _host(name, reserved=False, on_maintenance=False, status='enabled',
          state='up', instances=0):
    return {'name': name, 'reserved': reserved,
            'on_maintenance': on_maintenance, 'status': status,
            'state': state, 'instances': instances}


class _SegmentViewTest(cloud.ApiTestCase):
    API_PASTE = settings.WRS_LM_API_PASTE
    microversion = 'latest'
    CAST_AS_CALL = False

    def _setup_scheduler_service(self):
        self.flags(group='filter_scheduler', **settings.scheduler_options(
            nova_conf.CONF, enabled_filters=['ComputeFilter']))
        return super()._setup_scheduler_service()

    def _setup_compute_service(self):
        self.flags(reserved_host_memory_mb=0)
        for host in HOSTS:
            self._start_compute(host)
        return self.computes['s1-a']

    def setUp(self):
        super().setUp()
        self.quarter = self._create_flavor(memory_mb=2048, vcpu=1, disk=1,
                                           ephemeral=0, name='quarter')
        self.conn = sdk.connection(self.api_fixture)

    def _cli(self, *argv, table=False):
        """``nova-wrs-lm ARGV`` (the package's parser), JSON unless
        ``table``: (status, answer, stderr)."""
        args = main._parser().parse_args(
            list(argv) + ([] if table else ['--format', 'json']))
        out, err = io.StringIO(), io.StringIO()
        kwargs = {'poll_interval': 0.05} if argv[:2] == ('host',
                                                         'recover') else {}
        with self.conn.real_endpoints() as conn:
            status = args.run(args, out, err, conn=conn, **kwargs)
        text = out.getvalue()
        if table or not text:
            return status, text, err.getvalue()
        return status, json.loads(text), err.getvalue()

    def _segment(self, name):
        status, doc, err = self._cli('segment', 'show', name)
        self.assertEqual(0, status, err)
        (found,) = doc['segments']
        self.assertEqual(name, found['name'])
        return found

    def _boot(self, host):
        server = self._create_server(flavor_id=self.quarter, host=host,
                                     networks='none')
        self.assertEqual(host, self.api.get_server(server['id'])[
            'OS-EXT-SRV-ATTR:host'])
        return server


class Seed004Test(_SegmentViewTest):
    """The operator's view of seed 004's ``reserved_host`` check."""

    def setUp(self):
        super().setUp()
        declared.declare(self, 'S1', ('s1-a', 's1-b'), reserved=('s1-r',),
                         method=segments.RESERVED_HOST)
        declared.declare(self, 'S2', ('s2-a',))

    def _refresh_usage(self, failed):
        ctx = nova_context.get_admin_context()
        for host, compute in self.computes.items():
            if host != failed:
                with nova_context.target_cell(
                        ctx, self.host_mappings[host].cell_mapping) as cctxt:
                    compute.manager.update_available_resource(cctxt)

    def test_segment_before_and_after_a_failure(self):
        for host in ('s1-a', 's1-a', 's1-b'):
            self._boot(host)
        status, doc, err = self._cli('segment', 'list')
        self.assertEqual(0, status, err)
        self.assertEqual({'segments': [
            {'name': 'S1', 'recovery_method': 'reserved_host',
             'hosts': [_host('s1-a', instances=2),
                       _host('s1-b', instances=1),
                       _host('s1-r', reserved=True)],
             'warnings': []},
            {'name': 'S2', 'recovery_method': 'auto',
             'hosts': [_host('s2-a')],
             'warnings': ['Failover segment S2 (auto) has one host '
                          '(s2-a): when it fails, its instances have '
                          'nowhere to go in the segment.']}],
            'warnings': []}, doc)

        # s1-a fails; the monitor reports it down, the operator recovers.
        self.computes['s1-a'].stop()
        self._refresh_usage('s1-a')
        status, _, err = self._cli('host', 'report-down', 's1-a')
        self.assertEqual(0, status, err)
        status, doc, err = self._cli('host', 'recover', 's1-a')
        self.assertEqual((0, 2), (status, doc['recovered']), err)

        # As in seed 004: the failed host in maintenance, the reserved
        # host no longer reserved and holding the instances.
        found = self._segment('S1')
        self.assertEqual(
            [_host('s1-a', on_maintenance=True, status='disabled',
                   state='down'),
             _host('s1-b', instances=1), _host('s1-r', instances=2)],
            found['hosts'])
        self.assertEqual(
            ['Failover segment S1 (reserved_host): the method admits only '
             'reserved hosts and no reserved host is left: the instances '
             'of a failed host have nowhere to go.'], found['warnings'])

        status, text, err = self._cli('segment', 'show', 'S1', table=True)
        self.assertEqual(0, status, err)
        lines = text.splitlines()
        self.assertEqual('Segment S1, recovery method reserved_host',
                         lines[0])
        self.assertEqual(['name', 'reserved', 'on_maintenance', 'status',
                          'state', 'instances'], lines[2].split())
        self.assertEqual(['s1-a', 'False', 'True', 'disabled', 'down', '0'],
                         lines[4].split())
        self.assertEqual(['s1-r', 'False', 'False', 'enabled', 'up', '2'],
                         lines[6].split())
        self.assertTrue(lines[7].startswith(
            'warning: Failover segment S1 (reserved_host): the method '
            'admits only reserved hosts'), text)


class BadMetadataTest(_SegmentViewTest):

    def setUp(self):
        super().setUp()
        self.s1 = declared.declare(self, 'S1', ('s1-a', 's1-b'),
                                   reserved=('s1-r',))
        # A typo the scheduler ignores (S1 keeps auto).
        declared.set_metadata(self, self.s1.aggregate, {
            segments.RECOVERY_METHOD.name: 'reserved-host'})
        declared.declare(self, 'S2', ('s2-a',))
        declared.aggregate(self, 'S2-disks', ['s2-a'],
                           {segments.RESERVED.name: 'maybe'})
        # Reserved, but in no segment.
        declared.aggregate(self, 'spare', ['free'],
                           {segments.RESERVED.name: 'true'})
        # s1-b in maintenance: with auto, s1-a has no active host left.
        service = self.api.get_services(host='s1-b',
                                        binary='nova-compute')[0]
        self.api.put_service(service['id'], {
            'status': 'disabled', 'disabled_reason': 'maintenance: disks'})

    def test_warnings_name_what_the_scheduler_ignores(self):
        self._boot('s1-a')
        status, doc, err = self._cli('segment', 'list')
        self.assertEqual(0, status, err)
        s1, s2 = doc['segments']
        self.assertEqual(('S1', 'auto'), (s1['name'], s1['recovery_method']))
        self.assertEqual(
            [_host('s1-a', instances=1),
             _host('s1-b', on_maintenance=True, status='disabled'),
             _host('s1-r', reserved=True)], s1['hosts'])
        agg = self.api.api_get('/os-aggregates').body['aggregates']
        ids = {a['name']: a['id'] for a in agg}
        self.assertEqual(
            ["Aggregate S1 (id %d): failover_segment_recovery_method="
             "'reserved-host' ignored: it must be one of auto, "
             "reserved_host, auto_priority, rh_priority." % ids['S1'],
             'Failover segment S1 (auto): when s1-a fails, its instances '
             'have nowhere to go: no other active host of the segment is '
             'enabled and up.'], s1['warnings'])
        self.assertEqual(
            ["Aggregate S2-disks (id %d): failover_segment_reserved="
             "'maybe' ignored: it must be a boolean (true or false)."
             % ids['S2-disks'],
             'Failover segment S2 (auto) has one host (s2-a): when it '
             'fails, its instances have nowhere to go in the segment.'],
            s2['warnings'])
        self.assertEqual([_host('s2-a')], s2['hosts'])
        self.assertEqual(
            ['Host free: failover_segment_reserved=true has no effect: the '
             'host is in no failover segment.'], doc['warnings'])

        # show: the one segment, and the findings about no segment.
        status, shown, err = self._cli('segment', 'show', 'S2')
        self.assertEqual(0, status, err)
        self.assertEqual({'segments': [s2], 'warnings': doc['warnings']},
                         shown)

    def test_show_of_an_unknown_segment_fails_clearly(self):
        for table in (False, True):
            status, out, err = self._cli('segment', 'show', 'S3',
                                         table=table)
            self.assertEqual((1, ''), (status, out))
            self.assertEqual(
                "nova-wrs-lm segment show: error: no failover segment "
                "'S3': no aggregate has failover_segment=S3 (segments: S1, "
                "S2)\n", err)
