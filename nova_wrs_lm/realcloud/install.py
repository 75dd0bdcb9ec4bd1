"""What the one-machine cloud needs installed: Debian packages, and two
virtualenvs pinned by the project's ``constraints.txt`` (Nova with
Keystone, Placement, Glance, the clients and this plugin; Neutron in one
of its own).  Each step is skipped when already done."""

import hashlib
import os
import subprocess

#: Besides tools/bootstrap.sh's (libvirt, QEMU, the guest's build).
DEB_PACKAGES = ('mariadb-server', 'rabbitmq-server', 'qemu-utils',
                'util-linux', 'python3-venv', 'python3-dev', 'gcc')

#: pip requirements of each venv (versions from constraints.txt).
VENVS = {
    # libvirt-python for nova-compute: the plugin goes in with --no-deps
    # (below), which would skip its libvirt extra.
    'nova': ('nova', 'openstack-placement', 'keystone', 'glance', 'uWSGI',
             'PyMySQL', 'python-openstackclient', 'python-novaclient',
             'libvirt-python'),
    'neutron': ('neutron', 'uWSGI', 'PyMySQL'),
}

#: The plugin, into the nova venv (with its libvirt extra).
_PLUGIN = '.[libvirt]'

#: Files whose content decides whether the plugin is reinstalled.
_PLUGIN_SOURCES = ('nova_wrs_lm', 'nova', 'etc', 'setup.cfg', 'setup.py',
                   'requirements.txt')

_POLICY_RC = '/usr/sbin/policy-rc.d'


class InstallError(Exception):
    pass


def _installed(package):
    proc = subprocess.run(['dpkg-query', '-W', '-f=${Status}', package],
                          capture_output=True, text=True)
    return 'install ok installed' in proc.stdout


def debian_packages(say):
    """apt-get install the missing packages, keeping their services from
    starting (no daemon is started that this tool does not own)."""
    missing = [p for p in DEB_PACKAGES if not _installed(p)]
    if not missing:
        return
    say('installing Debian packages: %s' % ' '.join(missing))
    created = not os.path.exists(_POLICY_RC)
    if created:
        with open(_POLICY_RC, 'w') as f:
            f.write('#!/bin/sh\n# nova-wrs-lm cloud.sh: no service starts '
                    'at install\nexit 101\n')
        os.chmod(_POLICY_RC, 0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        subprocess.run(['apt-get', 'update', '-qq'], check=True, env=env)
        subprocess.run(['apt-get', 'install', '-y', '-qq',
                        '--no-install-recommends'] + missing,
                       check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if created:
            os.unlink(_POLICY_RC)


def _tree_hash(repo, paths):
    digest = hashlib.sha256()
    for top in paths:
        full = os.path.join(repo, top)
        walk = ([(os.path.dirname(full), [], [os.path.basename(full)])]
                if os.path.isfile(full) else os.walk(full))
        for dirpath, dirnames, filenames in walk:
            dirnames[:] = sorted(d for d in dirnames
                                 if d != '__pycache__')
            for name in sorted(filenames):
                if name.endswith('.pyc'):
                    continue
                path = os.path.join(dirpath, name)
                digest.update(os.path.relpath(path, repo).encode())
                with open(path, 'rb') as f:
                    digest.update(f.read())
    return digest.hexdigest()


def _pip(lay, venv, args, repo):
    subprocess.run([lay.bin(venv, 'pip'), 'install', '-q',
                    '--disable-pip-version-check', '-c',
                    os.path.join(repo, 'constraints.txt')] + list(args),
                   check=True, cwd=repo)


def venvs(lay, repo, say):
    """Create or update the venvs; reinstall the plugin into the nova
    venv when its sources changed.  Return the names changed."""
    changed = []
    with open(os.path.join(repo, 'constraints.txt'), 'rb') as f:
        constraints = hashlib.sha256(f.read()).hexdigest()
    for name, requirements in VENVS.items():
        stamp = os.path.join(lay.venv(name), '.wrs-lm-cloud-deps')
        want = hashlib.sha256(
            (constraints + ' '.join(requirements)).encode()).hexdigest()
        if _read(stamp) == want:
            continue
        if not os.path.exists(lay.bin(name, 'python')):
            say('creating venv %s' % lay.venv(name))
            subprocess.run(['python3', '-m', 'venv', lay.venv(name)],
                           check=True)
        say('installing the %s venv (constraints.txt; minutes when cold)'
            % name)
        _pip(lay, name, requirements, repo)
        _write(stamp, want)
        changed.append(name)
    stamp = os.path.join(lay.venv('nova'), '.wrs-lm-cloud-plugin')
    want = _tree_hash(repo, _PLUGIN_SOURCES)
    if _read(stamp) != want:
        say('installing nova-wrs-lm from %s into the nova venv' % repo)
        # Not editable: Nova imports nova.virt.wrs_lm from its own
        # package directory, which only a real install provides.
        _pip(lay, 'nova', ['--no-deps', '--force-reinstall', _PLUGIN], repo)
        _write(stamp, want)
        changed.append('plugin')
    return changed


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text + '\n')
