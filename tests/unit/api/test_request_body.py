"""Request bodies read as Nova reads them, or refused with webob errors."""

import unittest

import webob.exc
from nova.api.openstack import wsgi

from nova_wrs_lm.api import request_body


def _req(body, content_type='application/json'):
    req = wsgi.Request.blank('/servers/u/metadata', method='POST')
    req.body = body
    req.content_type = content_type
    return req


class DecodeTest(unittest.TestCase):

    def test_json(self):
        self.assertEqual({'metadata': {'a': 'b'}}, request_body.decode(
            _req(b'{"metadata": {"a": "b"}}')))
        for content_type in ('text/plain', '',
                             'application/vnd.openstack.compute+json'):
            self.assertEqual([1], request_body.decode(
                _req(b'[1]', content_type)), content_type)

    def test_empty_or_not_json_is_none(self):
        for body in (b'', b'{"meta'):
            self.assertIsNone(request_body.decode(_req(body)), body[:10])

    def test_nesting_deeper_than_the_parser_is_a_400(self):
        # Nova's own Resource answers this with a 500 (RecursionError).
        with self.assertRaises(webob.exc.HTTPBadRequest) as caught:
            request_body.decode(_req(b'[' * 100000))
        self.assertEqual('Malformed request body',
                         caught.exception.explanation)

    def test_not_utf8(self):
        with self.assertRaises(webob.exc.HTTPBadRequest) as caught:
            request_body.decode(_req(b'\x80{'))
        self.assertEqual('Malformed request body',
                         caught.exception.explanation)

    def test_content_type_nova_refuses(self):
        for content_type in ('application/xml', 'multipart/form-data'):
            with self.assertRaises(webob.exc.HTTPUnsupportedMediaType) as c:
                request_body.decode(_req(b'{}', content_type))
            self.assertEqual('Unsupported Content-Type',
                             c.exception.explanation)
