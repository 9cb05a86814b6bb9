"""Helpers for the Content Moderation (green) tests: calls through the official SDK's generic
`call_api` (its typed image methods send no body), in either signature mode."""
import json

from alibabacloud_green20180509.client import Client as GreenClient
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_util.models import RuntimeOptions

from alibaba import config

PATHS = {"ImageAsyncScan": "/green/image/asyncscan", "ImageAsyncScanResults": "/green/image/results",
         "ImageSyncScan": "/green/image/scan"}


def client(server, key_id, secret, token=None, algorithm=None):
    """A green client; algorithm='v2' signs with ROA V1 (`acs AK:sig`), the default with ACS3."""
    return GreenClient(config(server, key_id, secret, token=token, algorithm=algorithm))


def call(green, action, body, client_info=None):
    """One call; returns the parsed JSON body (the SDK raises on HTTP errors)."""
    params = openapi_models.Params(action=action, version="2018-05-09", protocol="HTTP", pathname=PATHS[action], method="POST",
                                   auth_type="AK", style="ROA", req_body_type="json", body_type="json")
    query = {"ClientInfo": json.dumps(client_info or {"ip": "127.0.0.2", "userId": "u1", "userType": "others"})}
    request = openapi_models.OpenApiRequest(query=query, body=body)
    return green.call_api(params, request, RuntimeOptions())["body"]


def scan_body(pairs, callback=None, seed=None, crypt_type=None, scenes=("sface-1",)):
    """An asyncscan/scan body: pairs are (dataId, url, faceUrl)."""
    body = {"scenes": list(scenes), "tasks": [{"dataId": d, "url": a, "extras": {"faceUrl": b}} for d, a, b in pairs]}
    if callback:
        body.update(callback=callback, seed=seed)
    if crypt_type:
        body["cryptType"] = crypt_type
    return body
