"""What the harness sets in Nova's configuration to run this package: the
compute driver, the api-paste.ini and the scheduler plugins, named as a
deployer names them in nova.conf."""

import importlib.util
import os
import sys

#: ``[DEFAULT] compute_driver`` of this package.
WRS_DRIVER = 'wrs_lm.LibvirtDriver'

_SOURCE_TREE = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: Nova's own api-paste.ini (a data file of the nova wheel: Nova's
#: ConfFixture looks for it under ``$state_path``, where a wheel has none).
NOVA_API_PASTE = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')

#: Where the api-paste.ini with the ``wrs_lm`` filter is looked for: the
#: source tree first, then the data files of the installed distribution.
WRS_LM_API_PASTE_CANDIDATES = (
    os.path.join(_SOURCE_TREE, 'etc', 'nova', 'api-paste.ini'),
    os.path.join(sys.prefix, 'share', 'nova-wrs-lm', 'etc', 'nova',
                 'api-paste.ini'),
)

#: The sample this package ships: Nova's pipeline with the wrs_lm filter.
WRS_LM_API_PASTE = WRS_LM_API_PASTE_CANDIDATES[0]

#: ``[filter_scheduler]`` entries of this package (the documented paths).
FILTERS = 'nova_wrs_lm.scheduler.filters.all_filters'
FILTER = 'FailoverSegmentFilter'
#: ``available_filters`` of the explaining filters (Nova's and ours, in
#: place of ``nova.scheduler.filters.all_filters``).
EXPLAINING_FILTERS = 'nova_wrs_lm.scheduler.all_filters'
WEIGHER = ('nova_wrs_lm.scheduler.weights.failover_segment.'
           'FailoverSegmentWeigher')


def _findable(module):
    """Whether ``module`` can be imported, without importing it (Nova must
    not be imported before eventlet's monkey-patching, which starting a
    cloud does)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def driver_available():
    """Whether ``compute_driver = wrs_lm.LibvirtDriver`` can be found."""
    return (_findable('nova.virt.wrs_lm') and
            _findable('nova_wrs_lm.virt.driver'))


def find_api_paste():
    """``(path, has_filter)``: the api-paste.ini carrying the ``wrs_lm``
    filter when this package's is found, else Nova's own."""
    for path in WRS_LM_API_PASTE_CANDIDATES + (NOVA_API_PASTE,):
        if os.path.exists(path):
            with open(path) as handle:
                has_filter = ('wrs_lm' in handle.read() and
                              _findable('nova_wrs_lm.api.filter'))
            if has_filter or path == NOVA_API_PASTE:
                return os.path.abspath(path), has_filter
    return None, False


def scheduler_options(conf, enabled_filters=None):
    """``[filter_scheduler]`` options with this package's filter and weigher
    added to Nova's (``conf.filter_scheduler``), or to ``enabled_filters``
    when given."""
    scheduler = conf.filter_scheduler
    enabled = list(scheduler.enabled_filters if enabled_filters is None
                   else enabled_filters)
    return {
        'available_filters': list(scheduler.available_filters) + [FILTERS],
        'enabled_filters': enabled + [FILTER],
        'weight_classes': list(scheduler.weight_classes) + [WEIGHER],
    }
