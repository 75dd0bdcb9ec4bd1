"""Waiting for Nova: poll its API until a server or a migration gets there.

Every wait of the harness ends after :data:`SAFETY_LIMIT` real seconds.
The limit guards against a hang; it is never a measure of speed: what a
test observes (simulated seconds, polls, states) does not depend on how
fast or loaded the machine is, only how long the test takes does.
"""

import time

#: Real seconds any wait of the harness may take before it gives up.
SAFETY_LIMIT = 300.0

#: Real seconds between two polls of the API.
INTERVAL = 0.1


def until(what, check, limit=SAFETY_LIMIT, interval=INTERVAL):
    """Call ``check()`` until it returns something true, and return that;
    raise TimeoutError naming ``what`` after ``limit`` real seconds."""
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError('%s: not after %.0f s' % (what, limit))
        time.sleep(interval)


def server(api, server_id, status, host=None):
    """The server once it has ``status`` (and is on ``host``); an ERROR
    server once its fault is recorded (Nova sets the state first)."""
    def check():
        found = api.get_server(server_id)
        if found['status'] != status:
            return None
        if host and found['OS-EXT-SRV-ATTR:host'] != host:
            return None
        if status == 'ERROR' and 'fault' not in found:
            return None
        return found
    return until('server %s %s' % (server_id, status), check)


def migration(api, server_id, statuses):
    """The server's latest migration once its status is one of
    ``statuses`` (compared without case)."""
    wanted = [status.lower() for status in statuses]

    def check():
        migrations = [m for m in api.api_get(
            '/os-migrations?instance_uuid=%s' % server_id
        ).body['migrations'] if m['instance_uuid'] == server_id]
        if not migrations:
            return None
        latest = max(migrations, key=lambda m: m['id'])
        return latest if latest['status'].lower() in wanted else None
    return until('migration of %s %s' % (server_id, '/'.join(statuses)),
                 check)
