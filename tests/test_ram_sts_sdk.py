"""The seed's identity set-up and STS AssumeRole through the official Alibaba Cloud SDKs, and the
refusals of every kind of bad credential."""
import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
import uuid

import pytest
import requests
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from Tea.exceptions import TeaException

from alibaba import app_user, config, root_ram, seed_policies, seed_role, trust_policy
from conftest import Server


def error_code(call):
    with pytest.raises(TeaException) as raised:
        call()
    return raised.value.code


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A server with the seed's steps 1–5 done through the RAM SDK as the root account."""
    server = Server(tmp_path_factory.mktemp("ram") / "data")
    root, ram = root_ram(server)
    account = root["AccountId"]
    key = app_user(ram)
    role = seed_role(ram, account)
    yield dict(server=server, root=root, account=account, ram=ram, key=key, role=role)
    server.stop()


def test_seed_identities_read_back(seeded):
    ram, account = seeded["ram"], seeded["account"]
    role = ram.get_role(ram_models.GetRoleRequest(role_name="imm-web-upload")).body.role
    assert role.arn == f"acs:ram::{account}:role/imm-web-upload" and role.max_session_duration == 3600
    assert json.loads(role.assume_role_policy_document)["Statement"][0]["Action"] == "sts:AssumeRole"
    attached = ram.list_policies_for_role(ram_models.ListPoliciesForRoleRequest(role_name="imm-web-upload")).body
    assert sorted((p.policy_name, p.policy_type) for p in attached.policies.policy) == [
        ("imm-photos", "Custom"), ("oss-web-upload", "Custom")]
    policy = ram.get_policy(ram_models.GetPolicyRequest(policy_name="oss-web-upload", policy_type="Custom")).body
    upload_policy = seed_policies(account)["oss-web-upload"]
    assert json.loads(policy.policy.policy_document) == upload_policy
    assert json.loads(policy.default_policy_version.policy_document) == upload_policy
    system = ram.get_policy(ram_models.GetPolicyRequest(policy_name="AliyunSTSAssumeRoleAccess", policy_type="System")).body
    assert "sts:AssumeRole" in system.policy.policy_document
    keys = ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="upload-app")).body.access_keys.access_key
    assert [k.access_key_id for k in keys] == [seeded["key"].access_key_id] and keys[0].status == "Active"
    users = ram.list_users(ram_models.ListUsersRequest()).body.users.user
    assert [u.user_name for u in users] == ["upload-app"]
    names = [p.policy_name for p in ram.list_policies(ram_models.ListPoliciesRequest()).body.policies.policy]
    assert {"AdministratorAccess", "AliyunOSSFullAccess", "oss-web-upload", "imm-photos"} <= set(names)


def test_ram_refusals_use_ram_codes(seeded):
    ram = seeded["ram"]
    assert error_code(lambda: ram.create_user(ram_models.CreateUserRequest(user_name="upload-app"))) == "EntityAlreadyExists.User"
    assert error_code(lambda: ram.get_user(ram_models.GetUserRequest(user_name="nobody"))) == "EntityNotExist.User"
    assert error_code(lambda: ram.create_policy(ram_models.CreatePolicyRequest(
        policy_name="broken", policy_document='{"Version":"1","Statement":[{"Effect":"Allow"}]}'))) == "MalformedPolicyDocument"
    assert error_code(lambda: ram.delete_role(ram_models.DeleteRoleRequest(role_name="imm-web-upload"))) == "DeleteConflict.Role.Policy"
    assert error_code(lambda: ram.create_user(ram_models.CreateUserRequest(user_name="bad name!"))) == "InvalidParameter.UserName"
    # A RAM user with only AliyunSTSAssumeRoleAccess may not manage identities.
    key = seeded["key"]
    as_user = RamClient(config(seeded["server"], key.access_key_id, key.access_key_secret))
    assert error_code(lambda: as_user.create_user(ram_models.CreateUserRequest(user_name="mallory"))) == "NoPermission"


def assume(seeded, **extra):
    key = seeded["key"]
    sts = StsClient(config(seeded["server"], key.access_key_id, key.access_key_secret))
    request = sts_models.AssumeRoleRequest(role_arn=seeded["role"].arn, role_session_name="role_session_test", **extra)
    return sts.assume_role(request).body


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_assume_role_and_use_the_credentials(seeded, algorithm):
    key = seeded["key"]
    sts = StsClient(config(seeded["server"], key.access_key_id, key.access_key_secret, algorithm=algorithm))
    body = sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=seeded["role"].arn, role_session_name="role_session_test", duration_seconds=900)).body
    credentials = body.credentials
    assert credentials.access_key_id.startswith("STS.") and credentials.security_token
    expires = datetime.datetime.strptime(credentials.expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert 850 < (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 900
    assert body.assumed_role_user.arn == seeded["role"].arn + "/role_session_test"
    assert body.assumed_role_user.assumed_role_id == seeded["role"].role_id + ":role_session_test"
    temporary = StsClient(config(seeded["server"], credentials.access_key_id, credentials.access_key_secret,
                                 credentials.security_token, algorithm=algorithm))
    identity = temporary.get_caller_identity().body
    assert identity.identity_type == "AssumedRoleUser" and identity.account_id == seeded["account"]
    assert identity.arn == f"acs:ram::{seeded['account']}:assumed-role/imm-web-upload/role_session_test"
    # The role's grants do not include managing identities.
    ram = RamClient(config(seeded["server"], credentials.access_key_id, credentials.access_key_secret, credentials.security_token))
    assert error_code(lambda: ram.list_users(ram_models.ListUsersRequest())) == "NoPermission"


def test_assume_role_refusals(seeded):
    assert error_code(lambda: assume(seeded, duration_seconds=100)) == "InvalidParameter.DurationSeconds"
    assert error_code(lambda: assume(seeded, duration_seconds=7200)) == "InvalidParameter.DurationSeconds"
    assert error_code(lambda: assume(seeded, policy='{"Version":"1"')) == "InvalidParameter.PolicyGrammar"
    key = seeded["key"]
    sts = StsClient(config(seeded["server"], key.access_key_id, key.access_key_secret))
    assert error_code(lambda: sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=seeded["role"].arn, role_session_name="bad name"))) == "InvalidParameter.RoleSessionName"
    assert error_code(lambda: sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=f"acs:ram::{seeded['account']}:role/nope", role_session_name="s1"))) == "EntityNotExist.Role"
    root = seeded["root"]
    as_root = StsClient(config(seeded["server"], root["AccessKeyId"], root["AccessKeySecret"]))
    assert error_code(lambda: as_root.assume_role(sts_models.AssumeRoleRequest(
        role_arn=seeded["role"].arn, role_session_name="s1"))) == "NoPermission"


def test_bad_credentials_are_refused(seeded):
    server, key = seeded["server"], seeded["key"]
    wrong = StsClient(config(server, key.access_key_id, "not-the-secret"))
    assert error_code(lambda: wrong.get_caller_identity()) == "SignatureDoesNotMatch"
    unknown = StsClient(config(server, "LTAInobodyhasthiskey0", "x"))
    assert error_code(lambda: unknown.get_caller_identity()) == "InvalidAccessKeyId.NotFound"
    credentials = assume(seeded).credentials
    token = credentials.security_token
    prefix, payload, tag = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roleName"] = "someone-else"
    forged = prefix + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + tag
    for bad_token, code in ((forged, "InvalidSecurityToken.Malformed"), (token[:-4] + "AAAA", "InvalidSecurityToken.Malformed")):
        client = StsClient(config(server, credentials.access_key_id, credentials.access_key_secret, bad_token))
        assert error_code(lambda: client.get_caller_identity()) == code
    other = assume(seeded).credentials
    mismatched = StsClient(config(server, credentials.access_key_id, credentials.access_key_secret, other.security_token))
    assert error_code(lambda: mismatched.get_caller_identity()) == "InvalidSecurityToken.MismatchWithAccessKey"


def v1_request(server, key_id, secret, nonce, timestamp, action="GetCallerIdentity"):
    """A V1 (HMAC-SHA1) signed STS call, built by hand to control the nonce and the time."""
    params = {"Action": action, "Version": "2015-04-01", "Format": "JSON", "AccessKeyId": key_id,
              "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce,
              "Timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")}
    quote = lambda text: urllib.parse.quote(text, safe="-_.~")
    canonical = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(params.items()))
    string_to_sign = "POST&%2F&" + quote(canonical)
    params["Signature"] = base64.b64encode(hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    return requests.post(server.url + "/?" + urllib.parse.urlencode(params), timeout=10)


def test_replayed_nonce_and_skewed_clock_are_refused(seeded):
    server, key = seeded["server"], seeded["key"]
    now = datetime.datetime.now(datetime.timezone.utc)
    nonce = uuid.uuid4().hex
    first = v1_request(server, key.access_key_id, key.access_key_secret, nonce, now)
    assert first.status_code == 200 and first.json()["IdentityType"] == "RAMUser"
    again = v1_request(server, key.access_key_id, key.access_key_secret, nonce, now)
    assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed"
    skewed = v1_request(server, key.access_key_id, key.access_key_secret, uuid.uuid4().hex, now - datetime.timedelta(minutes=20))
    assert skewed.status_code == 400 and skewed.json()["Code"] == "InvalidTimeStamp.Expired"
    unsigned = requests.post(server.url + "/?Action=GetCallerIdentity&Version=2015-04-01", timeout=10)
    assert unsigned.status_code == 400 and unsigned.json()["Code"] == "MissingParameter"


def test_tokens_stop_working_when_the_role_is_deleted(tmp_path):
    server = Server(tmp_path / "data")
    try:
        root, ram = root_ram(server)
        key = app_user(ram, "app")
        trust = trust_policy(f"acs:ram::{root['AccountId']}:user/app")
        role = ram.create_role(ram_models.CreateRoleRequest(role_name="short-lived", assume_role_policy_document=trust)).body.role
        sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
        credentials = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="s1")).body.credentials
        temporary = StsClient(config(server, credentials.access_key_id, credentials.access_key_secret, credentials.security_token))
        assert temporary.get_caller_identity().body.identity_type == "AssumedRoleUser"
        ram.delete_role(ram_models.DeleteRoleRequest(role_name="short-lived"))
        assert error_code(lambda: temporary.get_caller_identity()) == "InvalidSecurityToken.Revoked"
        # A role created again under the same name does not revive the old token.
        ram.create_role(ram_models.CreateRoleRequest(role_name="short-lived", assume_role_policy_document=trust))
        assert error_code(lambda: temporary.get_caller_identity()) == "InvalidSecurityToken.Revoked"
        # Disabling the user's key (UpdateAccessKey) ends the sessions it opened; enabling it again
        # brings them back, as they are still within their lifetime.
        credentials = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="s2")).body.credentials
        temporary = StsClient(config(server, credentials.access_key_id, credentials.access_key_secret, credentials.security_token))
        assert temporary.get_caller_identity().body.identity_type == "AssumedRoleUser"
        ram.update_access_key(ram_models.UpdateAccessKeyRequest(user_name="app", user_access_key_id=key.access_key_id,
                                                                status="Inactive"))
        listed = ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name="app")).body.access_keys.access_key
        assert [k.status for k in listed] == ["Inactive"]
        assert error_code(lambda: temporary.get_caller_identity()) == "InvalidSecurityToken.Revoked"
        assert error_code(lambda: sts.get_caller_identity()) == "InvalidAccessKeyId.Inactive"
        with pytest.raises(TeaException) as raised:
            ram.update_access_key(ram_models.UpdateAccessKeyRequest(user_name="app", user_access_key_id=key.access_key_id,
                                                                    status="Paused"))
        assert raised.value.code == "InvalidParameter.Status"
        ram.update_access_key(ram_models.UpdateAccessKeyRequest(user_name="app", user_access_key_id=key.access_key_id,
                                                                status="Active"))
        assert temporary.get_caller_identity().body.identity_type == "AssumedRoleUser"
        # Deleting the user's key ends the sessions it opened.
        ram.delete_access_key(ram_models.DeleteAccessKeyRequest(user_name="app", user_access_key_id=key.access_key_id))
        assert error_code(lambda: temporary.get_caller_identity()) == "InvalidSecurityToken.Revoked"
    finally:
        server.stop()
