"""The seed's flow end to end with the official SDKs: STS credentials upload a photo into
uploads/ and ask IMM DetectImageFaces for its faces; the policy decides what else they may do."""
import json
import subprocess

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from Tea.exceptions import TeaException

from alibaba import app_user, config, root_ram, seed_role
from conftest import BINARY, ROOT, Server, clean_env

BUCKET = "web-direct-upload"
PHOTO = ROOT.parent / "shared" / "testdata" / "faces" / "couple.jpg"


@pytest.fixture(scope="module")
def seed(tmp_path_factory, backend):
    data = tmp_path_factory.mktemp("imm") / "data"
    server = Server(data, env=clean_env(**backend.env))
    root, ram = root_ram(server)
    account = root["AccountId"]
    key = app_user(ram)
    role = seed_role(ram, account)
    oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET).create_bucket()
    admin = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    for project in ("photos", "private"):
        admin.create_project(imm_models.CreateProjectRequest(project_name=project))
    sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
    credentials = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="browser")).body.credentials
    yield dict(server=server, root=root, admin=admin, credentials=credentials)
    server.stop()
    backend.check_data_directory(data)


def test_projects_crud(seed):
    admin = seed["admin"]
    project = admin.get_project(imm_models.GetProjectRequest(project_name="photos")).body.project
    assert project.project_name == "photos" and project.service_role == "AliyunIMMDefaultRole"
    names = [p.project_name for p in admin.list_projects(imm_models.ListProjectsRequest()).body.projects]
    assert names == ["photos", "private"]
    page = admin.list_projects(imm_models.ListProjectsRequest(max_results=1)).body
    assert [p.project_name for p in page.projects] == ["photos"] and page.next_token
    admin.create_project(imm_models.CreateProjectRequest(project_name="scratch"))
    with pytest.raises(TeaException) as raised:
        admin.create_project(imm_models.CreateProjectRequest(project_name="scratch"))
    assert raised.value.code == "ResourceAlreadyExists"
    admin.delete_project(imm_models.DeleteProjectRequest(project_name="scratch"))
    with pytest.raises(TeaException) as raised:
        admin.get_project(imm_models.GetProjectRequest(project_name="scratch"))
    assert raised.value.code == "ResourceNotFound"
    with pytest.raises(TeaException) as raised:
        admin.create_project(imm_models.CreateProjectRequest(project_name="1bad name"))
    assert raised.value.code == "InvalidArgument"


def test_seed_flow_upload_then_detect_faces(seed):
    c = seed["credentials"]
    bucket = oss2.Bucket(oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token), seed["server"].url, BUCKET)
    bucket.put_object_from_file("uploads/couple.jpg", str(PHOTO))
    imm = ImmClient(config(seed["server"], c.access_key_id, c.access_key_secret, c.security_token))
    faces = imm.detect_image_faces(imm_models.DetectImageFacesRequest(
        project_name="photos", source_uri=f"oss://{BUCKET}/uploads/couple.jpg")).body.faces
    cli = json.loads(subprocess.run([str(BINARY), "detect", str(PHOTO)], capture_output=True, text=True, env=clean_env(),
                                    check=True).stdout)["Faces"]
    assert len(faces) == len(cli) == 2
    boxes = sorted((f.boundary.left, f.boundary.top, f.boundary.width, f.boundary.height) for f in faces)
    assert boxes == sorted((f["Boundary"]["Left"], f["Boundary"]["Top"], f["Boundary"]["Width"], f["Boundary"]["Height"]) for f in cli)
    for face in faces:
        assert face.figure_type == "face" and 0 < face.face_quality <= 1 and face.mouth in ("open", "close")
        assert face.gender is None and face.age is None  # no model behind them: never sent


def test_seed_policy_refusals(seed):
    c = seed["credentials"]
    bucket = oss2.Bucket(oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token), seed["server"].url, BUCKET)
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.get_object("uploads/couple.jpg")
    imm = ImmClient(config(seed["server"], c.access_key_id, c.access_key_secret, c.security_token))
    for project, uri, code in (("private", f"oss://{BUCKET}/uploads/couple.jpg", "NoPermission"),
                               ("photos", f"oss://{BUCKET}/uploads/missing.jpg", "ResourceNotFound"),
                               ("photos", "https://example.com/x.jpg", "InvalidArgument")):
        with pytest.raises(TeaException) as raised:
            imm.detect_image_faces(imm_models.DetectImageFacesRequest(project_name=project, source_uri=uri))
        assert raised.value.code == code, project + uri
    root = seed["root"]
    oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), seed["server"].url, BUCKET).put_object(
        "uploads/not-an-image.jpg", b"plain text, not a picture")
    with pytest.raises(TeaException) as raised:
        imm.detect_image_faces(imm_models.DetectImageFacesRequest(
            project_name="photos", source_uri=f"oss://{BUCKET}/uploads/not-an-image.jpg"))
    assert raised.value.code == "InvalidArgument" and "not an image" in raised.value.message
