"""`visage users|roles|policies`: the seed's identity set-up from the terminal, then used by the
official STS SDK against the server on the same data directory."""
import json

from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from Tea.exceptions import TeaException

from alibaba import config, seed_policies
from conftest import Server, run_cli


def cli(data, *args, check=True):
    result = run_cli(*args, data=data, check=check)
    return result.stdout.decode(), result.stderr.decode(), result.returncode


def test_seed_identities_from_the_terminal(tmp_path):
    data = tmp_path / "data"
    cli(data, "users", "create", "upload-app", "--display-name", "Upload app")
    out, _, _ = cli(data, "users", "create-key", "upload-app")
    key = dict(line.split(":", 1) for line in out.strip().splitlines())
    key_id, secret = key["AccessKeyId"].strip(), key["AccessKeySecret"].strip()
    cli(data, "policies", "attach", "--user", "upload-app", "--policy", "AliyunSTSAssumeRoleAccess", "--system")
    account = json.loads((data / "root-credentials.json").read_text())["AccountId"]
    document = tmp_path / "upload.json"
    document.write_text(json.dumps(seed_policies(account)["oss-web-upload"]))
    cli(data, "policies", "create", "oss-web-upload", str(document), "--description", "uploads only")
    arn, _, _ = cli(data, "roles", "create", "imm-web-upload")
    assert arn.strip() == f"acs:ram::{account}:role/imm-web-upload"
    attached, _, _ = cli(data, "policies", "attach", "--role", "imm-web-upload", "--policy", "oss-web-upload")
    assert attached.strip() == "attached oss-web-upload to role imm-web-upload"

    assert "upload-app\tUpload app" in cli(data, "users", "ls")[0]
    assert key_id in cli(data, "users", "keys", "upload-app")[0]
    listed = cli(data, "policies", "ls")[0]
    assert "oss-web-upload\tCustom\tuploads only" in listed and "AdministratorAccess\tSystem" in listed
    shown = json.loads(cli(data, "policies", "show", "--policy", "oss-web-upload")[0])
    assert shown["Statement"][0]["Action"] == "oss:PutObject"
    # Refusals name the problem and exit non-zero.
    _, err, code = cli(data, "users", "create", "upload-app", check=False)
    assert code != 0 and "already exists" in err
    _, err, code = cli(data, "roles", "rm", "imm-web-upload", check=False)
    assert code != 0 and "still has policies" in err
    _, err, code = cli(data, "policies", "attach", "--policy", "oss-web-upload", check=False)
    assert code != 0 and "--user" in err
    (tmp_path / "bad.json").write_text('{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject"}]}')
    _, err, code = cli(data, "policies", "create", "broken", str(tmp_path / "bad.json"), check=False)
    assert code != 0 and "Resource" in err

    server = Server(data)
    try:
        sts = StsClient(config(server, key_id, secret))
        credentials = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=arn.strip(), role_session_name="cli")).body.credentials
        assert credentials.access_key_id.startswith("STS.")
    finally:
        server.stop()
    # A disabled key is listed as such and refused by a server on the same data directory.
    out, _, _ = cli(data, "users", "disable-key", "upload-app", key_id)
    assert out.strip() == f"{key_id}\tInactive" and f"{key_id}\tInactive" in cli(data, "users", "keys", "upload-app")[0]
    server = Server(data)
    try:
        sts = StsClient(config(server, key_id, secret))
        try:
            sts.get_caller_identity()
            raise AssertionError("a disabled key was accepted")
        except TeaException as error:
            assert error.code == "InvalidAccessKeyId.Inactive"
        cli(data, "users", "enable-key", "upload-app", key_id)
        assert sts.get_caller_identity().body.identity_type == "RAMUser"
    finally:
        server.stop()
