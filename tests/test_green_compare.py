"""Seed 001: asynchronous 1:1 face comparison (Content Moderation scene sface-1) through the
official `alibabacloud-green20180509` SDK's `call_api`, in both signature modes (ACS3 and ROA
V1), with presigned URLs of this server, signed callbacks, refused private addresses, a restart
mid-run, expiry and the per-account call limit."""
import concurrent.futures
import hashlib
import json
import random
import signal
import struct
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import oss2
import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from Tea.exceptions import TeaException

from alibaba import app_user, config, root_ram, trust_policy
from conftest import ROOT, Server, clean_env
from green import call, client, scan_body

SETS = [ROOT.parent / "shared" / "testdata" / "faces", ROOT.parent / "shared" / "testdata" / "faces-east-asia"]
BUCKET = "compare-faces"


def portraits(folder):
    """(file name, identity) of every single-person photo of a labelled set."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return [(f["name"], f["identity"]) for f in manifest["files"] if f.get("identity") and f.get("expected_face_count") == 1]


def pairs_of(folder, same, different, rng):
    """Same-person and different-person pairs of one set, drawn reproducibly."""
    photos = portraits(folder)
    by_person = {}
    for name, person in photos:
        by_person.setdefault(person, []).append(name)
    same_pairs = [(a, b) for names in by_person.values() for i, a in enumerate(names) for b in names[i + 1:]]
    different_pairs = [(a, b) for i, (a, p) in enumerate(photos) for b, q in photos[i + 1:] if p != q]
    return rng.sample(same_pairs, same), rng.sample(different_pairs, different)


class CallbackReceiver:
    """Receives callbacks on loopback; every task's first `fail_first` attempts get HTTP 500."""

    def __init__(self, fail_first=3):
        self.attempts, self.accepted, self.lock = {}, {}, threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = urllib.parse.parse_qs(body, keep_blank_values=True)
                content = form["content"][0]
                task = json.loads(content)["taskId"]
                with owner.lock:
                    owner.attempts[task] = owner.attempts.get(task, 0) + 1
                    status = 500 if owner.attempts[task] <= fail_first else 200
                    if status == 200:
                        owner.accepted.setdefault(task, []).append(
                            dict(checksum=form["checksum"][0], content=content, type=self.headers["Content-Type"], path=self.path))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait(self, tasks, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(t in self.accepted for t in tasks):
                    return
            time.sleep(0.5)
        raise AssertionError(f"callbacks missing for {len([t for t in tasks if t not in self.accepted])} tasks")


def start(tmp_path, **settings):
    env = clean_env(VISAGE_NOTIFY_RETRY_SECONDS="0.3", VISAGE_NOTIFY_TIMEOUT_SECONDS="5", **settings)
    return Server(tmp_path / "data", env=env)


def root_of(server):
    return json.loads((server.data / "root-credentials.json").read_text())


def upload(server, folder, names):
    """Puts photos into the bucket through oss2 and returns a presigned GET URL for each."""
    root = root_of(server)
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET)
    try:
        bucket.create_bucket()
    except oss2.exceptions.ServerError:
        pass
    urls = {}
    for name in sorted(set(names)):
        key = f"{folder.name}/{name}"
        bucket.put_object_from_file(key, str(folder / name))
        urls[name] = bucket.sign_url("GET", key, 3600, slash_safe=True)
    return urls


def results(green, ids, timeout=300):
    """Polls /green/image/results until no task is PROCESSING; the items by task id."""
    deadline = time.monotonic() + timeout
    done = {}
    while time.monotonic() < deadline:
        waiting = [i for i in ids if i not in done]
        for start_at in range(0, len(waiting), 100):
            for item in call(green, "ImageAsyncScanResults", waiting[start_at:start_at + 100])["data"]:
                if item["code"] != 280:
                    done[item["taskId"]] = item
        if len(done) == len(ids):
            return done
        time.sleep(1)
    raise AssertionError(f"{len(ids) - len(done)} tasks still processing")


def grey_png(width, height):
    """A plain grey PNG: an image without a face."""
    raw = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def sm3(text):
    return hashlib.new("sm3", text.encode()).hexdigest()


def test_hundred_pairs_both_signatures_and_signed_callbacks(tmp_path):
    server = start(tmp_path, VISAGE_ALLOW_NETWORKS="127.0.0.0/8")
    receiver = CallbackReceiver(fail_first=3)
    try:
        root = root_of(server)
        rng = random.Random(1)
        tasks = []
        for folder in SETS:
            same, different = pairs_of(folder, 25, 25, rng)
            urls = upload(server, folder, [n for pair in same + different for n in pair])
            tasks += [(f"{folder.name}:{a}|{b}", urls[a], urls[b], True) for a, b in same]
            tasks += [(f"{folder.name}:{a}|{b}", urls[a], urls[b], False) for a, b in different]
        assert len(tasks) == 100
        rng.shuffle(tasks)
        submitted = {}
        # Half the pairs signed with ACS3 and checked in SHA256, half with ROA V1 and SM3.
        for half, (algorithm, crypt) in enumerate([(None, "SHA256"), ("v2", "SM3")]):
            green = client(server, root["AccessKeyId"], root["AccessKeySecret"], algorithm=algorithm)
            batch = tasks[half * 50:(half + 1) * 50]
            seed = f"seed_{crypt}_{half}"
            answer = call(green, "ImageAsyncScan", scan_body([(d, a, b) for d, a, b, _ in batch], callback=receiver.url + "/cb",
                                                             seed=seed, crypt_type=crypt))
            assert answer["code"] == 200 and answer["msg"] == "OK" and answer["requestId"]
            assert [item["dataId"] for item in answer["data"]] == [d for d, _, _, _ in batch]
            for item, (data_id, url, face_url, same) in zip(answer["data"], batch):
                assert item["code"] == 200 and item["taskId"].startswith("img") and item["url"] == url
                assert item["extras"] == {"faceUrl": face_url}
                submitted[item["taskId"]] = dict(same=same, crypt=crypt, seed=seed, green=green)

        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        done = results(green, list(submitted))
        rates = {True: [], False: []}
        for task, item in done.items():
            assert item["code"] == 200, item
            (result,) = item["results"]
            assert result["scene"] == "sface-1" and 0 <= result["rate"] <= 100
            assert result["suggestion"] == ("pass" if result["rate"] >= 60 else "block" if result["rate"] < 40 else "review")
            assert result["label"] == ("same" if result["rate"] >= 50 else "different")
            rates[submitted[task]["same"]].append(result["rate"])
        same, different = sorted(rates[True]), sorted(rates[False])
        # Same-person pairs sit in the pass band, different people in the block band, and a
        # same-person pair outranks a different-person pair almost always.
        assert same[len(same) // 2] >= 60 and different[len(different) // 2] < 40, (same, different)
        ordered = sum(s > d for s in same for d in different) / (len(same) * len(different))
        assert ordered >= 0.9, ordered

        # Each task is called back once, after three refused attempts, signed with its seed.
        receiver.wait(list(submitted))
        time.sleep(1)
        for task, info in submitted.items():
            (delivery,) = receiver.accepted[task]
            assert receiver.attempts[task] == 4
            assert delivery["type"].startswith("application/x-www-form-urlencoded")
            text = root["AccountId"] + info["seed"] + delivery["content"]
            expected = sm3(text) if info["crypt"] == "SM3" else hashlib.sha256(text.encode()).hexdigest()
            assert delivery["checksum"] == expected
            content = json.loads(delivery["content"])
            assert content["taskId"] == task and content["results"] == done[task]["results"]
            assert content["dataId"] == done[task]["dataId"]
    finally:
        receiver.http.shutdown()
        server.stop()


class Recorder(ThreadingHTTPServer):
    """An HTTP server that records each request path; /redirect answers 302 to `target`."""

    def __init__(self, host, target=None):
        self.hits = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits.append(self.path)
                self.send_response(302 if self.path.startswith("/redirect") and target else 200)
                if target:
                    self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__((host, 0), Handler)
        self.url = "http://%s:%d" % (host, self.server_address[1])
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_private_addresses_are_refused_and_nothing_is_fetched(tmp_path):
    trap = Recorder("127.0.0.1")
    redirector = Recorder("127.0.0.2", target=trap.url + "/from-redirect.jpg")
    # Only the redirector's address is allowed; the loopback address it points to is not.
    server = start(tmp_path, VISAGE_ALLOW_NETWORKS="127.0.0.2/32")
    try:
        root = root_of(server)
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        port = trap.server_address[1]
        urls = {"metadata": "http://169.254.169.254/latest/meta-data/", "loopback": f"http://127.0.0.1:{port}/a.jpg",
                "private": "http://10.0.0.1/a.jpg", "name": f"http://localhost:{port}/a.jpg",
                "v4-compatible": f"http://[::127.0.0.1]:{port}/a.jpg", "nat64": f"http://[64:ff9b::7f00:1]:{port}/a.jpg",
                "redirect": redirector.url + "/redirect.jpg"}
        answer = call(green, "ImageAsyncScan", scan_body([(name, url, url) for name, url in urls.items()]))
        ids = {item["dataId"]: item["taskId"] for item in answer["data"]}
        done = results(green, list(ids.values()), timeout=60)
        for name, task in ids.items():
            item = done[task]
            assert item["code"] == 401 and item["msg"].startswith("NOT_ALLOWED"), (name, item)
            assert "private network" in item["msg"]
        assert trap.hits == []
        assert redirector.hits and all(hit == "/redirect.jpg" for hit in redirector.hits)
        # Not http(s), or too long: refused when submitted.
        answer = call(green, "ImageAsyncScan", scan_body([("ftp", "ftp://example.com/a.jpg", "ftp://example.com/b.jpg"),
                                                          ("long", "http://example.com/" + "a" * 2100, "http://example.com/b")]))
        assert [item["code"] for item in answer["data"]] == [400, 400] and all("taskId" not in i for i in answer["data"])
    finally:
        server.stop()
        trap.shutdown()
        redirector.shutdown()


def test_bad_requests_and_synchronous_scan(tmp_path):
    server = start(tmp_path)
    try:
        root = root_of(server)
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"], algorithm="v2")
        folder = SETS[0]
        urls = upload(server, folder, ["img1.jpg", "img2.jpg", "img10.jpg"])
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET)
        bucket.put_object("no-face.png", grey_png(64, 64))
        bucket.put_object("not-an-image.jpg", b"hello")
        no_face = bucket.sign_url("GET", "no-face.png", 600)
        not_image = bucket.sign_url("GET", "not-an-image.jpg", 600)
        # Synchronous: results inline; a second scene and a missing faceUrl are refused per task.
        answer = call(green, "ImageSyncScan", {"scenes": ["sface-1"], "tasks": [
            {"dataId": "same", "url": urls["img1.jpg"], "extras": {"faceUrl": urls["img2.jpg"]}},
            {"dataId": "nourl", "url": urls["img1.jpg"]},
            {"dataId": "same", "url": urls["img1.jpg"], "extras": {"faceUrl": urls["img10.jpg"]}},
            {"dataId": "anonymous", "url": urls["img1.jpg"], "extras": {"faceUrl": server.url + "/compare-faces/missing.jpg"}},
            {"dataId": "noface", "url": urls["img1.jpg"], "extras": {"faceUrl": no_face}},
            {"dataId": "text", "url": not_image, "extras": {"faceUrl": urls["img1.jpg"]}}]})
        items = answer["data"]
        assert items[0]["code"] == 200 and items[0]["results"][0]["suggestion"] == "pass" and "taskId" not in items[0]
        assert items[1]["code"] == 400 and "faceUrl" in items[1]["msg"]
        assert items[2]["code"] == 400 and "dataId same" in items[2]["msg"]
        assert items[3]["code"] == 403, items[3]
        assert items[4]["code"] == 400 and "extras.faceUrl: no face" in items[4]["msg"], items[4]
        assert items[5]["code"] == 590 and items[5]["msg"].startswith("BAD_FORMAT: url"), items[5]
        answer = call(green, "ImageSyncScan", scan_body([("s", urls["img1.jpg"], urls["img2.jpg"])], scenes=["sface-1", "terrorism"]))
        assert answer["data"][0]["code"] == 400 and "scene terrorism" in answer["data"][0]["msg"]
        with pytest.raises(TeaException) as mixed:  # porn takes single images: never in one request with sface-1
            call(green, "ImageSyncScan", scan_body([("s", urls["img1.jpg"], urls["img2.jpg"])], scenes=["sface-1", "porn"]))
        assert mixed.value.code == "400" and "separate requests" in mixed.value.message

        def refused(action, body):
            with pytest.raises(TeaException) as caught:
                call(green, action, body)
            return caught.value

        error = refused("ImageAsyncScan", scan_body([(str(i), urls["img1.jpg"], urls["img2.jpg"]) for i in range(101)]))
        assert error.code == "400" and "at most 100" in error.message
        error = refused("ImageAsyncScan", scan_body([("a", urls["img1.jpg"], urls["img2.jpg"])], callback="http://example.com/cb",
                                                    seed="bad seed!"))
        assert error.code == "400" and "seed" in error.message
        error = refused("ImageAsyncScan", dict(scan_body([("a", urls["img1.jpg"], urls["img2.jpg"])]), colour="red"))
        assert error.code == "400" and "unknown field colour" in error.message
        for callback in ("http://127.0.0.1:9/cb", "http://[::127.0.0.1]:9/cb", "http://[::ffff:169.254.169.254]/cb"):
            error = refused("ImageAsyncScan", scan_body([("a", urls["img1.jpg"], urls["img2.jpg"])], callback=callback, seed="s"))
            assert error.code == "400" and "private network" in error.message, callback
        error = refused("ImageAsyncScanResults", {"taskId": "x"})
        assert error.code == "400"
        answer = call(green, "ImageAsyncScanResults", ["img-unknown"])
        assert answer["data"][0]["code"] == 404 and answer["data"][0]["taskId"] == "img-unknown"
        # A wrong secret is the gateway's signature error, in Alibaba Cloud's common error body.
        wrong = client(server, root["AccessKeyId"], "not-the-secret", algorithm="v2")
        with pytest.raises(TeaException) as caught:
            call(wrong, "ImageAsyncScanResults", ["img-unknown"])
        assert caught.value.code == "SignatureDoesNotMatch"
        wrong = client(server, root["AccessKeyId"], "not-the-secret")
        with pytest.raises(TeaException) as caught:
            call(wrong, "ImageAsyncScanResults", ["img-unknown"])
        assert caught.value.code == "SignatureDoesNotMatch"
    finally:
        server.stop()


def test_policies_and_sts_tokens(tmp_path):
    server = start(tmp_path)
    try:
        root, ram = root_ram(server)
        urls = upload(server, SETS[0], ["img1.jpg", "img2.jpg"])
        key = app_user(ram, "compare-app")
        user = client(server, key.access_key_id, key.access_key_secret)
        with pytest.raises(TeaException) as caught:
            call(user, "ImageAsyncScan", scan_body([("a", urls["img1.jpg"], urls["img2.jpg"])]))
        assert caught.value.code == "NoPermission" and "yundun-greenweb:ImageAsyncScan" in caught.value.message
        # A role allowed to compare (not to read results), taken through STS.
        ram.create_role(ram_models.CreateRoleRequest(
            role_name="comparer", assume_role_policy_document=trust_policy(f"acs:ram::{root['AccountId']}:root")))
        ram.create_policy(ram_models.CreatePolicyRequest(policy_name="compare-only", policy_document=json.dumps({
            "Version": "1", "Statement": [{"Effect": "Allow", "Action": "yundun-greenweb:ImageAsyncScan", "Resource": "*"}]})))
        ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(policy_type="Custom", policy_name="compare-only",
                                                                       role_name="comparer"))
        sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
        arn = f"acs:ram::{root['AccountId']}:role/comparer"
        c = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="compare")).body.credentials
        for algorithm in (None, "v2"):
            temporary = client(server, c.access_key_id, c.access_key_secret, token=c.security_token, algorithm=algorithm)
            answer = call(temporary, "ImageAsyncScan", scan_body([("a", urls["img1.jpg"], urls["img2.jpg"])]))
            assert answer["data"][0]["code"] == 200
            with pytest.raises(TeaException) as caught:
                call(temporary, "ImageAsyncScanResults", [answer["data"][0]["taskId"]])
            assert caught.value.code == "NoPermission"
    finally:
        server.stop()


def test_restart_mid_run_loses_nothing_and_results_expire(tmp_path, postgres_database):
    receiver = CallbackReceiver(fail_first=0)
    settings = dict(VISAGE_ALLOW_NETWORKS="127.0.0.0/8", VISAGE_DATABASE_URL=postgres_database, VISAGE_TASK_LEASE_SECONDS="3",
                    VISAGE_COMPARE_WORKERS="1", VISAGE_COMPARE_RESULT_HOURS="0.003")
    server = start(tmp_path, **settings)
    try:
        root = root_of(server)
        rng = random.Random(2)
        same, different = pairs_of(SETS[1], 6, 6, rng)
        urls = upload(server, SETS[1], [n for pair in same + different for n in pair])
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        answer = call(green, "ImageAsyncScan", scan_body([(f"{a}|{b}", urls[a], urls[b]) for a, b in same + different],
                                                         callback=receiver.url + "/cb", seed="restart"))
        ids = [item["taskId"] for item in answer["data"]]
        # Killed while comparing: some pairs done, the rest queued or in hand.
        deadline = time.monotonic() + 60
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.1)
        server.stop(sig=signal.SIGKILL)
        server = Server(server.data, env=clean_env(VISAGE_NOTIFY_RETRY_SECONDS="0.3", **settings))
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        done = results(green, ids)
        assert all(item["code"] == 200 for item in done.values())
        receiver.wait(ids)
        time.sleep(2)
        assert all(len(receiver.accepted[task]) == 1 for task in ids), {t: len(v) for t, v in receiver.accepted.items()}
        # Results are kept 0.003 h (10.8 s) here; then they are gone, reported EXPIRED.
        time.sleep(11)
        expired = call(green, "ImageAsyncScanResults", ids)["data"]
        assert {item["code"] for item in expired} == {594} and {item["msg"] for item in expired} == {"EXPIRED"}
    finally:
        receiver.http.shutdown()
        server.stop()


def test_call_limit_refuses_bursts_and_keeps_admitted_tasks(tmp_path):
    server = start(tmp_path, VISAGE_MODERATION_QPS="5")
    try:
        root = root_of(server)
        urls = upload(server, SETS[0], ["img1.jpg", "img2.jpg"])

        def submit(i):
            green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
            try:
                return call(green, "ImageAsyncScan", scan_body([(f"burst-{i}", urls["img1.jpg"], urls["img2.jpg"])]))
            except TeaException as error:
                return error

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(submit, range(24)))
        throttled = [a for a in answers if isinstance(a, TeaException)]
        admitted = [a for a in answers if not isinstance(a, TeaException)]
        assert throttled and admitted
        assert all(e.code == "588" and "EXCEED_QUOTA" in e.message and e.statusCode == 429 for e in throttled)
        time.sleep(1.5)
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        done = results(green, [a["data"][0]["taskId"] for a in admitted])
        assert len(done) == len(admitted) and all(item["code"] == 200 for item in done.values())
    finally:
        server.stop()


def test_imm_compare_image_faces_gives_the_same_score(tmp_path):
    from alibabacloud_imm20200930 import models as imm_models
    from alibabacloud_imm20200930.client import Client as ImmClient

    server = start(tmp_path)
    try:
        root = root_of(server)
        urls = upload(server, SETS[0], ["img1.jpg", "img2.jpg", "couple.jpg"])
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="compare"))
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        scanned = call(green, "ImageSyncScan", scan_body([("a", urls["img1.jpg"], urls["img2.jpg"]),
                                                         ("b", urls["img1.jpg"], urls["couple.jpg"])]))["data"]
        for item, other in zip(scanned, ["img2.jpg", "couple.jpg"]):
            source = imm_models.CompareImageFacesRequestSource(uri1=f"oss://{BUCKET}/faces/img1.jpg", uri2=f"oss://{BUCKET}/faces/{other}")
            similarity = imm.compare_image_faces(imm_models.CompareImageFacesRequest(project_name="compare", source=source)).body.similarity
            assert 0 <= similarity <= 1 and round(similarity * 100, 2) == item["results"][0]["rate"]
        source = imm_models.CompareImageFacesRequestSource(uri1=f"oss://{BUCKET}/faces/img1.jpg", uri2=f"oss://{BUCKET}/faces/gone.jpg")
        with pytest.raises(TeaException) as caught:
            imm.compare_image_faces(imm_models.CompareImageFacesRequest(project_name="compare", source=source))
        assert caught.value.code == "ResourceNotFound"
    finally:
        server.stop()
