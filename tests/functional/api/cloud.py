"""The cloud the API tests run in: Nova's in-process cloud whose
api-paste.ini is the sample this package ships (the wrs_lm filter after
keystonecontext), at the latest microversion."""

from oslo_serialization import jsonutils

from nova_wrs_lm.harness import cloud
from nova_wrs_lm.harness import settings


class FilteredCloud(cloud.ApiTestCase):
    API_PASTE = settings.WRS_LM_API_PASTE
    microversion = 'latest'

    def _request(self, method, uri, body=None, api=None, **kwargs):
        """One request; the response, whatever its status."""
        api = api or self.api
        if body is not None and not isinstance(body, (str, bytes)):
            body = jsonutils.dumps(body)
        return api.api_request(uri, method=method, body=body,
                               check_response_status=None, **kwargs)

    def _fault(self, response, status):
        """The message of a Nova-style JSON fault with ``status``."""
        self.assertEqual(status, response.status_code, response.text)
        self.assertEqual('application/json',
                         response.headers['Content-Type'].split(';')[0])
        name = {400: 'badRequest', 403: 'forbidden',
                404: 'itemNotFound'}[status]
        fault = response.json()[name]
        self.assertEqual(status, fault['code'])
        return fault['message']
