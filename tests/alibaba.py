"""Helpers shared by the tests that drive Visage with the official Alibaba Cloud SDKs."""
import json
import time

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config


def config(server, key_id, secret, token=None, algorithm=None):
    """An SDK configuration pointing at a test server."""
    options = dict(access_key_id=key_id, access_key_secret=secret, security_token=token,
                   endpoint=server.url.removeprefix("http://"), protocol="http", region_id="cn-hangzhou")
    if algorithm:
        options["signature_algorithm"] = algorithm
    return Config(**options)


def root_ram(server):
    """The root credentials of a fresh server and a RAM client signed with them."""
    root = json.loads((server.data / "root-credentials.json").read_text())
    return root, RamClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))


def app_user(ram, name="upload-app"):
    """The seed's steps 1-2: a RAM user with an access key, allowed to call AssumeRole."""
    ram.create_user(ram_models.CreateUserRequest(user_name=name, display_name="Upload app"))
    key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name)).body.access_key
    ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name=name))
    return key


def trust_policy(*principals):
    """A role trust policy naming RAM principals (`acs:ram::ACCOUNT:root` for the whole account)."""
    return json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": list(principals)}}]})


def seed_policies(account, bucket="web-direct-upload", project="photos"):
    """The seed's two custom policies: uploads into bucket/uploads/, and IMM on one project."""
    return {
        "oss-web-upload": {"Version": "1", "Statement": [
            {"Effect": "Allow", "Action": "oss:PutObject", "Resource": f"acs:oss:*:*:{bucket}/uploads/*"}]},
        "imm-photos": {"Version": "1", "Statement": [
            {"Effect": "Allow", "Action": "imm:*", "Resource": f"acs:imm:cn-hangzhou:{account}:project/{project}"}]},
    }


def seed_role(ram, account, name="imm-web-upload", policies=None):
    """The seed's steps 3-5: a role the account trusts, with custom policies created and attached."""
    role = ram.create_role(ram_models.CreateRoleRequest(
        role_name=name, assume_role_policy_document=trust_policy(f"acs:ram::{account}:root"))).body.role
    for policy, document in (seed_policies(account) if policies is None else policies).items():
        ram.create_policy(ram_models.CreatePolicyRequest(policy_name=policy, policy_document=json.dumps(document)))
        ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=policy, role_name=name))
    return role


def until_idle(imm, project, timeout=300):
    """Waits until no task of the IMM project is running."""
    from alibabacloud_imm20200930 import models as imm_models
    deadline = time.monotonic() + timeout
    while any(t.status == "Running" for t in imm.list_tasks(
            imm_models.ListTasksRequest(project_name=project, max_results=100)).body.tasks):
        assert time.monotonic() < deadline, "tasks did not finish"
        time.sleep(0.5)
