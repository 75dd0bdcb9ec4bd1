"""The operation of a request, read from Nova's databases."""

from nova import context as nova_context
from nova import objects
from nova import test
from oslo_utils.fixture import uuidsentinel as uuids

from nova_wrs_lm.scheduler import request
from tests.unit.scheduler import fakes


class OperationTest(test.TestCase):
    USES_DB_SELF = False

    def setUp(self):
        super().setUp()
        self.ctx = nova_context.get_admin_context()
        self.cell = self.cell_mappings['cell1']

    def _mapping(self, cell):
        objects.InstanceMapping(
            self.ctx, instance_uuid=uuids.instance, project_id='p',
            cell_mapping=cell).create()

    def _migration(self, status, kind, source):
        with nova_context.target_cell(self.ctx, self.cell) as cctxt:
            objects.Migration(
                cctxt, instance_uuid=uuids.instance, status=status,
                migration_type=kind, source_compute=source,
                source_node=source).create()

    def _of(self, ignore_hosts=None):
        return request.of_request(fakes.request_spec(
            uuids.instance, ignore_hosts=ignore_hosts, context=self.ctx))

    def test_boot_not_yet_in_a_cell(self):
        self._mapping(None)
        self.assertEqual(request.NEW_INSTANCE, self._of())

    def test_evacuation_record(self):
        self._mapping(self.cell)
        self._migration('completed', 'live-migration', 'old')
        self._migration('accepted', 'evacuation', 's1-a')
        self.assertEqual(request.Operation('evacuation', 's1-a'),
                         self._of(['s1-a']))

    def test_resize_to_same_host_has_no_ignore_hosts(self):
        self._mapping(self.cell)
        self._migration('pre-migrating', 'resize', 's1-a')
        self.assertEqual(request.Operation('resize', 's1-a'), self._of())

    def test_unshelve_is_a_new_placement(self):
        self._mapping(self.cell)
        self._migration('error', 'evacuation', 'gone')
        self.assertEqual(request.NEW_INSTANCE, self._of())

    def test_ignore_hosts_when_no_record(self):
        self._mapping(self.cell)
        self.assertEqual(request.Operation(request.MOVE, 'src'),
                         self._of(['src', 'tried']))

    def test_ignore_hosts_without_a_context(self):
        spec = fakes.request_spec(uuids.instance, ignore_hosts=['src'])
        self.assertEqual(request.Operation(request.MOVE, 'src'),
                         request.of_request(spec))
