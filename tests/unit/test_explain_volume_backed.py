"""``explain --server`` of a volume-backed server where the boot volume
cannot be read: the edge cases, with a fake connection answering as
openstacksdk does (the found volume is tested in the in-process cloud,
tests/functional/test_volume_backed.py)."""

import argparse
import io
import json

import testtools
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions
from openstack import service_description
from openstack.block_storage.v3 import volume as sdk_volume
from openstack.compute.v2 import server as sdk_server
from openstack.compute.v2 import volume_attachment

from nova_wrs_lm.cloud import server_inputs
from nova_wrs_lm.cmd import explain

SERVER = '11111111-2222-3333-4444-555555555555'
ROOT_VOLUME = 'aaaaaaaa-0000-0000-0000-000000000001'
DATA_VOLUME = 'aaaaaaaa-0000-0000-0000-000000000002'
DOWNTIME = 'hw_wrs_live_migration_max_downtime'


class _Compute:

    def __init__(self, server, attachments):
        self._server = server
        self._attachments = attachments

    def get_server(self, server_id):
        if server_id != self._server.id:
            raise exceptions.NotFoundException('no server')
        return self._server

    def volume_attachments(self, server):
        return iter(self._attachments)


class _BlockStorage:

    def __init__(self, volumes=None, error=None):
        self._volumes = volumes or {}
        self._error = error
        self.asked = []

    def get_volume(self, volume_id):
        self.asked.append(volume_id)
        if self._error is not None:
            raise self._error
        return self._volumes[volume_id]


class _Connection:

    def __init__(self, compute, block_storage):
        self.compute = compute
        self.block_storage = block_storage


def _server(root_device_name='/dev/vda'):
    body = {'id': SERVER, 'name': 'bfv', 'image': '',
            'flavor': {'original_name': 'small', 'extra_specs': {
                'hw:wrs:live_migration_timeout': '300'}},
            'metadata': {'hw:wrs:live_migration_tunnel': 'true'},
            'OS-EXT-SRV-ATTR:host': 'compute-1'}
    if root_device_name is not None:
        body['OS-EXT-SRV-ATTR:root_device_name'] = root_device_name
    return sdk_server.Server(**body)


def _attachment(volume_id, device):
    return volume_attachment.VolumeAttachment(volumeId=volume_id,
                                              device=device,
                                              serverId=SERVER)


def _volume(volume_id, image_metadata):
    return sdk_volume.Volume(id=volume_id,
                             volume_image_metadata=image_metadata)


ATTACHED = [_attachment(DATA_VOLUME, '/dev/vdb'),
            _attachment(ROOT_VOLUME, '/dev/vda')]


class BootVolumeTest(testtools.TestCase):

    def _read(self, block_storage, server=None, attachments=ATTACHED):
        conn = _Connection(_Compute(server or _server(), attachments),
                           block_storage)
        return server_inputs.read(conn, SERVER)

    def test_volume_attached_at_the_root_device_is_read(self):
        block_storage = _BlockStorage({
            ROOT_VOLUME: _volume(ROOT_VOLUME, {DOWNTIME: '100'}),
            DATA_VOLUME: _volume(DATA_VOLUME, {DOWNTIME: '900'})})
        found = self._read(block_storage,
                           server=_server(root_device_name='/dev/vda'))
        self.assertEqual([ROOT_VOLUME], block_storage.asked)
        self.assertEqual({DOWNTIME: '100'}, found.stores['image'])
        self.assertEqual(ROOT_VOLUME, found.boot_volume)
        self.assertEqual((), found.notes)
        self.assertEqual('image (volume %s)' % ROOT_VOLUME,
                         found.source_label('image'))
        self.assertEqual('flavor', found.source_label('flavor'))

    def test_root_device_not_visible_takes_the_first_device(self):
        block_storage = _BlockStorage({
            ROOT_VOLUME: _volume(ROOT_VOLUME, {DOWNTIME: '100'})})
        found = self._read(block_storage,
                           server=_server(root_device_name=None))
        self.assertEqual([ROOT_VOLUME], block_storage.asked)
        self.assertEqual({DOWNTIME: '100'}, found.stores['image'])
        self.assertEqual(
            ('root device name not visible: volume %s at /dev/vda (the '
             'first device) taken as the boot volume' % ROOT_VOLUME,),
            found.notes)

    def test_no_volume_at_the_root_device(self):
        block_storage = _BlockStorage()
        found = self._read(block_storage,
                           server=_server(root_device_name='/dev/sda'))
        self.assertEqual([], block_storage.asked)
        self.assertEqual({}, found.stores['image'])
        self.assertIsNone(found.boot_volume)
        self.assertEqual(('no volume is attached at the root device '
                          '/dev/sda: image properties not read',),
                         found.notes)

    def test_no_volume_attached(self):
        found = self._read(_BlockStorage(), attachments=[])
        self.assertEqual(('server boots from a volume but none is '
                          'attached: image properties not read',),
                         found.notes)


class ExplainBootVolumeNotReadTest(testtools.TestCase):
    """The note, exit 0, and the other sources still reported."""

    def _explain(self, block_storage):
        conn = _Connection(_Compute(_server(), ATTACHED), block_storage)
        args = explain.add_parser(
            argparse.ArgumentParser().add_subparsers()).parse_args(
                ['--server', SERVER, '--format', 'json'])
        out, err = io.StringIO(), io.StringIO()
        status = explain.run(args, out, err, conn=conn)
        self.assertEqual(0, status, err.getvalue())
        doc = json.loads(out.getvalue())
        self.assertEqual({'value': 300, 'source': 'flavor',
                          'key': 'hw:wrs:live_migration_timeout'},
                         doc['live_migration_timeout'])
        self.assertEqual('instance', doc['live_migration_tunnel']['source'])
        self.assertEqual('default',
                         doc['live_migration_max_downtime']['source'])
        self.assertNotIn('boot_volume', doc['server'])
        return doc['server']['notes']

    def _no_endpoint_note(self):
        return ['no block-storage endpoint in this cloud: the image '
                'properties of boot volume %s not read' % ROOT_VOLUME]

    def test_no_block_storage_endpoint_in_the_catalog(self):
        # keystoneauth, when the catalog has no block-storage entry.
        self.assertEqual(self._no_endpoint_note(), self._explain(
            _BlockStorage(error=ks_exceptions.EndpointNotFound())))

    def test_block_storage_disabled_in_clouds_yaml(self):
        # openstacksdk's proxy for a service the configuration disables
        # (has_block_storage: false) raises on first use.
        shim = service_description._ServiceDisabledProxyShim(
            'block-storage', 'disabled in clouds.yaml')
        self.assertEqual(self._no_endpoint_note(), self._explain(shim))

    def test_block_storage_without_a_supported_version(self):
        self.assertEqual(self._no_endpoint_note(), self._explain(
            _BlockStorage(error=exceptions.NotSupported(
                'The block-storage service for :None exists but does not '
                'have any supported versions.'))))

    def test_volume_forbidden(self):
        self.assertEqual(
            ['boot volume %s not visible (HTTP 403 from the block-storage '
             'API): its image properties not read' % ROOT_VOLUME],
            self._explain(_BlockStorage(
                error=exceptions.ForbiddenException(
                    'forbidden', http_status=403))))

    def test_volume_not_found(self):
        self.assertEqual(
            ['boot volume %s not visible (HTTP 404 from the block-storage '
             'API): its image properties not read' % ROOT_VOLUME],
            self._explain(_BlockStorage(
                error=exceptions.NotFoundException(
                    'not found', http_status=404))))
