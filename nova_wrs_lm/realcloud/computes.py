"""The compute side of the one-machine cloud: for each
:class:`~.layout.ComputeHost` a libvirt host (libvirtd in mount + UTS
namespaces, accepting peers over TCP on the host's own loopback address)
and a nova-compute process entered into that host's namespaces, so it
sees its own libvirtd, ``/etc/libvirt`` and instances directory."""

import os
import time

from nova_wrs_lm.realcloud import configs
from nova_wrs_lm.realcloud import libvirt_hosts
from nova_wrs_lm.realcloud import processes
from nova_wrs_lm.realcloud import services

#: Debug lines of each public libvirt API call libvirtd runs (with its
#: flags: how an operator sees that a migration was tunnelled).
LOG_FILTERS = '1:libvirt.domain'

#: Nova 34's compute can take this long to register on a busy machine
#: (libvirt capabilities, placement inventory).
READY_TIMEOUT = 240


def libvirt_host(lay, host):
    """The :class:`LibvirtHost` of ``host`` (its PID from its file)."""
    # Connection attempts while a daemon starts are expected to fail:
    # not printed.
    libvirt_hosts.libvirt.registerErrorHandler(lambda ctx, err: None, None)
    lh = libvirt_hosts.LibvirtHost(
        lay.hosts_dir, host.name, host.index,
        listen_address=host.address,
        binds=[(lay.host_instances(host), lay.instances_path)],
        log_filters=LOG_FILTERS)
    lh.pid = processes.read_pid(_libvirtd_pid_file(lay, host))
    return lh


def _libvirtd_pid_file(lay, host):
    return lay.pid_file('libvirtd-%s' % host.name)


def compute_name(host):
    return 'nova-compute-%s' % host.name


def driver_of(lay, host):
    """The compute_driver the running compute of ``host`` was given."""
    try:
        with open(configs.compute_conf_path(lay, host)) as f:
            for line in f:
                if line.startswith('compute_driver = '):
                    return line.split(' = ', 1)[1].strip()
    except OSError:
        pass
    return None


def start_libvirt(lay, host):
    lh = libvirt_host(lay, host)
    if not lh.running():
        os.makedirs(lay.instances_path, exist_ok=True)
        lh.start()
        processes.record(_libvirtd_pid_file(lay, host), lh.pid)
        lh.warm()
    return lh


def start_compute(cloud, host, driver):
    """Start nova-compute of ``host`` with ``driver`` (if not running)
    and wait until its service has reported through the API (a service
    forced down reports too, and stays down)."""
    lay = cloud.lay
    name = compute_name(host)
    pid = processes.read_pid(lay.pid_file(name))
    since = time.time()
    if pid is None:
        lh = start_libvirt(lay, host)
        configs.write_ini(configs.compute_conf_path(lay, host),
                          configs.nova_compute(lay, host, driver))
        os.makedirs(lay.path('data', 'nova-%s' % host.name, 'lock'),
                    exist_ok=True)
        argv = ['nsenter', '--target', str(lh.pid), '--mount', '--uts',
                '--', lay.bin('nova', 'nova-compute')]
        for path in services.nova_conf_files(lay) + [
                configs.compute_conf_path(lay, host)]:
            argv += ['--config-file', path]
        pid = processes.start(argv, lay.pid_file(name),
                              lay.log(name + '-stdout'))
        processes.wait_until(
            lambda: cloud.compute_reported_since(host.name, since), name,
            READY_TIMEOUT, pid=pid, log_file=lay.log(name))
    return pid


def stop_compute(lay, host):
    # graceful_shutdown_timeout = 15: it exits well within the wait.
    return processes.stop(lay.pid_file(compute_name(host)), timeout=40)


def stop_libvirt(lay, host):
    lh = libvirt_host(lay, host)
    if lh.running():
        lh.stop()
    processes.stop(_libvirtd_pid_file(lay, host), timeout=10)
    # QEMU processes the daemon left (e.g. it was killed).
    for pid in lh.qemu_pids().values():
        libvirt_hosts.kill_pid(pid)


def restart_compute(cloud, host, driver):
    """Restart nova-compute of ``host`` with ``driver``: wait for the old
    process to exit first (it keeps consuming its RPC topic while it
    lingers), then for the new one to report."""
    stop_compute(cloud.lay, host)
    return start_compute(cloud, host, driver)


def qemu_pid(lay, host, instance_name):
    """The PID of the live QEMU process of domain ``instance_name`` (a
    server's ``OS-EXT-SRV-ATTR:instance_name``) inside the libvirt host
    of ``host``, or None; as seed 004's ``pgrep -f guest=NAME`` on that
    hypervisor (the process's command line names the guest)."""
    pid = libvirt_host(lay, host).qemu_pids().get(instance_name)
    if pid is None:
        return None
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv = f.read().split(b'\0')
    except OSError:
        return None
    wanted = ('guest=%s' % instance_name).encode()
    if not any(arg == wanted or arg.startswith(wanted + b',')
               for arg in argv):
        return None
    return pid
