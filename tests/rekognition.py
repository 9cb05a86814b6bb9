"""Helpers for the tests that drive Visage's Rekognition dialect with boto3."""
import boto3
from botocore.config import Config

REGION = "us-east-1"


def client(server, key_id, secret, token=None, service="rekognition"):
    """A boto3 client for a test server; one attempt, so a refused call is seen as it was answered."""
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def root_client(server, root, service="rekognition"):
    return client(server, root["AccessKeyId"], root["AccessKeySecret"], service=service)


def code_of(error):
    return error.value.response["Error"]["Code"]
