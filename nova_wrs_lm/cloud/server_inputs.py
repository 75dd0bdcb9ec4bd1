"""Read one server's live-migration inputs from a cloud, through
openstacksdk: data, no printing.

``explain --server UUID`` uses this: the server's flavor extra specs (the
copy Nova embeds in the server, microversion 2.47 and later), its image's
properties (from the Image service; for a server that boots from a volume,
the boot volume's ``volume_image_metadata`` from the Block Storage
service, which is what Nova copied into the instance's system metadata
at boot) and its metadata.  Only keys of the
spec table are kept; everything else a server carries is not the
explanation's business.

The connection is openstacksdk's usual one: ``clouds.yaml`` with
``--os-cloud``/``OS_CLOUD``, or the ``OS_*`` environment variables.
"""

import dataclasses

from nova_wrs_lm import spec_table
from nova_wrs_lm.cloud.connection import CloudError
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE


@dataclasses.dataclass(frozen=True)
class ServerInputs:
    """What ``explain`` needs from a server: the three stores, and where
    they were read from (for the reader)."""

    server_id: str
    name: str
    #: The compute host, or None when the caller cannot see it.
    host: str | None
    #: ``{FLAVOR: {...}, IMAGE: {...}, INSTANCE: {...}}``
    stores: dict
    #: Lines saying what could not be read and what was used instead.
    notes: tuple[str, ...] = ()
    #: False when the caller may not see the server's host.
    host_visible: bool = True
    #: The volume the server boots from, when it boots from one.
    boot_volume: str | None = None

    def host_text(self):
        """The host, or why there is none to show."""
        if self.host:
            return self.host
        return 'no host' if self.host_visible else 'host not visible'

    def source_label(self, source):
        """How the report names ``source``: the image of a volume-backed
        server is its boot volume's image metadata."""
        if source == IMAGE and self.boot_volume:
            return '%s (volume %s)' % (IMAGE, self.boot_volume)
        return source

    def as_dict(self):
        doc = {'id': self.server_id, 'name': self.name, 'host': self.host,
               'host_visible': self.host_visible,
               'notes': list(self.notes)}
        if self.boot_volume:
            doc['boot_volume'] = self.boot_volume
            doc['source_labels'] = {IMAGE: self.source_label(IMAGE)}
        return doc


def _ours(properties, source):
    """The items of ``properties`` that are keys of the spec table."""
    known = spec_table.recognised_keys(source)
    return {key: value for key, value in (properties or {}).items()
            if key in known}


def _flavor_specs(conn, server, notes):
    flavor = server.flavor or {}
    specs = flavor.get('extra_specs')
    if specs is not None:
        return dict(specs)
    # Before 2.47 a server names its flavor by id; from 2.47 the extra
    # specs may be hidden by policy
    # (os_compute_api:servers:show:flavor-extra-specs).
    flavor_id = flavor.get('id')
    if flavor_id is None:
        found = conn.compute.find_flavor(flavor.get('original_name'),
                                         ignore_missing=True)
        if found is None:
            notes.append('flavor extra specs not visible and flavor %r not '
                         'found: flavor keys not read' %
                         flavor.get('original_name'))
            return {}
        flavor_id = found.id
        notes.append('flavor extra specs read from flavor %s as it is now '
                     '(the server\'s embedded copy is not visible)' %
                     found.name)
    return dict(conn.compute.fetch_flavor_extra_specs(flavor_id)
                .extra_specs or {})


def _boot_volume_id(conn, server, notes):
    """The volume a volume-backed server boots from: the one attached at
    its root device, or (when the caller may not see the root device name)
    the one at the first device name; None, with a note, when there is
    none."""
    from openstack import exceptions
    try:
        attachments = [a for a in conn.compute.volume_attachments(server)
                       if a.volume_id]
    except exceptions.ForbiddenException:
        notes.append('server boots from a volume and its volume '
                     'attachments are not visible: image properties not '
                     'read')
        return None
    if not attachments:
        notes.append('server boots from a volume but none is attached: '
                     'image properties not read')
        return None
    root = server.root_device_name
    if root:
        for attachment in attachments:
            if attachment.device == root:
                return attachment.volume_id
        notes.append('no volume is attached at the root device %s: image '
                     'properties not read' % root)
        return None
    # OS-EXT-SRV-ATTR:root_device_name is admin-only by default; Nova
    # gives the boot volume the first device name (/dev/vda).
    first = min(attachments, key=lambda a: a.device or '')
    notes.append('root device name not visible: volume %s at %s (the '
                 'first device) taken as the boot volume' % (
                     first.volume_id, first.device))
    return first.volume_id


def _volume_image_metadata(conn, volume_id, notes):
    """The boot volume's ``volume_image_metadata``, or None (with a note)
    when the cloud has no block-storage endpoint or the caller cannot see
    the volume."""
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions
    try:
        volume = conn.block_storage.get_volume(volume_id)
    except (exceptions.NotFoundException,
            exceptions.ForbiddenException) as exc:
        notes.append('boot volume %s not visible (HTTP %s from the block-'
                     'storage API): its image properties not read' % (
                         volume_id, exc.status_code))
        return None
    except (ks_exceptions.CatalogException, exceptions.EndpointNotFound,
            exceptions.NotSupported, exceptions.ServiceDisabledException,
            exceptions.ServiceDiscoveryException):
        notes.append('no block-storage endpoint in this cloud: the image '
                     'properties of boot volume %s not read' % volume_id)
        return None
    return dict(volume.volume_image_metadata or {})


def _image_properties(conn, server, notes):
    """The image properties of ``server`` and, for a volume-backed one,
    the volume they were read from."""
    image = server.image or {}
    image_id = image.get('id')
    if not image_id:
        volume_id = _boot_volume_id(conn, server, notes)
        if volume_id is None:
            return {}, None
        properties = _volume_image_metadata(conn, volume_id, notes)
        if properties is None:
            return {}, None
        if not properties:
            notes.append('boot volume %s has no image metadata (not made '
                         'from an image)' % volume_id)
        return properties, volume_id
    from openstack import exceptions
    try:
        found = conn.image.get_image(image_id)
    except exceptions.NotFoundException:
        notes.append('image %s not found: image properties not read' %
                     image_id)
        return {}, None
    properties = dict(found.properties or {})
    properties.update({k: v for k, v in found.to_dict().items()
                       if v is not None and k != 'properties'})
    return properties, None


def _find(conn, name_or_id):
    """The server with that UUID, or the one server with that name (as
    ``openstack server show`` finds it)."""
    from openstack import exceptions
    try:
        return conn.compute.get_server(name_or_id)
    except exceptions.NotFoundException:
        pass
    try:
        found = conn.compute.find_server(name_or_id, ignore_missing=True)
    except exceptions.DuplicateResource:
        raise CloudError('more than one server is named %s: give its ID' %
                         name_or_id) from None
    if found is None:
        raise CloudError('server %s not found' % name_or_id)
    return conn.compute.get_server(found.id)


def _host_visible(server):
    # Nova leaves OS-EXT-SRV-ATTR:host out of the answer for a caller that
    # may not see it (policy os_compute_api:os-extended-server-attributes)
    # and answers null for a server with no host; openstacksdk (Resource
    # keeps the answer's attributes in _body) is the only place that still
    # tells the two apart.
    body = getattr(server, '_body', None)
    return body is None or 'OS-EXT-SRV-ATTR:host' in body or (
        server.compute_host is not None)


def read(conn, name_or_id):
    """Return the :class:`ServerInputs` of the server ``name_or_id`` (a
    UUID or a name); raise
    :class:`~nova_wrs_lm.cloud.connection.CloudError`."""
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions
    notes = []
    server_id = name_or_id
    try:
        server = _find(conn, name_or_id)
        server_id = server.id
        flavor = _flavor_specs(conn, server, notes)
        image, boot_volume = _image_properties(conn, server, notes)
        stores = {
            FLAVOR: _ours(flavor, FLAVOR),
            IMAGE: _ours(image, IMAGE),
            INSTANCE: _ours(server.metadata, INSTANCE),
        }
    except exceptions.NotFoundException:
        raise CloudError('server %s not found' % server_id) from None
    except (exceptions.SDKException, ks_exceptions.ClientException) as exc:
        raise CloudError('cannot read server %s: %s' % (
            server_id, exc)) from None
    return ServerInputs(server_id, server.name, server.compute_host,
                        stores, tuple(notes),
                        host_visible=_host_visible(server),
                        boot_volume=boot_volume)
