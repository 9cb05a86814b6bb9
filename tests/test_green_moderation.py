"""Content Moderation's image scene `porn` through the official green SDK: the same moderation
core as Rekognition's DetectModerationLabels, so both dialects agree on the same image."""
import json
from pathlib import Path

import oss2
import pytest
from Tea.exceptions import TeaException

import rekognition
from conftest import Server
from green import call, client
from test_green_compare import grey_png, root_of

BUCKET = "moderation-scan"


def shared_photos():
    root = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
    return root if root.is_dir() else Path("/work/shared/testdata")


def test_porn_scene_labels_images_with_the_shared_core(tmp_path):
    server = Server(tmp_path / "data")
    try:
        root = root_of(server)
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET)
        bucket.create_bucket()
        portrait = (shared_photos() / "faces-east-asia-lfw/jackie_chan/Jackie_Chan_0007.jpg").read_bytes()
        bucket.put_object("portrait.jpg", portrait)
        bucket.put_object("plain.png", grey_png(200, 160))
        bucket.put_object("notes.jpg", b"not an image")
        urls = {name: bucket.sign_url("GET", name, 600) for name in ("portrait.jpg", "plain.png", "notes.jpg")}
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        answer = call(green, "ImageSyncScan", {"scenes": ["porn"], "tasks": [
            {"dataId": "portrait", "url": urls["portrait.jpg"]}, {"dataId": "plain", "url": urls["plain.png"]},
            {"dataId": "text", "url": urls["notes.jpg"]}, {"dataId": "gone", "url": server.url + f"/{BUCKET}/missing.jpg"}]})
        items = {item["dataId"]: item for item in answer["data"]}
        portrait_result = items["portrait"]["results"]
        assert items["portrait"]["code"] == 200 and len(portrait_result) == 1
        assert portrait_result[0]["scene"] == "porn" and portrait_result[0]["label"] == "normal" and portrait_result[0]["suggestion"] == "pass"
        assert items["plain"]["results"][0] == {"scene": "porn", "label": "normal", "suggestion": "pass", "rate": 100}
        assert items["text"]["code"] == 590
        assert items["gone"]["code"] in (403, 404)

        # One core: the rate is 100 less the explicit confidence Rekognition reports for the same bytes.
        labels = rekognition.root_client(server, root).detect_moderation_labels(Image={"Bytes": portrait}, MinConfidence=0)
        explicit = next(label["Confidence"] for label in labels["ModerationLabels"] if label["Name"] == "Explicit")
        assert abs(portrait_result[0]["rate"] - (100 - explicit)) < 0.01

        with pytest.raises(TeaException) as refused:
            call(green, "ImageAsyncScan", {"scenes": ["porn"], "tasks": [{"dataId": "a", "url": urls["portrait.jpg"]}]})
        assert refused.value.code == "400" and "/green/image/scan" in refused.value.message
    finally:
        server.stop()
