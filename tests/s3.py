"""Helpers shared by the tests that drive Visage's S3 API with boto3, botocore's signer and the AWS CLI."""
import hashlib
import hmac
from urllib.parse import quote, urlencode

import boto3
import botocore.auth
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"


def client(server, key_id, secret, token=None, **config):
    """A boto3 S3 client for a test server, path-style, with the SDK's default checksum behaviour."""
    return boto3.client(
        "s3", endpoint_url=server.url, region_name=REGION, aws_access_key_id=key_id, aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}, **config))


def root_client(server, root):
    return client(server, root["AccessKeyId"], root["AccessKeySecret"])


class StreamingAuth(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer with a fixed payload marker (the streaming forms botocore signs only through the CRT)."""

    def __init__(self, credentials, marker):
        super().__init__(credentials, "s3", REGION)
        self.marker = marker

    def payload(self, request):
        return self.marker


def signed(server, method, path, credentials, query=None, headers=None, body=b"", payload=None):
    """A request signed by botocore's SigV4 signer for S3 (header form): (method, url, headers, body, auth).

    `payload` replaces the body's SHA-256 in the signature (UNSIGNED-PAYLOAD, a STREAMING- marker)."""
    url = server.url + quote(path, safe="/~")
    if query:
        url += "?" + urlencode(query, quote_via=quote)
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    auth = StreamingAuth(credentials, payload) if payload else botocore.auth.S3SigV4Auth(credentials, "s3", REGION)
    auth.add_auth(request)
    return method, url, dict(request.headers.items()), body, (auth, request)


def signed_v2(server, method, path, credentials, headers=None, body=b""):
    """A request signed by botocore's Signature Version 2 signer (HMAC-SHA1), as (method, url, headers, body, auth)."""
    url = server.url + quote(path, safe="/~")
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    auth = botocore.auth.HmacV1Auth(credentials)
    auth.add_auth(request)
    return method, url, dict(request.headers.items()), body, (auth, request)


def send(prepared):
    method, url, headers, body, _ = prepared
    return requests.request(method, url, headers=headers, data=body, timeout=30)


def signing_key(secret, date):
    key = hmac.new(f"AWS4{secret}".encode(), date[:8].encode(), hashlib.sha256).digest()
    for part in (REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def chunked_body(data, credentials, date, seed, chunk_size=65536):
    """An aws-chunked body whose chunk signatures chain from the request's signature `seed`."""
    key = signing_key(credentials.secret_key, date)
    scope = f"{date[:8]}/{REGION}/s3/aws4_request"
    empty = hashlib.sha256(b"").hexdigest()
    previous = seed
    out = b""
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for piece in pieces:
        text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, empty, hashlib.sha256(piece).hexdigest()])
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(piece), previous.encode(), piece)
    return out


def streaming_put(server, path, credentials, data, chunk_size=65536):
    """A PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, signed by botocore and chained here."""
    chunked_length = len(chunked_body(data, credentials, "20000101T000000Z", "0" * 64, chunk_size))
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "Content-Length": str(chunked_length)}
    method, url, signed_headers, _, (auth, request) = signed(
        server, "PUT", path, credentials, headers=headers, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    seed = signed_headers["Authorization"].rsplit("Signature=", 1)[1]
    body = chunked_body(data, credentials, request.context["timestamp"], seed, chunk_size)
    return method, url, signed_headers, body, (auth, request)


def trailer_put(server, path, credentials, data, checksum):
    """A PUT with a STREAMING-UNSIGNED-PAYLOAD-TRAILER body and an x-amz-checksum-crc32 trailer, as the SDKs send over TLS."""
    body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, checksum.encode())
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": "x-amz-checksum-crc32", "Content-Length": str(len(body))}
    method, url, signed_headers, _, extra = signed(server, "PUT", path, credentials, headers=headers,
                                                   payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    return method, url, signed_headers, body, extra


def credentials(key_id, secret, token=None):
    return Credentials(key_id, secret, token)
