"""Images that are small on the wire and huge in pixels: every request is answered, light routes
keep answering meanwhile, and memory stays bounded."""
import concurrent.futures
import json
import statistics
import struct
import threading
import time
import zlib

import oss2
import requests
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from Tea.exceptions import TeaException
from alibabacloud_tea_util.models import RuntimeOptions

from alibaba import config


def one_bit_png(side):
    """A 1-bit greyscale PNG of side × side black pixels: a few KB that decode to side² pixels."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    raw = zlib.compress(row * side, 9)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


def test_pixel_bombs_are_answered_while_health_checks_stay_fast(server):
    bomb = one_bit_png(7071)
    assert len(bomb) < 20_000
    root = json.loads((server.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "bombs")
    bucket.create_bucket()
    bucket.put_object("bomb.png", bomb)
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="bombs"))
    health, stop = [], threading.Event()

    def probe():
        while not stop.is_set():
            began = time.monotonic()
            assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
            health.append(time.monotonic() - began)
            time.sleep(0.05)

    def detect(_):
        request = imm_models.DetectImageFacesRequest(project_name="bombs", source_uri="oss://bombs/bomb.png")
        try:
            answer = imm.detect_image_faces_with_options(request, RuntimeOptions(read_timeout=120_000, connect_timeout=10_000))
            return len(answer.body.faces or [])
        except TeaException as error:
            return f"{error.code}: {error.message}"

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(detect, range(8)))
    finally:
        stop.set()
        prober.join()
    assert answers == [0] * 8, answers
    health.sort()
    p99 = health[int(len(health) * 0.99)]
    peak = peak_rss_mb(server.process.pid)
    assert p99 <= 1.0, (p99, statistics.median(health))
    assert peak < 1500, peak
