"""The JSON parser of the manifest route, which takes bodies up to API_MANIFEST_MAX_BYTES.

A version's manifest lists every file, so it outgrows Django's DATA_UPLOAD_MAX_MEMORY_SIZE
(REQUEST_BODY_MAX_BYTES) long before a form does. DRF's JSONParser reads the body through
HttpRequest.body, which enforces that setting. This parser reads the stream itself with its
own limit, so only this route accepts the larger bodies.
"""

import codecs

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils import json


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def manifest_limit_message(sent: int | str) -> str:
    limit = settings.API_MANIFEST_MAX_BYTES
    return (
        f"The request body has {sent} bytes; the limit for a version's manifest is {limit} "
        f"bytes ({limit / 1024 / 1024:.1f} MiB). List fewer files in one version, for example "
        f"by packing small files into an archive, or ask the site's operator to raise "
        f"API_MANIFEST_MAX_BYTES."
    )


class ManifestJSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = settings.API_MANIFEST_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(manifest_limit_message(declared))
        # The stream ends at Content-Length; reading one byte more than the limit detects
        # a body over it without holding more of it in memory.
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(manifest_limit_message(f"more than {limit}"))

        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
