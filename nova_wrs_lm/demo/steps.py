"""The demo's walkthrough: one function per step.

Each step gets the running :class:`nova_wrs_lm.harness.embedded.
EmbeddedCloud` and a :class:`nova_wrs_lm.demo.report.StepResult` to fill:
it makes API calls through the cloud's vocabulary (flavor, boot,
live_migrate, request...) and records what Nova answered.  It creates what
it needs itself (its own flavors, images, servers and hosts), so that any
step can run alone (``--step N``).  Key names, values and messages come
from the spec table and from the modules that implement each capability.
"""

import io
import time

from nova import conf as nova_conf

from nova_wrs_lm import explanation
from nova_wrs_lm import resolver
from nova_wrs_lm import spec_table
from nova_wrs_lm.cloud import server_inputs
from nova_wrs_lm.cmd import explain
from nova_wrs_lm.demo.report import Record
from nova_wrs_lm.harness import settings
from nova_wrs_lm.spec_types import FLAVOR
from nova_wrs_lm.spec_types import IMAGE
from nova_wrs_lm.spec_types import INSTANCE

#: Nova's configuration (with the [wrs_lm] group, registered on import of
#: nova_wrs_lm.conf).
CONF = nova_conf.CONF

#: The hosts of the embedded cloud and what each step uses them for.
HOSTS = ('compute-1', 'compute-2', 'compute-3',
         'compute-4', 'compute-5', 'compute-6')
_MIGRATE_FROM, _MIGRATE_TO = 'compute-1', 'compute-2'
_DISABLED = 'compute-3'
_FAILED, _SEGMENT_PEER, _RESERVED = 'compute-4', 'compute-5', 'compute-6'
_SEGMENT = 'segment-a'

#: nova.conf of the embedded cloud (set before its services start).
OVERRIDES = {
    # The auto-converge gate open, so the flavor's choice is applied.
    'libvirt': {'live_migration_permit_auto_converge': True},
    # Instances of a host reported down go to ERROR, so that evacuation
    # brings them back ACTIVE (the recovery a failover segment is for).
    'wrs_lm': {'host_down_instance_state': 'error'},
}


def overrides():
    """:data:`OVERRIDES` plus the scheduler plugins of this package."""
    found = {group: dict(options) for group, options in OVERRIDES.items()}
    found['filter_scheduler'] = settings.scheduler_options(CONF)
    return found


#: Simulated seconds one real second of a migration monitor stands for.
SPEED_UP = 400

#: What steps 3 and 4 say about time.
_SIMULATED_TIME = (
    'time is simulated: the migration monitors\' clocks run %dx faster '
    'than real time (Nova\'s fake libvirt runs no guest)' % SPEED_UP)


def _specs_uri(flavor_id):
    return '/flavors/%s/os-extra_specs' % flavor_id


def _metadata_uri(server_id):
    return '/servers/%s/metadata' % server_id


def _pairs(items):
    return ', '.join('%s=%s' % kv for kv in sorted(items.items()))


# -- step 1 -----------------------------------------------------------------

def _valid_and_invalid(setting):
    """One value inside and one outside the setting's rule, from the
    rule itself."""
    rule = setting.value
    if rule.type_name == 'integer':
        return str(rule.minimum), str(rule.minimum - 1)
    return 'true', 'maybe'


def flavor_keys(cloud, step):
    """Flavor extra specs: Nova validates them with this package's
    validators; an invalid value gets the table's rule as the 400."""
    flavor_id = cloud.flavor('demo-step1')
    flavored = [s for s in spec_table.SETTINGS if FLAVOR in s.keys]
    keys = [(s, s.canonical(FLAVOR)) for s in flavored]
    keys += [(s, alias) for s in flavored
             for alias in s.aliases(FLAVOR)][:1]
    versions = [cloud.api.microversion]
    if cloud.api_filter:
        versions.append('2.85')
    else:
        step.notes.append('the wrs_lm API filter is not installed: below '
                          'microversion 2.86 Nova stores any value')
    for version in versions:
        api = cloud.api_at(version)
        for setting, key in keys:
            good, bad = _valid_and_invalid(setting)
            answer = cloud.request('POST', _specs_uri(flavor_id),
                                   {'extra_specs': {key: good}}, api=api)
            stored = api.get_extra_specs(flavor_id).get(key)
            step.records.append(Record(
                'PUT flavor %s (microversion %s)' % (
                    _pairs({key: good}), version),
                '%d, stored %r' % (answer.status, stored),
                '200, stored %r' % good,
                answer.status == 200 and stored == good))
            answer = cloud.request('POST', _specs_uri(flavor_id),
                                   {'extra_specs': {key: bad}}, api=api)
            stored = api.get_extra_specs(flavor_id).get(key)
            want = setting.message(key)
            step.records.append(Record(
                'PUT flavor %s (microversion %s)' % (
                    _pairs({key: bad}), version),
                '%d "%s"' % (answer.status, answer.message),
                '400 "%s", %r still stored' % (want, good),
                answer.status == 400 and answer.message == want and
                stored == good))


# -- step 2 -----------------------------------------------------------------

def explain_server(cloud, step):
    """Boot a server from a flavor and an image that set live-migration
    keys, set ``nova meta`` keys, and explain its policy from what the
    cloud answers through openstacksdk."""
    example = explain.EXAMPLE
    flavor_id = cloud.flavor('demo-step2', example[FLAVOR])
    image_id = cloud.image('demo-step2', example[IMAGE])
    server = cloud.boot('demo-explained', flavor_id, _MIGRATE_FROM,
                        image_id=image_id)
    step.records.append(Record(
        'boot demo-explained: flavor %s; image %s' % (
            _pairs(example[FLAVOR]), _pairs(example[IMAGE])),
        '%s on %s' % (server['status'], server['OS-EXT-SRV-ATTR:host']),
        'ACTIVE', server['status'] == 'ACTIVE'))

    answer = cloud.request('POST', _metadata_uri(server['id']),
                           {'metadata': example[INSTANCE]})
    step.records.append(Record(
        'nova meta demo-explained set %s' % _pairs(example[INSTANCE]),
        '%d, metadata %s' % (answer.status,
                             _pairs(answer.body.get('metadata') or {})),
        '200', answer.status == 200))

    setting, key = spec_table.TIMEOUT, spec_table.TIMEOUT.canonical(INSTANCE)
    bad = _valid_and_invalid(setting)[1]
    answer = cloud.request('POST', _metadata_uri(server['id']),
                           {'metadata': {key: bad}})
    if cloud.api_filter:
        want = setting.message(key)
        step.records.append(Record(
            'nova meta demo-explained set %s' % _pairs({key: bad}),
            '%d "%s"' % (answer.status, answer.message),
            '400 "%s"' % want,
            answer.status == 400 and answer.message == want))
    else:
        step.notes.append('the wrs_lm API filter is not installed: '
                          'metadata values are not validated')

    with cloud.sdk_connection().real_endpoints() as sdk:
        inputs = server_inputs.read(sdk, server['id'])
    result = explanation.explain(inputs.stores, CONF, strict=False,
                                 server=inputs)
    out = io.StringIO()
    explain.write(result, 'table', out)
    policy = result.policy
    expected = resolver.resolve(CONF, **example)
    same = policy.as_dict() == expected.as_dict()
    step.records.append(Record(
        'nova-wrs-lm explain --server %s (openstacksdk)' % server['id'],
        out.getvalue().rstrip(),
        'the policy of the example flavor, image and metadata: %s' %
        expected.summary(), same,
        data={'policy': policy.as_dict()}))


# -- step 3 -----------------------------------------------------------------

def _flag_names(flags, libvirt):
    values = {name: getattr(libvirt, name) for name in dir(libvirt)
              if name.startswith('VIR_MIGRATE_')}
    return sorted(name for name, value in values.items()
                  if isinstance(value, int) and value and
                  flags & value == value)


def live_migrate(cloud, step):
    """Live-migrate with each instance's own flags; abort a migration that
    does not converge at the instance's timeout, leaving it ACTIVE."""
    from nova.virt.libvirt import driver as libvirt_driver

    from nova_wrs_lm.virt import migration_flags
    libvirt = libvirt_driver.libvirt
    step.notes.append(_SIMULATED_TIME)

    tunnel = spec_table.TUNNEL.canonical(FLAVOR)
    converge = spec_table.AUTO_CONVERGE.canonical(FLAVOR)
    specs = {tunnel: 'true', converge: 'true'}
    fast = cloud.boot('demo-converges',
                      cloud.flavor('demo-step3-fast', specs), _MIGRATE_FROM)
    policy = resolver.resolve(CONF, flavor=specs)
    to_set, to_clear = migration_flags.changes(policy)
    cloud.live_migrate(fast['id'], _MIGRATE_TO)
    cloud.wait_for_migration(fast['id'], ['completed'])
    moved = cloud.wait_for_server(fast['id'], 'ACTIVE', _MIGRATE_TO)
    names = _flag_names(cloud.migration_flags(fast['id']), libvirt)
    ok = (moved['OS-EXT-SRV-ATTR:host'] == _MIGRATE_TO and
          all(n in names for n in to_set) and
          not any(n in names for n in to_clear))
    step.records.append(Record(
        'live-migrate demo-converges (flavor %s) %s -> %s' % (
            _pairs(specs), _MIGRATE_FROM, _MIGRATE_TO),
        '%s on %s; libvirt flags %s' % (
            moved['status'], moved['OS-EXT-SRV-ATTR:host'],
            ' | '.join(names)),
        'ACTIVE on %s; flags set %s, cleared %s' % (
            _MIGRATE_TO, ', '.join(to_set) or '-',
            ', '.join(to_clear) or '-'), ok,
        data={'flags': names}))

    timeout_key = spec_table.TIMEOUT.canonical(FLAVOR)
    timeout = str(spec_table.TIMEOUT.value.minimum)
    slow = cloud.boot('demo-never-converges',
                      cloud.flavor('demo-step3-slow', {timeout_key: timeout}),
                      _MIGRATE_FROM)
    cloud.jobs.never_converges(slow['id'])
    started = time.monotonic()
    cloud.live_migrate(slow['id'], _MIGRATE_TO)
    migration = cloud.wait_for_migration(
        slow['id'], ['error', 'failed', 'cancelled'])
    after = cloud.wait_for_server(slow['id'], 'ACTIVE')
    real = time.monotonic() - started
    line = 'Live migration not completed after %s sec' % timeout
    logged = line in cloud.log
    step.records.append(Record(
        'live-migrate demo-never-converges (flavor %s=%s, job never '
        'converges) %s -> %s' % (timeout_key, timeout, _MIGRATE_FROM,
                                 _MIGRATE_TO),
        'migration %s; server %s on %s; nova-compute logged "%s": %s '
        '(%.1f s real time)' % (
            migration['status'], after['status'],
            after['OS-EXT-SRV-ATTR:host'], line, 'yes' if logged else 'no',
            real),
        'aborted at %s s: migration failed, server ACTIVE on %s' % (
            timeout, _MIGRATE_FROM),
        logged and after['status'] == 'ACTIVE' and
        after['OS-EXT-SRV-ATTR:host'] == _MIGRATE_FROM))


# -- step 4 -----------------------------------------------------------------

def rollback_on_disabled_host(cloud, step):
    """With the source hypervisor disabled for a failure (a ``failure:``
    reason), a migration that rolls back puts its instance in ERROR with a
    fault; the others keep migrating."""
    step.notes.append(_SIMULATED_TIME)
    flavor_id = cloud.flavor('demo-step4')
    servers = [cloud.boot('demo-evacuee-%d' % i, flavor_id, _DISABLED)
               for i in (1, 2, 3)]
    service = cloud.service(_DISABLED)
    answer = cloud.request('PUT', '/os-services/%s' % service['id'], {
        'status': 'disabled', 'disabled_reason': 'failure: data port down'})
    step.records.append(Record(
        'disable the hypervisor %s (PUT os-services, "failure: data port '
        'down")' % _DISABLED,
        '%d, service %s' % (answer.status,
                            cloud.service(_DISABLED)['status']),
        '200, service disabled', answer.status == 200))

    cloud.jobs.fails(servers[0]['id'])
    for server in servers:
        cloud.live_migrate(server['id'], _MIGRATE_TO)
        failed = server is servers[0]
        cloud.wait_for_migration(
            server['id'], ['error', 'failed'] if failed else ['completed'])
        after = cloud.wait_for_server(
            server['id'], 'ERROR' if failed else 'ACTIVE')
        host = after['OS-EXT-SRV-ATTR:host']
        if failed:
            fault = (after.get('fault') or {}).get('message', '')
            step.records.append(Record(
                'live-migrate %s (its libvirt job fails) %s -> %s' % (
                    server['name'], _DISABLED, _MIGRATE_TO),
                '%s on %s, fault: %s' % (after['status'], host, fault),
                'ERROR on %s with a fault naming the rollback' % _DISABLED,
                after['status'] == 'ERROR' and host == _DISABLED and
                'rolled back to source host %s' % _DISABLED in fault))
        else:
            step.records.append(Record(
                'live-migrate %s %s -> %s' % (server['name'], _DISABLED,
                                              _MIGRATE_TO),
                '%s on %s' % (after['status'], host),
                'ACTIVE on %s' % _MIGRATE_TO,
                after['status'] == 'ACTIVE' and host == _MIGRATE_TO))


# -- step 5 -----------------------------------------------------------------

def host_down_and_evacuate(cloud, step):
    """Report a host down through os-hosts; its service shows down and its
    instances change state at once; evacuation stays in the failover
    segment and lands on the reserved host."""
    from nova_wrs_lm.scheduler import segments
    cloud.failover_segment(
        _SEGMENT, (_FAILED, _SEGMENT_PEER, _RESERVED), (_RESERVED,),
        {segments.SEGMENT.name: _SEGMENT,
         segments.RECOVERY_METHOD.name: segments.RESERVED_HOST.name})
    step.records.append(Record(
        'aggregates: %s = {%s} with %s=%s, %s=%s; %s reserved (%s=true)' % (
            _SEGMENT, ', '.join((_FAILED, _SEGMENT_PEER, _RESERVED)),
            segments.SEGMENT.name, _SEGMENT, segments.RECOVERY_METHOD.name,
            segments.RESERVED_HOST.name, _RESERVED, segments.RESERVED.name),
        'created', 'created', True))
    flavor_id = cloud.flavor('demo-step5')
    servers = [cloud.boot('demo-protected-%d' % i, flavor_id, _FAILED)
               for i in (1, 2)]

    answer = cloud.request('PUT', '/os-hosts/%s' % _FAILED,
                           {'host_down_reported': True})
    service = cloud.service(_FAILED)
    step.records.append(Record(
        'PUT os-hosts/%s {"host_down_reported": true}' % _FAILED,
        '%d; service state %s, forced_down %s' % (
            answer.status, service['state'], service.get('forced_down')),
        '200; service down', answer.status == 200 and
        service['state'] == 'down'))

    state = CONF.wrs_lm.host_down_instance_state
    want = {'error': 'ERROR', 'stopped': 'SHUTOFF'}[state]
    for server in servers:
        now = cloud.api.get_server(server['id'])
        step.records.append(Record(
            'GET server %s' % server['name'],
            '%s on %s%s' % (now['status'], now['OS-EXT-SRV-ATTR:host'],
                            ', fault: %s' % now['fault']['message']
                            if now.get('fault') else ''),
            '%s ([wrs_lm] host_down_instance_state = %s)' % (want, state),
            now['status'] == want))

    for server in servers:
        cloud.evacuate(server['id'])
        cloud.wait_for_migration(server['id'], ['done'])
        after = cloud.wait_for_server(server['id'], 'ACTIVE')
        host = after['OS-EXT-SRV-ATTR:host']
        step.records.append(Record(
            'evacuate %s (no host given: the scheduler chooses)' %
            server['name'],
            '%s on %s' % (after['status'], host),
            'ACTIVE on the reserved host %s of %s' % (_RESERVED, _SEGMENT),
            after['status'] == 'ACTIVE' and host == _RESERVED))


#: The walkthrough: (number, title, function).
STEPS = (
    (1, 'flavor keys: valid values stored, invalid ones get a 400',
     flavor_keys),
    (2, 'boot, nova meta, explain the server through openstacksdk',
     explain_server),
    (3, 'live migration: own flags; timeout aborts, server stays ACTIVE',
     live_migrate),
    (4, 'disabled source: rolled-back migration -> ERROR, others migrate',
     rollback_on_disabled_host),
    (5, 'host reported down; evacuation to the segment\'s reserved host',
     host_down_and_evacuate),
)
