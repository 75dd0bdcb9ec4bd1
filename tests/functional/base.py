"""Shared set-up for tests in Nova's in-process cloud."""

import os
import sys

from nova.tests.functional import integrated_helpers

#: Nova's own api-paste.ini, installed as a data file of the nova wheel.
NOVA_API_PASTE = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
#: The sample shipped by this package: Nova's, with the wrs_lm filter.
WRS_LM_API_PASTE = os.path.join(
    os.path.dirname(__file__), '..', '..', 'etc', 'nova', 'api-paste.ini')


class ApiPasteMixin:
    """Point Nova's API fixture at a real api-paste.ini.

    Nova's ConfFixture looks for ``$state_path/etc/nova/api-paste.ini``,
    which exists in a Nova source tree but not in an installed wheel.  The
    hook ``_setup_services`` runs after the config fixture and before
    ``OSAPIFixture`` loads the pipeline.
    """

    API_PASTE = NOVA_API_PASTE

    def _setup_services(self):
        self.flags(api_paste_config=os.path.abspath(self.API_PASTE),
                   group='wsgi')
        super()._setup_services()


class NovaApiTestCase(ApiPasteMixin, integrated_helpers._IntegratedTestBase):
    """Nova's in-process cloud (API, conductor, scheduler, placement and
    one fake compute) with a real api-paste.ini."""

    REQUIRES_LOCKING = False
    ADMIN_API = True
