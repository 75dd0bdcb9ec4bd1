"""Volume-backed servers (seed 001): a server booted from a Cinder volume
made from an image gets the image's live-migration keys through the
volume's ``volume_image_metadata``.

Nova 34.0.0 reads the boot volume at boot
(``nova.block_device.get_bdm_image_metadata`` ->
``get_image_metadata_from_volume``: ``volume_image_metadata`` becomes the
image's ``properties``) and ``nova.compute.api.API._populate_instance_
for_create`` stores them as ``image_<key>`` system metadata
(``nova.utils.get_system_metadata_from_image``), which is where the
driver reads image properties.  ``explain --server`` reads the same keys
from the volume through the block-storage API.
"""

import argparse
import io
import json

from nova import context as nova_context
from nova import objects
from oslo_utils import uuidutils

from nova_wrs_lm import spec_table
from nova_wrs_lm.cmd import explain
from nova_wrs_lm.harness import sdk
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE
from tests.functional import test_live_migration_policy as base

TIMEOUT = spec_table.TIMEOUT
DOWNTIME = spec_table.MAX_DOWNTIME
#: What seed 001's ``cinder show`` lists (an image key auto-converge is
#: not read from).
IMAGE_PERMIT_AUTO_CONVERGE = 'hw_wrs_live_migration_permit_auto_converge'


class VolumeBackedTestBase(base.LiveMigrationTestBase):

    # No ephemeral disk: a volume-backed server with no local disk
    # migrates without a block migration.
    FLAVOR_SIZE = {'vcpu': 1, 'memory_mb': 256, 'disk': 1, 'ephemeral': 0}

    def _volume(self, image_metadata=None):
        """A bootable volume in the Cinder fixture, made from an image with
        ``image_metadata`` (as Cinder shows it: strings, with the image's
        id and name); its id."""
        volume_id = uuidutils.generate_uuid()
        volume = {'id': volume_id, 'display_name': 'bfv', 'size': 1,
                  'multiattach': False, 'availability_zone': 'nova',
                  'bootable': True}
        if image_metadata is not None:
            volume['volume_image_metadata'] = dict(
                image_metadata, image_id=uuidutils.generate_uuid(),
                image_name='lm-image', min_ram='0', min_disk='1')
        self.cinder.volumes[volume_id] = volume
        return volume_id

    def _volume_server(self, volume_id, flavor=None, metadata=None):
        """Boot a server on src from ``volume_id`` (no image)."""
        flavor_id = self._create_flavor(extra_spec=flavor or {},
                                        **self.FLAVOR_SIZE)
        request = self._build_server(flavor_id=flavor_id, networks='none',
                                     host='src')
        request.pop('imageRef')
        request['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': volume_id, 'source_type': 'volume',
            'destination_type': 'volume'}]
        if metadata:
            request['metadata'] = dict(metadata)
        server = self.api.post_server({'server': request})
        return self._wait_for_state_change(server, 'ACTIVE')

    def _system_metadata(self, server):
        ctxt = nova_context.get_admin_context()
        cell = objects.InstanceMapping.get_by_instance_uuid(
            ctxt, server['id']).cell_mapping
        with nova_context.target_cell(ctxt, cell) as cctxt:
            return objects.Instance.get_by_uuid(
                cctxt, server['id'],
                expected_attrs=['system_metadata']).system_metadata


class VolumeImageMetadataMigrationTest(VolumeBackedTestBase):
    """The driver applies the volume image's max downtime and timeout;
    instance metadata still takes part as the table's precedence says."""

    def _stuck(self, metadata=None):
        volume_id = self._volume({
            DOWNTIME.canonical(IMAGE): '100',
            TIMEOUT.canonical(IMAGE): '150',
            IMAGE_PERMIT_AUTO_CONVERGE: 'True'})
        server = self._volume_server(volume_id, metadata=metadata)
        self.jobs.never_converges(server['id'])
        return server

    def test_volume_image_downtime_and_timeout_are_applied(self):
        server = self._stuck()
        self.assertEqual('', server['image'])
        # Nova copied the volume's image metadata into system metadata.
        sysmeta = self._system_metadata(server)
        self.assertEqual('100',
                         sysmeta['image_' + DOWNTIME.canonical(IMAGE)])
        self.assertEqual('150', sysmeta['image_' + TIMEOUT.canonical(IMAGE)])
        self._live_migrate(server, migration_expected_state='failed',
                           server_expected_state='ACTIVE')
        self._assert_on(server, 'src', 'ACTIVE')
        applied = self.jobs.downtimes[server['id']]
        self.assertEqual(100, max(applied))
        self.assertEqual(100, applied[-1])
        log = self._log()
        self.assertIn('Live migration not completed after 150 sec', log)
        self.assertIn('live_migration_timeout=150 (image)', log)
        self.assertIn('live_migration_max_downtime=100 (image)', log)
        self.assertIn("Ignoring live migration setting %s='True' from "
                      "image: not read from this source" %
                      IMAGE_PERMIT_AUTO_CONVERGE, log)

    def test_instance_metadata_overrides_the_volume_image(self):
        # Max downtime: instance before image; timeout: the lowest.
        server = self._stuck(metadata={DOWNTIME.canonical(INSTANCE): '300',
                                       TIMEOUT.canonical(INSTANCE): '130'})
        self._live_migrate(server, migration_expected_state='failed',
                           server_expected_state='ACTIVE')
        self.assertEqual(300, self.jobs.downtimes[server['id']][-1])
        log = self._log()
        self.assertIn('Live migration not completed after 130 sec', log)
        self.assertIn('live_migration_max_downtime=300 (instance)', log)
        self.assertIn('live_migration_timeout=130 (instance)', log)

    def test_a_higher_instance_timeout_leaves_the_volume_images(self):
        server = self._stuck(metadata={TIMEOUT.canonical(INSTANCE): '400'})
        self._live_migrate(server, migration_expected_state='failed',
                           server_expected_state='ACTIVE')
        self.assertEqual(100, self.jobs.downtimes[server['id']][-1])
        log = self._log()
        self.assertIn('Live migration not completed after 150 sec', log)
        self.assertIn('live_migration_timeout=150 (image)', log)


class ExplainVolumeBackedServerTest(VolumeBackedTestBase):
    """``explain --server`` reads the boot volume's image metadata through
    openstacksdk's block-storage proxy."""

    def setUp(self):
        super().setUp()
        sdk.install_image_endpoint(self)
        sdk.install_volume_endpoint(self)

    def _explain(self, *argv):
        args = explain.add_parser(
            argparse.ArgumentParser().add_subparsers()).parse_args(
                list(argv))
        out, err = io.StringIO(), io.StringIO()
        with sdk.connection(self.api_fixture).real_endpoints() as conn:
            status = explain.run(args, out, err, conn=conn)
        return status, out.getvalue(), err.getvalue()

    def test_keys_of_the_boot_volume_image_are_reported(self):
        volume_id = self._volume({DOWNTIME.canonical(IMAGE): '100',
                                  TIMEOUT.canonical(IMAGE): '150',
                                  IMAGE_PERMIT_AUTO_CONVERGE: 'True',
                                  'os_distro': 'cirros'})
        server = self._volume_server(
            volume_id, flavor={TIMEOUT.canonical('flavor'): '300'},
            metadata={TIMEOUT.canonical(INSTANCE): '140'})
        label = 'image (volume %s)' % volume_id

        status, out, err = self._explain('--server', server['id'],
                                         '--format', 'json')
        self.assertEqual(0, status, err)
        doc = json.loads(out)
        self.assertEqual({'value': 100, 'source': IMAGE,
                          'key': DOWNTIME.canonical(IMAGE)},
                         doc['live_migration_max_downtime'])
        self.assertEqual('instance', doc['live_migration_timeout']['source'])
        self.assertEqual(volume_id, doc['server']['boot_volume'])
        self.assertEqual({IMAGE: label}, doc['server']['source_labels'])
        self.assertEqual([], doc['server']['notes'])
        self.assertEqual(
            [{'source': IMAGE, 'key': key, 'value': value}
             for key, value in sorted({
                 DOWNTIME.canonical(IMAGE): '100',
                 IMAGE_PERMIT_AUTO_CONVERGE: 'True',
                 TIMEOUT.canonical(IMAGE): '150'}.items())],
            [i for i in doc['inputs'] if i['source'] == IMAGE])
        self.assertEqual([IMAGE_PERMIT_AUTO_CONVERGE],
                         [i['key'] for i in doc['ignored']])

        status, out, err = self._explain('--server', server['id'])
        self.assertEqual(0, status, err)
        self.assertNotIn('note:', out)
        self.assertIn('%s  %s' % (label, DOWNTIME.canonical(IMAGE)), out)
        self.assertIn('100 milliseconds', out)
        row = [line for line in out.splitlines()
               if line.startswith(DOWNTIME.name)]
        self.assertEqual(1, len(row), out)
        self.assertIn(label, row[0])
        self.assertNotIn('os_distro', out)

    def test_volume_the_caller_cannot_see_is_a_note(self):
        # The Cinder fixture fakes any volume id for Nova; the block-storage
        # endpoint serves only the volumes created (a 404, as Cinder
        # answers for another project's volume).
        volume_id = uuidutils.generate_uuid()
        server = self._volume_server(
            volume_id, metadata={spec_table.TUNNEL.canonical(INSTANCE):
                                 'true'})
        status, out, err = self._explain('--server', server['id'],
                                         '--format', 'json')
        self.assertEqual(0, status, err)
        doc = json.loads(out)
        self.assertEqual(
            ['boot volume %s not visible (HTTP 404 from the block-storage '
             'API): its image properties not read' % volume_id],
            doc['server']['notes'])
        self.assertNotIn('boot_volume', doc['server'])
        self.assertEqual('instance', doc['live_migration_tunnel']['source'])
        self.assertEqual('default',
                         doc['live_migration_max_downtime']['source'])

    def test_volume_not_made_from_an_image_is_a_note(self):
        volume_id = self._volume()
        server = self._volume_server(volume_id)
        status, out, err = self._explain('--server', server['id'])
        self.assertEqual(0, status, err)
        self.assertIn('  note: boot volume %s has no image metadata (not '
                      'made from an image)\n' % volume_id, out)
