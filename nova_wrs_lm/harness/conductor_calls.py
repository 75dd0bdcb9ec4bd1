"""Count the calls a nova-compute makes to nova-conductor, in the
in-process cloud.

In a running Nova, ``nova-compute`` sets ``NovaObject.indirection_api`` to
the conductor's RPC API (``nova.cmd.compute``, Nova 34.0.0): every
remotable object method it calls (``instance.save()``,
``Migration.get_by_...``, a lazy load of an attribute the object did not
come with) is one RPC call to nova-conductor.  In Nova's in-process cloud
every service shares one process and the indirection is off: those calls
go straight to the database, and nothing counts them.

:class:`ConductorCalls` puts the indirection back for the computes only:
while installed, a remotable call made from a compute's code (a frame of
``nova/compute/manager.py`` or of a virt driver on the stack) goes through
Nova's own ``ConductorManager.object_action`` /
``object_class_action_versions`` (what nova-conductor runs for it) and is
recorded; calls of the API, conductor and scheduler stay direct, as in
their own processes.
"""

import os
import threading

import oslo_messaging as messaging
from nova.conductor import manager as conductor_manager
from nova.objects import base as obj_base

#: Path fragments of the code that runs in nova-compute.
_COMPUTE_CODE = tuple(
    os.sep + os.path.join(*parts) for parts in (
        ('nova', 'compute', 'manager.py'),
        ('nova', 'virt', ''),
        ('nova_wrs_lm', 'virt', ''),
    ))


def _in_compute(frame):
    while frame is not None:
        name = frame.f_code.co_filename
        if any(part in name for part in _COMPUTE_CODE):
            return True
        frame = frame.f_back
    return False


class _Conductor:
    """What ``ConductorManager``'s object methods need of their ``self``
    (Nova's methods are called unbound on it: no RPC server, no task
    manager)."""

    _object_dispatch = conductor_manager.ConductorManager._object_dispatch


class ConductorCalls:
    """``NovaObject.indirection_api`` that counts compute-side calls.

    ``calls`` lists ``(object name, method)`` in order.  Use
    :meth:`install` / :meth:`uninstall`, or as a context manager.
    """

    def __init__(self):
        self.calls = []
        self._local = threading.local()
        self._saved = None

    # The remotable wrappers of oslo.versionedobjects test the indirection
    # API for truth before using it: it is "on" only for compute code, and
    # off while it runs the call itself (as nova-conductor would, whose
    # indirection is off).
    def __bool__(self):
        if getattr(self._local, 'dispatching', False):
            return False
        import sys
        return _in_compute(sys._getframe(1))

    def _dispatch(self, name, method, run):
        self.calls.append((name, method))
        self._local.dispatching = True
        try:
            return run()
        except messaging.ExpectedException as exc:
            # Over RPC the caller gets the conductor's exception itself.
            raise exc.exc_info[1] from None
        finally:
            self._local.dispatching = False

    def object_class_action_versions(self, context, objname, objmethod,
                                     object_versions, args, kwargs):
        return self._dispatch(objname, objmethod, lambda: (
            conductor_manager.ConductorManager.object_class_action_versions(
                _Conductor(), context, objname, objmethod, object_versions,
                args, kwargs)))

    def object_action(self, context, objinst, objmethod, args, kwargs):
        # Over RPC the conductor works on a copy of the object.
        copy = objinst.obj_clone()
        return self._dispatch(objinst.obj_name(), objmethod, lambda: (
            conductor_manager.ConductorManager.object_action(
                _Conductor(), context, copy, objmethod, args, kwargs)))

    def object_backport_versions(self, context, objinst, object_versions):
        return self._dispatch(
            objinst.obj_name(), 'obj_backport',
            lambda: conductor_manager.ConductorManager.
            object_backport_versions(_Conductor(), context, objinst,
                                     object_versions))

    def install(self):
        self._saved = obj_base.NovaObject.indirection_api
        obj_base.NovaObject.indirection_api = self
        return self

    def uninstall(self):
        obj_base.NovaObject.indirection_api = self._saved

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()

    def count(self):
        return len(self.calls)

    def reset(self):
        self.calls = []
