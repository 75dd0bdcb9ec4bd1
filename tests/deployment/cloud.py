"""The one cloud the deployment scenarios share: brought up once per test
process (``tools/cloud.sh up``'s code), torn down when the process ends
whatever happened, unless it was already running before (then it is left
as it was).  :func:`unavailable` says why it cannot run here."""

import atexit
import os
import threading

from nova_wrs_lm.realcloud import deploy
from nova_wrs_lm.realcloud import layout
from nova_wrs_lm.realcloud import processes

_lock = threading.Lock()
_state = {}


def _say(text):
    # Progress goes to the test process's stderr (stestr shows it on
    # failure only); the cloud's own logs are under its state directory.
    import sys
    print('deployment cloud: %s' % text, file=sys.stderr, flush=True)


def unavailable():
    reason = deploy.unavailable()
    if reason:
        return reason
    if not os.path.exists('/usr/bin/nsenter'):
        return 'nsenter is not installed'
    return None


def get():
    """The running :class:`~nova_wrs_lm.realcloud.deploy.Cloud` (brought
    up on first use); raises what ``up`` raised."""
    with _lock:
        if 'error' in _state:
            raise _state['error']
        if 'cloud' in _state:
            return _state['cloud']
        cloud = deploy.Cloud(say=_say)
        was_running = all(row.pid for row in cloud.status())
        if not was_running:
            # A cloud of our own starts from nothing (but the venvs):
            # nothing a previous run left (a host reported down, servers)
            # changes what the scenarios see.
            cloud.down(purge=True)
            atexit.register(_down, cloud)
            os.makedirs(cloud.lay.run, exist_ok=True)
            with open(cloud.lay.path(deploy.STARTED_BY_TESTS), 'w') as f:
                f.write('%d\n' % os.getpid())
        try:
            cloud.up(install_packages=True)
        except (deploy.CloudError, processes.ProcessError,
                OSError) as exc:
            _state['error'] = exc
            raise
        _state['cloud'] = cloud
        _state['owned'] = not was_running
        return cloud


def release():
    """Bring the cloud down now if this process brought it up (the test
    module's tearDownModule; atexit is the fallback)."""
    with _lock:
        cloud = _state.pop('cloud', None)
        if cloud is not None and _state.pop('owned', False):
            atexit.unregister(_down)
            _down(cloud)


def _down(cloud):
    if os.environ.get('WRS_LM_DEPLOYMENT_KEEP_CLOUD'):
        _say('left running (WRS_LM_DEPLOYMENT_KEEP_CLOUD); '
             'tools/cloud.sh down stops it')
        try:
            os.unlink(cloud.lay.path(deploy.STARTED_BY_TESTS))
        except FileNotFoundError:
            pass
        return
    _say('stopping the cloud')
    cloud.down()


def clouds_yaml():
    return layout.current().clouds_yaml
