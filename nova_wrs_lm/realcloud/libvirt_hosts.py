"""Real libvirt "hosts" on one machine, for live-migration tests and the
one-machine cloud (:mod:`nova_wrs_lm.realcloud.deploy`).

Each host is a ``libvirtd`` in its own mount and UTS namespace: a per-host
directory is bind-mounted over the paths libvirt has compiled in
(``/etc/libvirt``, ``/run/libvirt``, ``/var/lib/libvirt``,
``/var/cache/libvirt``, ``/var/log/libvirt``), so the two daemons share
nothing but the machine.  Guests are QEMU TCG domains; migration data goes
over 127.0.0.1.  Daemons and their QEMU processes are always stopped by
PID, never by name.

:func:`unavailable` says why this cannot run here (or None), and
:class:`LibvirtHost` is one host.
"""

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid

try:
    import libvirt
except ImportError:  # pragma: no cover - the tests skip without it
    libvirt = None

QEMU = '/usr/bin/qemu-system-x86_64'
LIBVIRTD = '/usr/sbin/libvirtd'

#: Compiled-in libvirt paths, and the per-host subdirectory bound on each.
_BOUND = (
    ('etc', '/etc/libvirt'),
    ('run', '/run/libvirt'),
    ('lib', '/var/lib/libvirt'),
    ('cache', '/var/cache/libvirt'),
    ('log', '/var/log/libvirt'),
)

#: The QEMU driver refuses to start unless this user and group exist (even
#: with user = "root"); each host sees them in its own /etc/passwd copy.
_QEMU_ACCOUNT = 'libvirt-qemu'

_LIBVIRTD_CONF = '''\
host_uuid = "{host_uuid}"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
log_level = {log_level}
log_outputs = "{output_level}:file:/var/log/libvirt/libvirtd.log"
{filters}{listen}'''

_QEMU_CONF = '''\
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_port_min = {port_min}
migration_port_max = {port_max}
'''

#: libvirtd.conf lines of a host that accepts peers (Nova's
#: ``live_migration_scheme = tcp``) on its own loopback address.
_LISTEN_TCP = '''\
listen_tls = 0
listen_tcp = 1
listen_addr = "{address}"
auth_tcp = "none"
'''

_START_TIMEOUT = 30


def _eventlet_patched():
    import sys
    if 'eventlet' not in sys.modules:
        return False
    from eventlet import patcher
    return patcher.is_monkey_patched('thread')


def unavailable():
    """Why two libvirt hosts cannot run on this machine, or None."""
    if libvirt is None:
        return 'libvirt-python is not installed'
    if _eventlet_patched():
        # Nova's functional tests monkey-patch eventlet when they are
        # imported; green threads would then block on libvirt's C calls.
        return ('eventlet has monkey-patched this process (Nova functional '
                'tests were loaded): run these tests on their own, '
                'stestr --test-path ./tests/integration run')
    if os.geteuid() != 0:
        return 'needs root (libvirtd, mount namespaces)'
    for path in (QEMU, LIBVIRTD):
        if not os.access(path, os.X_OK):
            return '%s is not installed' % path
    try:
        subprocess.run(
            ['unshare', '--mount', '--uts', '--propagation', 'private',
             'true'], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return 'mount/UTS namespaces refused (unshare: %s)' % (
            getattr(exc, 'stderr', b'') or exc)
    return None


class HostError(Exception):
    """A libvirt host did not start."""


class LibvirtHost:
    """One libvirtd in its own namespaces, under ``base_dir/name``.

    :param index: distinguishes the hosts' migration port ranges.
    :param listen_address: also accept peers over TCP (no auth) on this
        address, port 16509.
    :param binds: more ``(directory of this host, path)`` bind mounts made
        in the host's mount namespace (e.g. one instances path that is
        each host's own directory).
    :param log_filters: libvirtd's ``log_filters`` (e.g. to log each
        API call and its flags at debug level).
    :param pid: the PID of this host's daemon, started earlier by another
        process (see :meth:`start` and :attr:`pid_file`).
    """

    def __init__(self, base_dir, name, index, log_level=3,
                 listen_address=None, binds=(), pid=None, log_filters=''):
        self.name = name
        self.dir = os.path.join(base_dir, name)
        self.port_min = 49152 + 32 * index
        self.port_max = self.port_min + 31
        self._log_level = log_level
        self._listen_address = listen_address
        self._binds = tuple(binds)
        self._log_filters = log_filters
        self.host_uuid = self._read_uuid() or str(uuid.uuid4())
        self.pid = pid
        self._proc = None

    @property
    def pid_file(self):
        """Where :meth:`start` writes the daemon's PID (outside the
        host's own bound directories)."""
        return os.path.join(self.dir, 'libvirtd.pid')

    def _read_uuid(self):
        # A restarted host keeps its UUID (libvirt peers tell hosts apart
        # by it).
        try:
            with open(os.path.join(self.dir, 'host_uuid')) as f:
                return f.read().strip() or None
        except OSError:
            return None

    @property
    def uri(self):
        return 'qemu+unix:///system?socket=%s' % self._path(
            'run', 'libvirt-sock')

    @property
    def log_file(self):
        return self._path('log', 'libvirtd.log')

    def _path(self, part, *rest):
        return os.path.join(self.dir, part, *rest)

    def _write_config(self):
        for part, _target in _BOUND:
            os.makedirs(self._path(part), exist_ok=True)
        for source, _target in self._binds:
            os.makedirs(source, exist_ok=True)
        with open(os.path.join(self.dir, 'host_uuid'), 'w') as f:
            f.write(self.host_uuid + '\n')
        listen = (_LISTEN_TCP.format(address=self._listen_address)
                  if self._listen_address else '')
        with open(self._path('etc', 'libvirtd.conf'), 'w') as f:
            f.write(_LIBVIRTD_CONF.format(host_uuid=self.host_uuid,
                                          log_level=self._log_level,
                                          output_level=(
                                              1 if self._log_filters
                                              else self._log_level),
                                          listen=listen, filters=(
                                              'log_filters = "%s"\n' %
                                              self._log_filters
                                              if self._log_filters else '')))
        with open(self._path('etc', 'qemu.conf'), 'w') as f:
            f.write(_QEMU_CONF.format(port_min=self.port_min,
                                      port_max=self.port_max))
        for name, line in (
                ('passwd', '%s:x:64055:64055::/nonexistent:'
                           '/usr/sbin/nologin\n'),
                ('group', '%s:x:64055:\n')):
            with open('/etc/' + name) as f:
                text = f.read()
            if not any(row.split(':', 1)[0] == _QEMU_ACCOUNT
                       for row in text.splitlines()):
                text += ('' if text.endswith('\n') else '\n') + (
                    line % _QEMU_ACCOUNT)
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(text)

    def _script(self):
        q = shlex.quote
        binds = []
        for part, target in _BOUND:
            binds.append('mkdir -p %s && mount --bind %s %s' % (
                target, q(self._path(part)), target))
        for name in ('passwd', 'group'):
            binds.append('mount --bind %s /etc/%s' % (
                q(os.path.join(self.dir, name)), name))
        for source, target in self._binds:
            binds.append('mkdir -p %s && mount --bind %s %s' % (
                q(target), q(source), q(target)))
        return ' && '.join(binds + [
            'hostname %s' % q(self.name),
            'exec %s --config /etc/libvirt/libvirtd.conf%s '
            '--pid-file /run/libvirt/libvirtd.pid' % (
                LIBVIRTD, ' --listen' if self._listen_address else ''),
        ])

    def start(self):
        """Start the daemon and wait until it answers; return its PID."""
        self._write_config()
        out = open(self._path('log', 'stdout.log'), 'ab')
        try:
            # unshare and sh exec into libvirtd: Popen's PID is the
            # daemon's own.
            self._proc = subprocess.Popen(
                ['unshare', '--mount', '--uts', '--propagation', 'private',
                 'sh', '-c', self._script()],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True)
        finally:
            out.close()
        self.pid = self._proc.pid
        with open(self.pid_file, 'w') as f:
            f.write('%d\n' % self.pid)
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if not self.running():
                raise HostError('libvirtd of %s exited (%s): %s' % (
                    self.name, self._proc.returncode, self._log_tail()))
            try:
                libvirt.open(self.uri).close()
                return self.pid
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise HostError('libvirtd of %s did not answer: %s' % (
                        self.name, self._log_tail())) from None
                time.sleep(0.1)

    def _log_tail(self):
        lines = []
        for path in (self._path('log', 'stdout.log'), self.log_file):
            try:
                with open(path, errors='replace') as f:
                    lines += f.read().splitlines()[-5:]
            except OSError:
                pass
        return ' | '.join(lines)

    def open(self):
        """A new connection to this host."""
        return libvirt.open(self.uri)

    def warm(self):
        """Make the daemon probe QEMU's capabilities now (seconds, once
        per host) rather than in the first test's migration."""
        conn = self.open()
        try:
            conn.getDomainCapabilities(QEMU, 'x86_64', None, 'qemu')
        finally:
            conn.close()

    def qemu_pids(self):
        """``{domain name: PID}`` of the live QEMU processes this host
        started, from its run directory (status XML and pid file)."""
        pids = {}
        qemu_run = self._path('run', 'qemu')
        try:
            names = os.listdir(qemu_run)
        except FileNotFoundError:
            return pids
        for name in names:
            domain = name[:-len('.xml')]
            if not name.endswith('.xml') or domain == 'driver':
                continue
            try:
                with open(os.path.join(qemu_run, domain + '.pid')) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue
            if is_qemu(pid):
                pids[domain] = pid
        return pids

    def kill(self):
        """Kill the daemon by PID with SIGKILL (a host failure); its QEMU
        processes are left as they are."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
            self._wait(None)

    def running(self):
        """True while the daemon process runs."""
        if self._proc is not None:
            return self._proc.poll() is None
        return self.pid is not None and _is_program(self.pid, b'libvirtd')

    def remove_domains(self):
        """Destroy and undefine every domain of this host."""
        if not self.running():
            return
        try:
            conn = self.open()
        except libvirt.libvirtError:
            return
        try:
            for dom in conn.listAllDomains():
                for action in (dom.destroy, dom.undefine):
                    try:
                        action()
                    except libvirt.libvirtError:
                        pass
        finally:
            conn.close()

    def stop(self):
        """Stop the daemon and any QEMU process it left, by PID."""
        self.remove_domains()
        qemus = self.qemu_pids().values()
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
            if not self._wait(10):
                os.kill(self.pid, signal.SIGKILL)
                self._wait(None)
        for pid in qemus:
            kill_pid(pid)
        self._proc = None
        self.pid = None
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass

    def _wait(self, timeout):
        """Wait until the daemon exits (reaping it when this process
        started it); False if ``timeout`` passed first."""
        if self._proc is not None:
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def is_qemu(pid):
    """True if ``pid`` is a live QEMU process (not a reused PID)."""
    return _is_program(pid, b'qemu-system')


def _is_program(pid, prefix):
    """True if ``pid`` is a live process (not a zombie) whose program's
    name starts with ``prefix``."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv0 = f.read().split(b'\0', 1)[0]
    except OSError:
        return False
    return os.path.basename(argv0).startswith(prefix)


def kill_pid(pid):
    """SIGKILL ``pid`` and wait (10 s at most) until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while is_qemu(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)


def remove_tree(path):
    """Remove a hosts' base directory (after the hosts are stopped)."""
    shutil.rmtree(path, ignore_errors=True)


def start_and_warm(*hosts):
    """Start the daemons, then warm their QEMU capability caches in
    parallel (the first call needing them takes seconds per host)."""
    for host in hosts:
        host.start()
    warmers = [threading.Thread(target=host.warm) for host in hosts]
    for thread in warmers:
        thread.start()
    for thread in warmers:
        thread.join()
