"""Alias module: the scheduler plugins' old dotted paths.

The plugins live in :mod:`nova_wrs_lm.scheduler` (filters in
``scheduler/filters/``, weighers in ``scheduler/weights/``, as in Nova).
This module keeps the paths documented before that move working, as the
same objects:

- ``nova_wrs_lm.filters.all_filters`` (``available_filters``),
  ``nova_wrs_lm.filters.FailoverSegmentFilter`` and
  ``nova_wrs_lm.filters.FailoverSegmentWeigher`` (``weight_classes``);
- the old modules ``nova_wrs_lm.filters.segments``, ``.rules``,
  ``.operation`` (now ``scheduler.request``), ``.failover_segment_filter``
  and ``.failover_segment_weigher`` (now ``scheduler.filters`` and
  ``scheduler.weights.failover_segment``).

Nothing else belongs here.
"""

import sys

from nova_wrs_lm.scheduler import filters as _filters
from nova_wrs_lm.scheduler import request as operation
from nova_wrs_lm.scheduler import rules
from nova_wrs_lm.scheduler import segments
from nova_wrs_lm.scheduler.filters import (
    failover_segment as failover_segment_filter,
)
from nova_wrs_lm.scheduler.weights import (
    failover_segment as failover_segment_weigher,
)

all_filters = _filters.all_filters
FailoverSegmentFilter = failover_segment_filter.FailoverSegmentFilter
FailoverSegmentWeigher = failover_segment_weigher.FailoverSegmentWeigher

__all__ = ['FailoverSegmentFilter', 'FailoverSegmentWeigher', 'all_filters',
           'failover_segment_filter', 'failover_segment_weigher',
           'operation', 'rules', 'segments']

# ``import nova_wrs_lm.filters.segments`` (and mock.patch of such a path)
# finds the moved module.
for _old in ('failover_segment_filter', 'failover_segment_weigher',
             'operation', 'rules', 'segments'):
    sys.modules['%s.%s' % (__name__, _old)] = globals()[_old]
del _old
