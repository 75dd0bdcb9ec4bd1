"""``GET /os-wrs-lm-history``'s edge cases that Nova's in-process cloud
does not reach: a cell database that does not answer."""

from unittest import mock

import webob
import webob.exc
from nova import context as nova_context
from nova import test
from oslo_db import exception as db_exc

from nova_wrs_lm.api.handlers import history


class HandlerTest(test.NoDBTestCase):

    def _request(self, query):
        req = webob.Request.blank('/os-wrs-lm-history?' + query)
        req.environ['nova.context'] = nova_context.get_admin_context()
        return req

    @mock.patch('nova_wrs_lm.api.policies.authorize')
    @mock.patch('nova_wrs_lm.history_db.read',
                side_effect=db_exc.DBConnectionError('gone'))
    def test_database_down_is_a_503_not_a_500(self, read, authorize):
        exc = self.assertRaises(webob.exc.HTTPServiceUnavailable,
                                history.index, self._request('host=h'))
        self.assertIn('the cell database did not answer', exc.explanation)
        read.assert_called_once()

    @mock.patch('nova_wrs_lm.api.policies.authorize')
    def test_since_is_read_as_utc(self, authorize):
        with mock.patch('nova_wrs_lm.history_db.read',
                        side_effect=db_exc.DBError('x')) as read:
            self.assertRaises(webob.exc.HTTPServiceUnavailable,
                              history.index,
                              self._request('host=h&since=2026-12-01T09:00:00'
                                            '%2B01:00'))
        self.assertEqual('2026-12-01 08:00:00',
                         str(read.call_args.args[1]))
