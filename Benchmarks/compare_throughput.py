"""1:1 face comparison end to end through Content Moderation's API (`call_api` of the official
SDK): pairs of presigned URLs of this server submitted with /green/image/asyncscan (100 a call)
and polled with /green/image/results until done, timed from the first submission to the last
result; beside it the face engine alone on the same photos (`visage bench faces`: each pair is
two images), and the synchronous /green/image/scan one pair a call. Prints Markdown."""
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import BINARY, Server, clean_env  # noqa: E402
from green import call, client, scan_body  # noqa: E402
from test_green_compare import SETS, pairs_of, upload  # noqa: E402


def engine_rate(folder):
    out = subprocess.run([str(BINARY), "bench", "faces", str(folder)], capture_output=True, text=True, check=True,
                         env=clean_env()).stdout
    return float(re.search(r"([\d.]+) images/s", out).group(1))


def run(folder, data, count):
    server = Server(data, env=clean_env())
    try:
        root = json.loads((data / "root-credentials.json").read_text())
        same, different = pairs_of(folder, count // 2, count // 2, random.Random(7))
        pairs = same + different
        urls = upload(server, folder, [n for pair in pairs for n in pair])
        green = client(server, root["AccessKeyId"], root["AccessKeySecret"])
        # Warm the face engine (loaded on first use) so the timing is the steady state.
        call(green, "ImageSyncScan", scan_body([("warm", urls[pairs[0][0]], urls[pairs[0][1]])]))
        start = time.perf_counter()
        submitted = {}
        for begin in range(0, len(pairs), 100):
            chunk = pairs[begin:begin + 100]
            answer = call(green, "ImageAsyncScan", scan_body([(f"{a}|{b}", urls[a], urls[b]) for a, b in chunk]))
            at = time.perf_counter()
            submitted.update({item["taskId"]: at for item in answer["data"]})
        latency = {}
        while len(latency) < len(submitted):
            waiting = [t for t in submitted if t not in latency]
            for begin in range(0, len(waiting), 100):
                for item in call(green, "ImageAsyncScanResults", waiting[begin:begin + 100])["data"]:
                    if item["code"] != 280:
                        assert item["code"] == 200, item
                        latency[item["taskId"]] = time.perf_counter() - submitted[item["taskId"]]
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        sync = []
        for a, b in pairs[:20]:
            began = time.perf_counter()
            item = call(green, "ImageSyncScan", scan_body([("s", urls[a], urls[b])]))["data"][0]
            assert item["code"] == 200, item
            sync.append(time.perf_counter() - began)
        return len(pairs) / elapsed, statistics.median(latency.values()), statistics.median(sync)
    finally:
        server.stop()


def main():
    import tempfile
    count = 200
    print("| set | pairs | asyncscan pairs/s | engine alone, pairs/s (images/s ÷ 2) | ratio | median submit→result | scan, median per pair |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for folder in SETS:
        with tempfile.TemporaryDirectory() as scratch:
            rate, latency, sync = run(folder, Path(scratch) / "data", count)
        engine = engine_rate(folder) / 2
        print(f"| `{folder.name}` | {count} | {rate:.2f} | {engine:.2f} | {rate / engine:.2f} | {latency:.1f} s | {sync * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
