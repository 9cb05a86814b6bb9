"""Seed 002 steps 1, 2 and 5 with the official IMM SDK: datasets, indexing photos into them as
durable tasks with signed notifications, file metadata, SimpleQuery and tasks."""
import json
import re
import time

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils
from alibabacloud_tea_util import models as util_models
from Tea.exceptions import TeaException

from alibaba import config, root_ram
from conftest import ROOT, Server, clean_env, run_cli
from webhooks import HTTPNotification, Receiver, verify_signature

FACES = ROOT.parent / "shared" / "testdata" / "faces"
PHOTOS = ["img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg", "img5.jpg", "couple.jpg"]
SEED_FILES = """[
  {
    "URI": "oss://test-bucket/1.jpg"
  },
  {
    "URI": "oss://test-bucket/2.jpg"
  },
  {
    "URI": "oss://test-bucket/3.jpg"
  },
  {
    "URI": "oss://test-bucket/4.jpg"
  },
  {
    "URI": "oss://test-bucket/5.jpg"
  },
  {
    "URI": "oss://test-bucket/6.jpg"
  }
]"""


@pytest.fixture(scope="module")
def env(tmp_path_factory, backend):
    receiver = Receiver()
    data = tmp_path_factory.mktemp("imm-datasets") / "data"
    server = Server(data, env=clean_env(**backend.env,
        VISAGE_NOTIFY_ALLOW_NETWORKS="127.0.0.0/8", VISAGE_NOTIFY_RETRY_SECONDS="1", VISAGE_NOTIFY_TIMEOUT_SECONDS="2",
        VISAGE_NOTIFY_TOPICS=f"test-mns-topic={receiver.url}/mns"))
    root, ram = root_ram(server)
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "test-bucket")
    bucket.create_bucket()
    for index, name in enumerate(PHOTOS, start=1):
        bucket.put_object_from_file(f"{index}.jpg", str(FACES / name))
    bucket.put_object("notes/readme.jpg", b"this is text, not a JPEG")
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="test-project"))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name="test-dataset",
                                                       template_id="Official:FaceManagement"))
    key = bytes.fromhex(run_cli("events", "--signing-key", data=data, env=clean_env(**backend.env)).stdout.decode().strip())
    yield dict(server=server, root=root, ram=ram, imm=imm, bucket=bucket, receiver=receiver, key=key, data=data,
               cli_env=clean_env(**backend.env))
    server.stop()
    receiver.http.shutdown()
    backend.check_data_directory(data)


def wait_task(imm, task_type, task_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = imm.get_task(imm_models.GetTaskRequest(project_name="test-project", task_type=task_type, task_id=task_id)).body
        if task.status != "Running":
            return task
        time.sleep(0.3)
    raise AssertionError("task did not end")


@pytest.fixture(scope="module")
def indexed(env):
    """The seed's step 2: BatchIndexFileMeta with its Files JSON and its MNS topic notification."""
    imm = env["imm"]
    request = imm_models.BatchIndexFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset", files=[imm_models.InputFile(uri=SEED_FILES)],
        notification=imm_models.Notification(mns=imm_models.MNS(topic_name="test-mns-topic")))
    event_id = imm.batch_index_file_meta_with_options(request, util_models.RuntimeOptions()).body.event_id
    assert re.fullmatch(r"[0-9A-F]{3}-[A-Za-z0-9]{27}", event_id)
    return event_id


def test_datasets_crud_and_errors(env):
    imm = env["imm"]
    dataset = imm.get_dataset(imm_models.GetDatasetRequest(project_name="test-project", dataset_name="test-dataset")).body.dataset
    assert dataset.template_id == "Official:FaceManagement" and dataset.dataset_max_bind_count == 10
    for name in ("alpha", "beta", "gamma"):
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name=name, description=name))
    page = imm.list_datasets(imm_models.ListDatasetsRequest(project_name="test-project", max_results=2)).body
    assert [d.dataset_name for d in page.datasets] == ["alpha", "beta"] and page.next_token
    rest = imm.list_datasets(imm_models.ListDatasetsRequest(project_name="test-project", next_token=page.next_token)).body
    assert [d.dataset_name for d in rest.datasets] == ["gamma", "test-dataset"] and not rest.next_token
    updated = imm.update_dataset(imm_models.UpdateDatasetRequest(project_name="test-project", dataset_name="beta",
                                                                 description="renamed")).body.dataset
    assert updated.description == "renamed"
    for name in ("alpha", "beta", "gamma"):
        imm.delete_dataset(imm_models.DeleteDatasetRequest(project_name="test-project", dataset_name=name))
    failures = [
        (lambda: imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name="test-dataset")),
         "ResourceAlreadyExists"),
        (lambda: imm.get_dataset(imm_models.GetDatasetRequest(project_name="test-project", dataset_name="alpha")), "ResourceNotFound"),
        (lambda: imm.create_dataset(imm_models.CreateDatasetRequest(project_name="nope", dataset_name="x")), "ResourceNotFound"),
        (lambda: imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name="9 bad")),
         "InvalidArgument"),
        (lambda: imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name="x",
                                                                    dataset_max_bind_count=11)), "InvalidArgument"),
        (lambda: imm.delete_project(imm_models.DeleteProjectRequest(project_name="test-project")), "InvalidArgument"),
    ]
    for call, code in failures:
        with pytest.raises(TeaException) as raised:
            call()
        assert raised.value.code == code, raised.value.message


def test_seed_batch_index_notifies_and_task_succeeds(env, indexed):
    delivery = env["receiver"].wait_for("/mns")[0]
    verify_signature(delivery, env["key"])
    message = json.loads(delivery["body"])
    account = env["root"]["AccountId"]
    assert message["id"] == indexed and message["source"] == "acs.imm" and message["type"] == "imm:FileMeta:Index"
    assert message["subject"] == f"acs:imm:cn-hangzhou:{account}:test-project/imm:FileMeta:Index"
    assert abs(int(message["time"]) / 1000 - time.time()) < 120
    content = json.loads(message["content"])
    assert content["ProjectName"] == "test-project" and content["DatasetName"] == "test-dataset"
    assert content["Success"] is True and content["StartTime"] <= content["EndTime"]
    assert [f["URI"] for f in content["Files"]] == [f"oss://test-bucket/{i}.jpg" for i in range(1, 7)]
    assert all(f["Error"] == "" for f in content["Files"])
    task = wait_task(env["imm"], "BatchIndexFileMeta", indexed)
    assert task.status == "Succeeded" and task.progress == 100 and task.event_id == indexed and task.end_time
    listed = env["imm"].list_tasks(imm_models.ListTasksRequest(project_name="test-project",
                                                               task_types=["BatchIndexFileMeta"])).body.tasks
    assert indexed in [t.task_id for t in listed]


def test_file_meta_fields(env, indexed):
    wait_task(env["imm"], "BatchIndexFileMeta", indexed)
    imm = env["imm"]
    files = imm.get_file_meta(imm_models.GetFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset", uri="oss://test-bucket/6.jpg")).body.files
    assert len(files) == 1
    meta = files[0]
    manifest = {f["name"]: f for f in json.loads((FACES / "manifest.json").read_text())["files"]}["couple.jpg"]
    head = env["bucket"].head_object("6.jpg")
    assert meta.uri == "oss://test-bucket/6.jpg" and meta.filename == "6.jpg" and meta.media_type == "image"
    assert meta.content_type == "image/jpeg" and meta.size == manifest["bytes"] and meta.etag.strip('"').lower() == head.etag.strip('"').lower()
    assert (meta.image_width, meta.image_height) == (manifest["width"], manifest["height"])
    assert meta.project_name == "test-project" and meta.dataset_name == "test-dataset" and meta.owner_id == env["root"]["AccountId"]
    assert re.fullmatch(r"[0-9a-f]{64}", meta.object_id) and meta.object_type == "file"
    assert len(meta.figures) == manifest["expected_face_count"] == 2
    for figure in meta.figures:
        assert figure.figure_type == "face" and figure.figure_id and 0 < figure.face_quality <= 1
        assert figure.gender is None and figure.age is None
    assert 0 <= meta.image_score.overall_quality_score <= 1
    assert isinstance(json.loads(meta.exif), dict) and meta.create_time and meta.update_time and meta.file_modified_time


def test_reindex_keeps_object_id_and_create_time(env, indexed):
    imm = env["imm"]
    wait_task(imm, "BatchIndexFileMeta", indexed)
    before = imm.get_file_meta(imm_models.GetFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset", uri="oss://test-bucket/1.jpg")).body.files[0]
    event = imm.index_file_meta(imm_models.IndexFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset",
        file=imm_models.InputFile(uri="oss://test-bucket/1.jpg", custom_labels={"category": "人物"}))).body.event_id
    assert wait_task(imm, "IndexFileMeta", event).status == "Succeeded"
    after = imm.get_file_meta(imm_models.GetFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset", uri="oss://test-bucket/1.jpg")).body.files[0]
    assert after.object_id == before.object_id and after.create_time == before.create_time
    assert after.update_time > before.update_time and after.custom_labels == {"category": "人物"}


def test_bad_files_fail_alone_over_http_webhook(env, indexed):
    imm, receiver = env["imm"], env["receiver"]
    request = imm_models.BatchIndexFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset",
        files=[imm_models.InputFile(uri="oss://test-bucket/2.jpg"), imm_models.InputFile(uri="oss://test-bucket/notes/readme.jpg"),
               imm_models.InputFile(uri="oss://test-bucket/missing.jpg")],
        notification=HTTPNotification(receiver.url + "/webhook"), user_data="batch-2")
    event = imm.batch_index_file_meta(request).body.event_id
    delivery = receiver.wait_for("/webhook")[0]
    verify_signature(delivery, env["key"])
    content = json.loads(json.loads(delivery["body"])["content"])
    errors = {f["URI"].rsplit("/", 1)[1]: f["Error"] for f in content["Files"]}
    assert errors["2.jpg"] == ""
    assert errors["readme.jpg"].startswith("[InvalidArgument]") and "not an image" in errors["readme.jpg"]
    assert errors["missing.jpg"] == "[InvalidArgument] File does not exist."
    assert content["Success"] is False and content["UserData"] == "batch-2"
    task = wait_task(imm, "BatchIndexFileMeta", event)
    assert task.status == "Succeeded" and "2 of 3" in task.message


def test_simple_query(env, indexed):
    imm = env["imm"]
    wait_task(imm, "BatchIndexFileMeta", indexed)

    def query(**kwargs):
        return imm.simple_query(imm_models.SimpleQueryRequest(project_name="test-project", dataset_name="test-dataset", **kwargs)).body

    def q(field, operation, value=None):
        return imm_models.SimpleQuery(field=field, operation=operation, value=value)

    sizes = {f"{i}.jpg": (FACES / name).stat().st_size for i, name in enumerate(PHOTOS, start=1)}
    everything = query(max_results=100)
    assert everything.total_hits >= 6 and not everything.next_token
    found = query(query=q("Filename", "eq", "3.jpg"))
    assert [f.filename for f in found.files] == ["3.jpg"] and found.total_hits == 1
    bigger = query(query=q("Size", "gt", str(sizes["3.jpg"])))
    assert sorted(f.filename for f in bigger.files) == sorted(n for n, s in sizes.items() if s > sizes["3.jpg"])
    assert {f.filename for f in query(query=q("URI", "prefix", "oss://test-bucket/")).files} >= set(sizes)
    assert [f.filename for f in query(query=q("Filename", "match", "6.J")).files] == ["6.jpg"]
    both = imm_models.SimpleQuery(operation="or", sub_queries=[q("Filename", "eq", "1.jpg"), q("Filename", "eq", "2.jpg")])
    assert sorted(f.filename for f in query(query=both).files) == ["1.jpg", "2.jpg"]
    neither = imm_models.SimpleQuery(operation="and", sub_queries=[
        q("URI", "prefix", "oss://test-bucket/"), imm_models.SimpleQuery(operation="not", sub_queries=[both])])
    assert "1.jpg" not in {f.filename for f in query(query=neither).files}
    two_faces = query(query=q("FigureCount", "gte", "2"))
    assert "6.jpg" in {f.filename for f in two_faces.files}
    ordered = query(query=q("URI", "prefix", "oss://test-bucket/"), sort="Size", order="asc", with_fields=["Filename", "Size"])
    assert [f.size for f in ordered.files] == sorted(f.size for f in ordered.files) and ordered.files[0].uri is None
    first = query(sort="Filename", order="asc", max_results=2)
    second = query(sort="Filename", order="asc", max_results=2, next_token=first.next_token)
    assert len(first.files) == 2 and first.next_token and first.files[1].filename < second.files[0].filename
    # One element of Figures must satisfy both conditions.
    nested = imm_models.SimpleQuery(field="Figures", operation="nested", sub_queries=[
        q("Figures.FigureType", "eq", "face"), q("Figures.FaceQuality", "gte", "0")])
    assert query(query=nested).total_hits >= 6
    # The seed's step 5, sent as it sends it (no clusters exist yet, so no file matches).
    seed = seed_simple_query(env)
    assert seed["statusCode"] == 200 and seed["body"]["Files"] == [] and seed["body"]["TotalHits"] == 0


def raw_call(env, action, **queries):
    """An IMM call with hand-written query parameters, through the SDK's generic client (as the seed's step 5 does)."""
    client = OpenApiClient(config(env["server"], env["root"]["AccessKeyId"], env["root"]["AccessKeySecret"]))
    params = open_api_models.Params(action=action, version="2020-09-30", protocol="HTTP", method="POST",
                                    auth_type="AK", style="RPC", pathname="/", req_body_type="formData", body_type="json")
    request = open_api_models.OpenApiRequest(query=OpenApiUtils.query(queries))
    return client.call_api(params, request, util_models.RuntimeOptions())


def seed_simple_query(env):
    return raw_call(env, "SimpleQuery", ProjectName="test-project", DatasetName="test-dataset",
                    Query='{"Value":"Cluster-1","Operation":"eq","Field":"Figures.FigureClusterId"}')


def test_simple_query_aggregations_and_errors(env, indexed):
    imm = env["imm"]
    wait_task(imm, "BatchIndexFileMeta", indexed)

    def aggregate(field, operation):
        body = imm.simple_query(imm_models.SimpleQueryRequest(
            project_name="test-project", dataset_name="test-dataset",
            query=imm_models.SimpleQuery(field="URI", operation="prefix", value="oss://test-bucket/"),
            aggregations=[imm_models.SimpleQueryRequestAggregations(field=field, operation=operation)])).body
        return body.aggregations[0]

    files = imm.simple_query(imm_models.SimpleQueryRequest(
        project_name="test-project", dataset_name="test-dataset",
        query=imm_models.SimpleQuery(field="URI", operation="prefix", value="oss://test-bucket/"))).body.files
    sizes = [f.size for f in files]
    assert aggregate("Size", "count").value == len(sizes)
    assert aggregate("Size", "sum").value == sum(sizes)
    assert aggregate("Size", "max").value == max(sizes) and aggregate("Size", "min").value == min(sizes)
    assert abs(aggregate("Size", "average").value - sum(sizes) / len(sizes)) < 1e-6
    assert aggregate("ContentType", "distinct").value == 1
    groups = aggregate("FigureCount", "group").groups
    counts = {}
    for f in files:
        counts[str(f.figure_count)] = counts.get(str(f.figure_count), 0) + 1
    assert {g.value: g.count for g in groups} == counts

    def refused(**queries):
        with pytest.raises(TeaException) as raised:
            raw_call(env, "SimpleQuery", ProjectName="test-project", DatasetName="test-dataset", **queries)
        assert raised.value.code == "InvalidArgument" and raised.value.status_code == 400
        return raised.value.message

    assert "Query" in refused(Query='{"Field": "Size", "Operation": ')
    assert "Query.Operation" in refused(Query='{"Field": "Size", "Operation": "near", "Value": "1"}')
    assert "Query.SubQueries[0].Operation" in refused(Query='{"Operation": "and", "SubQueries": [{"Field": "Size"}]}')
    assert "Query.Colour" in refused(Query='{"Field": "Size", "Operation": "eq", "Value": "1", "Colour": "red"}')
    assert "Aggregations[0].Operation" in refused(Aggregations='[{"Field": "Size", "Operation": "median"}]')
    assert "NextToken" in refused(NextToken="not-a-token")
    with pytest.raises(TeaException) as raised:
        imm.simple_query(imm_models.SimpleQueryRequest(project_name="test-project", dataset_name="nope"))
    assert raised.value.code == "ResourceNotFound"


def test_update_get_delete_file_meta(env, indexed):
    imm = env["imm"]
    wait_task(imm, "BatchIndexFileMeta", indexed)
    imm.update_file_meta(imm_models.UpdateFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset",
        file=imm_models.InputFile(uri="oss://test-bucket/4.jpg", custom_labels={"album": "summer"})))
    labelled = imm.simple_query(imm_models.SimpleQueryRequest(
        project_name="test-project", dataset_name="test-dataset",
        query=imm_models.SimpleQuery(field="CustomLabels.album", operation="eq", value="summer"))).body.files
    assert [f.filename for f in labelled] == ["4.jpg"]
    got = imm.batch_get_file_meta(imm_models.BatchGetFileMetaRequest(
        project_name="test-project", dataset_name="test-dataset",
        uris=["oss://test-bucket/4.jpg", "oss://test-bucket/5.jpg", "oss://test-bucket/none.jpg"])).body.files
    assert [f.filename for f in got] == ["4.jpg", "5.jpg"]
    imm.delete_file_meta(imm_models.DeleteFileMetaRequest(project_name="test-project", dataset_name="test-dataset",
                                                          uri="oss://test-bucket/5.jpg"))
    with pytest.raises(TeaException) as raised:
        imm.get_file_meta(imm_models.GetFileMetaRequest(project_name="test-project", dataset_name="test-dataset",
                                                        uri="oss://test-bucket/5.jpg"))
    assert raised.value.code == "ResourceNotFound"
    with pytest.raises(TeaException) as raised:
        imm.update_file_meta(imm_models.UpdateFileMetaRequest(
            project_name="test-project", dataset_name="test-dataset",
            file=imm_models.InputFile(uri="oss://test-bucket/4.jpg", title=5)))
    assert raised.value.code == "InvalidArgument" and "File.Title" in raised.value.message


def test_webhook_failures_are_retried_without_blocking_others(env):
    imm, receiver = env["imm"], env["receiver"]

    def index(path):
        return imm.index_file_meta(imm_models.IndexFileMetaRequest(
            project_name="test-project", dataset_name="test-dataset", file=imm_models.InputFile(uri="oss://test-bucket/3.jpg"),
            notification=HTTPNotification(receiver.url + path))).body.event_id

    hanging, flaky = index("/hang"), index("/flaky")
    prompt = index("/prompt")
    flaky_deliveries = receiver.wait_for("/flaky", count=3, timeout=60)
    assert len({d["headers"]["X-Visage-Event-Id"] for d in flaky_deliveries}) == 1
    assert flaky_deliveries[2]["at"] - flaky_deliveries[0]["at"] >= 2.5  # 1 s, then 2 s of backoff
    receiver.wait_for("/prompt", timeout=30)
    assert len(receiver.wait_for("/hang", count=2, timeout=60)) >= 2  # timed out (2 s), retried
    listing = run_cli("events", data=env["data"], env=env["cli_env"]).stdout.decode()
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines()[1:]}
    assert rows[flaky][3] == "Delivered" and rows[flaky][4] == "3"
    assert rows[prompt][3] == "Delivered" and rows[prompt][4] == "1"
    assert rows[hanging][3] in ("Retrying", "Running") and int(rows[hanging][4]) >= 2
    body = json.loads(run_cli("events", "--show", prompt, data=env["data"], env=env["cli_env"]).stdout)
    assert body["id"] == prompt and body["type"] == "imm:FileMeta:Index"


def test_notification_and_input_refusals(env):
    imm = env["imm"]
    cases = [
        (HTTPNotification("http://10.1.2.3/hook"), "private network"),
        (HTTPNotification("ftp://example.com/hook"), "http:// or https://"),
    ]
    for notification, words in cases:
        with pytest.raises(TeaException) as raised:
            imm.index_file_meta(imm_models.IndexFileMetaRequest(
                project_name="test-project", dataset_name="test-dataset",
                file=imm_models.InputFile(uri="oss://test-bucket/1.jpg"), notification=notification))
        assert raised.value.code == "InvalidArgument" and words in raised.value.message
    too_many = [imm_models.InputFile(uri=f"oss://test-bucket/{i}.jpg") for i in range(101)]
    with pytest.raises(TeaException) as raised:
        imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="test-project", dataset_name="test-dataset", files=too_many))
    assert raised.value.code == "InvalidArgument" and "100" in raised.value.message
    with pytest.raises(TeaException) as raised:
        imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="test-project", dataset_name="missing", files=too_many[:1]))
    assert raised.value.code == "ResourceNotFound"


def test_policies_decide_who_may_index(env):
    ram = env["ram"]
    from alibabacloud_ram20150501 import models as ram_models
    ram.create_user(ram_models.CreateUserRequest(user_name="reader"))
    key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="reader")).body.access_key
    document = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["imm:SimpleQuery", "imm:GetFileMeta"],
                                                           "Resource": "acs:imm:*:*:project/test-project"}]})
    ram.create_policy(ram_models.CreatePolicyRequest(policy_name="imm-read", policy_document=document))
    ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(policy_type="Custom", policy_name="imm-read", user_name="reader"))
    reader = ImmClient(config(env["server"], key.access_key_id, key.access_key_secret))
    reader.simple_query(imm_models.SimpleQueryRequest(project_name="test-project", dataset_name="test-dataset"))
    for call in (lambda: reader.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
                     project_name="test-project", dataset_name="test-dataset", files=[imm_models.InputFile(uri="oss://test-bucket/1.jpg")])),
                 lambda: reader.delete_dataset(imm_models.DeleteDatasetRequest(project_name="test-project", dataset_name="test-dataset"))):
        with pytest.raises(TeaException) as raised:
            call()
        assert raised.value.code == "NoPermission"


def test_binding_indexes_existing_objects_and_follows_changes(env):
    imm, root, server = env["imm"], env["root"], env["server"]
    album = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "album")
    album.create_bucket()
    album.put_object_from_file("photos/a.jpg", str(FACES / "img1.jpg"))
    album.put_object_from_file("photos/b.jpg", str(FACES / "img2.jpg"))
    album.put_object_from_file("elsewhere/c.jpg", str(FACES / "img3.jpg"))
    album.put_object("photos/notes.txt", b"not a photo")
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="test-project", dataset_name="bound"))

    def files():
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="test-project", dataset_name="bound")).body.files
        return {f.filename: f for f in found}

    def eventually(predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = files()
            if predicate(current):
                return current
            time.sleep(0.3)
        raise AssertionError(f"dataset never reached the expected state: {sorted(files())}")

    binding = imm.create_binding(imm_models.CreateBindingRequest(
        project_name="test-project", dataset_name="bound", uri="oss://album/photos/")).body.binding
    assert binding.uri == "oss://album/photos/" and binding.state == "Running"
    assert binding.phase in ("FullScanning", "IncrementalScanning")
    eventually(lambda f: set(f) == {"a.jpg", "b.jpg"})
    got = imm.get_binding(imm_models.GetBindingRequest(project_name="test-project", dataset_name="bound",
                                                       uri="oss://album/photos/")).body.binding
    assert got.phase == "IncrementalScanning"
    first_etag = files()["a.jpg"].etag
    album.put_object_from_file("photos/new.jpg", str(FACES / "img4.jpg"))
    album.put_object_from_file("photos/a.jpg", str(FACES / "img5.jpg"))  # overwritten
    album.delete_object("photos/b.jpg")
    after = eventually(lambda f: set(f) == {"a.jpg", "new.jpg"} and f["a.jpg"].etag != first_etag)
    assert after["a.jpg"].etag.strip('"').lower() == album.head_object("photos/a.jpg").etag.strip('"').lower()
    listed = imm.list_bindings(imm_models.ListBindingsRequest(project_name="test-project", dataset_name="bound")).body.bindings
    assert [b.uri for b in listed] == ["oss://album/photos/"]
    for request, code in [
        (imm_models.CreateBindingRequest(project_name="test-project", dataset_name="bound", uri="oss://album/photos/"),
         "ResourceAlreadyExists"),
        (imm_models.CreateBindingRequest(project_name="test-project", dataset_name="bound", uri="oss://album/photos"),
         "InvalidArgument"),
        (imm_models.CreateBindingRequest(project_name="test-project", dataset_name="bound", uri="oss://no-such-bucket/"),
         "ResourceNotFound"),
    ]:
        with pytest.raises(TeaException) as raised:
            imm.create_binding(request)
        assert raised.value.code == code, raised.value.message
    imm.delete_binding(imm_models.DeleteBindingRequest(project_name="test-project", dataset_name="bound", uri="oss://album/photos/"))
    album.put_object_from_file("photos/late.jpg", str(FACES / "img6.jpg"))
    time.sleep(3)
    assert set(files()) == {"a.jpg", "new.jpg"}
