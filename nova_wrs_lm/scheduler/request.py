"""What a scheduling request is for: a new placement or a move, and from
which host.

Nova creates a Migration record before it asks the scheduler to place a
moved instance (evacuation and live migration: status ``accepted``; cold
migration and resize: ``pre-migrating``), in the instance's cell.  The
record names the operation and the source host.  When it cannot be read,
``RequestSpec.ignore_hosts`` (which starts with the source host for
evacuation, live migration and cold migration) is the fallback.
"""

import dataclasses

from nova import context as nova_context
from nova import exception
from nova import objects
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: A boot, or an unshelve: the instance is on no host.
NEW = 'new'
#: A move whose Migration record could not be read.
MOVE = 'move'

#: Migration statuses Nova gives the record before scheduling.
_BEFORE_SCHEDULING = ['accepted', 'pre-migrating']


@dataclasses.dataclass(frozen=True)
class Operation:
    """``kind`` is :data:`NEW`, :data:`MOVE` or a Nova migration type
    (``evacuation``, ``live-migration``, ``migration``, ``resize``)."""

    kind: str
    source_host: str | None = None

    @property
    def is_move(self):
        return self.source_host is not None


NEW_INSTANCE = Operation(NEW)


def of_request(spec_obj):
    """The :class:`Operation` a RequestSpec is scheduled for."""
    context = getattr(spec_obj, '_context', None)
    uuid = spec_obj.instance_uuid if 'instance_uuid' in spec_obj else None
    if context is not None and uuid:
        try:
            found = _from_migration(context.elevated(), uuid)
        except Exception:
            LOG.exception('Could not read the migration record of instance '
                          '%s; using RequestSpec.ignore_hosts.', uuid)
        else:
            if found is not None:
                return found
    ignored = (spec_obj.ignore_hosts
               if 'ignore_hosts' in spec_obj else None)
    if ignored:
        return Operation(MOVE, ignored[0])
    return NEW_INSTANCE


def _from_migration(context, uuid):
    """The operation read from the instance's cell, or None when not
    known there."""
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(context, uuid)
    except exception.InstanceMappingNotFound:
        return None
    if mapping.cell_mapping is None:
        # Not scheduled yet: a boot (or a build request).
        return NEW_INSTANCE
    with nova_context.target_cell(context, mapping.cell_mapping) as cctxt:
        migrations = objects.MigrationList.get_by_filters(
            cctxt, {'instance_uuid': uuid, 'status': _BEFORE_SCHEDULING},
            sort_keys=['created_at', 'id'], sort_dirs=['desc', 'desc'],
            limit=1)
    if not migrations:
        return None
    migration = migrations[0]
    return Operation(migration.migration_type, migration.source_compute)
