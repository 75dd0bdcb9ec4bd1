"""Processes of the one-machine cloud: started detached in a session of
their own, recorded in a PID file (PID and start time, so a reused PID is
never taken for ours), stopped by that PID and its process group."""

import os
import signal
import socket
import subprocess
import time


class ProcessError(Exception):
    """A process did not start, or did not become ready."""


def _start_time(pid):
    """The kernel's start time of ``pid`` (clock ticks), or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(')', 1)[1].split()
    if fields[0] == 'Z':
        return None
    return int(fields[19])


def read_pid(pid_file):
    """The PID recorded in ``pid_file`` if that process still runs."""
    try:
        with open(pid_file) as f:
            pid, started = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    return pid if _start_time(pid) == started else None


def record(pid_file, pid):
    """Record ``pid`` (started by someone else, e.g. a libvirt host)."""
    with open(pid_file, 'w') as f:
        f.write('%d %d\n' % (pid, _start_time(pid)))


def start(argv, pid_file, log_file, env=None, cwd=None):
    """Start ``argv`` detached (own session, stdin closed, output appended
    to ``log_file``); record and return its PID."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_file, 'ab') as out:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
            start_new_session=True)
    record(pid_file, proc.pid)
    # Not waited for through Popen (the process may outlive this one;
    # stop() reaps it): keep Popen from warning that it still runs.
    proc.returncode = 0
    return proc.pid


def alive(pid):
    return _start_time(pid) is not None


def stop(pid_file, timeout=30):
    """SIGTERM the process of ``pid_file`` and its process group, wait
    up to ``timeout`` seconds, then SIGKILL them; remove the file.
    Return the PID stopped, or None when it was not running."""
    pid = read_pid(pid_file)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while alive(pid):
                _reap(pid)
                time.sleep(0.05)
        # What is left of its group (workers), if anything.
        _signal_group(pid, signal.SIGKILL)
        _reap(pid)
    try:
        os.unlink(pid_file)
    except FileNotFoundError:
        pass
    return pid


def _signal_group(pid, sig):
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def listening(address, port):
    """True if something accepts TCP connections on ``address:port``."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(check, what, timeout, pid=None, log_file=None):
    """Poll ``check()`` until it is true; raise :class:`ProcessError`
    (with the log's tail) when ``timeout`` passes or ``pid`` exits."""
    deadline = time.monotonic() + timeout
    while not check():
        if pid is not None and not alive(pid):
            raise ProcessError('%s: the process exited%s' % (
                what, _tail(log_file)))
        if time.monotonic() > deadline:
            raise ProcessError('%s: not ready after %d s%s' % (
                what, timeout, _tail(log_file)))
        time.sleep(0.25)


def _tail(log_file, lines=15):
    if not log_file:
        return ''
    try:
        with open(log_file, errors='replace') as f:
            text = f.read().splitlines()[-lines:]
    except OSError:
        return ''
    return ' (%s):\n  %s' % (log_file, '\n  '.join(text))
