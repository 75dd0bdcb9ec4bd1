"""The project's test guest: a Debian kernel booted directly with a
busybox initramfs that runs a page-checking memory dirtier
(``tools/integration/``), for the real-libvirt tests and the one-machine
cloud's Glance images.

:func:`build` builds it once (cached outside the repository),
:class:`TestGuest` boots one on a bare libvirt host, and
:class:`ConsoleLog` reads what a dirtier reports on a serial console file
(:class:`TestGuest`'s, or Nova's ``console.log``).
"""

import functools
import os
import re
import subprocess
import time
import uuid
from xml.sax import saxutils

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: The builder of a source checkout (the guest is not shipped).
_BUILDER = os.environ.get('WRS_LM_GUEST_BUILDER') or os.path.join(
    _REPO, 'tools', 'integration', 'build-guest.sh')

#: Dirtier loads (MiB written pass after pass, CPU work per page),
#: measured under TCG on a 2-core machine: HEAVY dirties ~65 MiB/s (never
#: converges on a 16 MiB/s link unless throttled), LIGHT ~25 MiB/s
#: (converges at once on an uncapped link), CALM a few MiB/s (converges on
#: a 16 MiB/s link).
HEAVY = {'dirty_mib': 24, 'work': 50000}
LIGHT = {'dirty_mib': 24, 'work': 150000}
CALM = {'dirty_mib': 8, 'work': 1000000}


def command_line(dirty_mib=16, work=0):
    """The guest kernel's command line for a dirtier load."""
    return ('console=ttyS0 quiet mitigations=off wrs.mib=%d wrs.work=%d' %
            (dirty_mib, work))

#: The dirtier prints this once a second.
_STATUS = re.compile(r'dirtier: pass=(\d+) bad=(\d+) rate=([\d.]+)')
_CORRUPT = 'dirtier: CORRUPT'

_DOMAIN_XML = '''\
<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'>
      <source path='{console}' append='on'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
'''


class BuildError(Exception):
    """The guest could not be built."""


@functools.cache
def build():
    """Build the guest (once; cached by its inputs) and return the
    directory holding ``vmlinuz`` and ``initramfs.gz``."""
    proc = subprocess.run(['bash', _BUILDER], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode:
        raise BuildError('%s failed: %s' % (_BUILDER, proc.stderr.strip()))
    return proc.stdout.strip().splitlines()[-1]


class ConsoleLog:
    """A serial console file a dirtier writes to."""

    def __init__(self, path):
        self.console = path

    def statuses(self, since=0):
        """The dirtier's ``(pass, bad, rate)`` reports after byte offset
        ``since`` of the console file."""
        found = []
        for line in self.read(since).splitlines():
            match = _STATUS.search(line)
            if match:
                found.append((int(match.group(1)), int(match.group(2)),
                              float(match.group(3))))
        return found

    def read(self, since=0):
        try:
            with open(self.console, 'rb') as f:
                f.seek(since)
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def console_size(self):
        try:
            return os.path.getsize(self.console)
        except FileNotFoundError:
            return 0

    def corrupt_lines(self):
        return [line for line in self.read().splitlines()
                if _CORRUPT in line]

    def wait_for_reports(self, count, since=0, timeout=60):
        """Wait until the dirtier reported ``count`` times after offset
        ``since``; return the reports (fewer if ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.statuses(since)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


class TestGuest(ConsoleLog):
    """One guest definition: memory size, dirtier load, console file.

    :param dirty_mib: MiB the dirtier writes, pass after pass.
    :param work: the dirtier's CPU work per page (higher dirties slower).
    """

    def __init__(self, guest_dir, console_dir, name, memory_mib=128,
                 dirty_mib=16, work=0):
        self.name = name
        self.uuid = str(uuid.uuid4())
        self.console = os.path.join(console_dir, name + '.console')
        cmdline = command_line(dirty_mib, work)
        esc = saxutils.escape
        self.xml = _DOMAIN_XML.format(
            name=esc(name), uuid=self.uuid, memory_mib=memory_mib,
            kernel=esc(os.path.join(guest_dir, 'vmlinuz')),
            initrd=esc(os.path.join(guest_dir, 'initramfs.gz')),
            cmdline=esc(cmdline), console=esc(self.console))

    def boot(self, conn):
        """Create the (transient) domain on ``conn``; return it."""
        return conn.createXML(self.xml, 0)
