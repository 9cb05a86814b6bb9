"""Load on the release binary: DetectImageFaces on 1 MP photos from 1, 2 and 4 concurrent
clients, latency percentiles and errors, with /healthz probed alongside; then object PUT and
GET of 1 MB and 64 MB through curl beside dd on the same disk. Prints Markdown.

    Benchmarks/run-load [SECONDS]   (seconds per client count, default 60)
"""
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alibaba import config  # noqa: E402
from conftest import ROOT, Server  # noqa: E402
from object_throughput import dd, median_rate, timed  # noqa: E402

MB = 1024 * 1024
PHOTOS = ROOT.parent / "shared" / "testdata" / "faces"


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def one_megapixel(bucket):
    """Test photos scaled to about 1 MP (1155 x 866 or the like), stored in the bucket."""
    keys = []
    for photo in sorted(PHOTOS.glob("img*.jpg"))[:12]:
        image = Image.open(photo).convert("RGB")
        scale = (1_000_000 / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        data = io.BytesIO()
        image.save(data, "JPEG", quality=90)
        bucket.put_object(photo.name, data.getvalue())
        keys.append(photo.name)
    return keys


def load(server, imm, keys, clients, seconds):
    """Latencies (ms) of DetectImageFaces from `clients` threads for `seconds`, errors, and /healthz latencies."""
    latencies, errors, health = [], [], []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(index):
        turn = index
        while time.monotonic() < stop:
            key = keys[turn % len(keys)]
            turn += clients
            start = time.perf_counter()
            try:
                imm.detect_image_faces(imm_models.DetectImageFacesRequest(project_name="load", source_uri=f"oss://load/{key}"))
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
            except Exception as error:  # noqa: BLE001  (every failure counts, whatever it is)
                with lock:
                    errors.append(repr(error)[:200])

    def prober():
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                ok = server.get("/healthz").status_code == 200
            except Exception:  # noqa: BLE001
                ok = False
            health.append((time.perf_counter() - start) * 1000 if ok else float("inf"))
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)] + [threading.Thread(target=prober)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, health


def curl_objects(server, bucket, work):
    rows = []
    for size_mb, rounds in ((1, 20), (64, 5)):
        source = work / f"payload-{size_mb}"
        source.write_bytes(os.urandom(size_mb * MB))
        puts, gets = [], []
        for i in range(rounds):
            key = f"curl-{size_mb}-{i}"
            put_url = bucket.sign_url("PUT", key, 600, headers={"Content-Type": "application/octet-stream"})
            puts.append((size_mb * MB, timed(lambda: subprocess.run(
                ["curl", "-sf", "-T", str(source), "-H", "Content-Type: application/octet-stream", "-o", "/dev/null", put_url],
                check=True))))
            gets.append((size_mb * MB, timed(lambda: subprocess.run(
                ["curl", "-sf", "-o", "/dev/null", bucket.sign_url("GET", key, 600)], check=True))))
        dd_write, dd_read = dd(work / "dd-file", size_mb, rounds)
        put, get = median_rate(puts), median_rate(gets)
        rows.append(f"| {size_mb} MB | {put:.0f} | {dd_write:.0f} | {put / dd_write:.2f} | {get:.0f} | {dd_read:.0f} | {get / dd_read:.2f} |")
    return rows


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", ROOT)))
    server = Server(work / "data")
    try:
        root = json.loads((server.data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "load")
        bucket.create_bucket()
        keys = one_megapixel(bucket)
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="load"))
        for key in keys:  # warm-up: models loaded, caches filled
            imm.detect_image_faces(imm_models.DetectImageFacesRequest(project_name="load", source_uri=f"oss://load/{key}"))
        print(f"DetectImageFaces on {len(keys)} photos of about 1 MP, {seconds:.0f} s per row:\n")
        print("| clients | requests | per second | p50 ms | p99 ms | errors | /healthz p50 ms | /healthz p99 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for clients in (1, 2, 4):
            latencies, errors, health = load(server, imm, keys, clients, seconds)
            print(f"| {clients} | {len(latencies)} | {len(latencies) / seconds:.1f} | {percentile(latencies, 0.5):.0f} | "
                  f"{percentile(latencies, 0.99):.0f} | {len(errors)} | {percentile(health, 0.5):.1f} | {percentile(health, 0.99):.1f} |")
            for error in sorted(set(errors))[:3]:
                print(f"<!-- {error} -->")
        print("\nObjects through curl (presigned OSS URLs) beside dd on the same disk (fsync'd writes):\n")
        print("| object size | curl PUT MB/s | dd write MB/s | ratio | curl GET MB/s | dd read MB/s | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for row in curl_objects(server, bucket, work):
            print(row)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
