"""S3 API throughput through boto3 beside oss2 on the same server (the same object store) and dd on
the same disk. Prints Markdown."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import oss2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import s3  # noqa: E402
from alibaba import root_ram  # noqa: E402
from conftest import Server  # noqa: E402
from object_throughput import MB, dd, median_rate, timed  # noqa: E402


def main():
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", Path(__file__).resolve().parent.parent)))
    server = Server(work / "data")
    try:
        root, _ = root_ram(server)
        client = s3.root_client(server, root)
        client.create_bucket(Bucket="bench")
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "bench")
        print("| object size | PUT MB/s boto3 | PUT MB/s oss2 | dd write MB/s | GET MB/s boto3 | GET MB/s oss2 | dd read MB/s |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for size_mb, rounds in ((1, 40), (64, 5)):
            payload = os.urandom(size_mb * MB)
            s3_puts = [(len(payload), timed(lambda i=i: client.put_object(Bucket="bench", Key=f"s3-{size_mb}-{i}", Body=payload)))
                       for i in range(rounds)]
            s3_gets = [(len(payload), timed(lambda i=i: client.get_object(Bucket="bench", Key=f"s3-{size_mb}-{i}")["Body"].read()))
                       for i in range(rounds)]
            oss_puts = [(len(payload), timed(lambda i=i: bucket.put_object(f"oss-{size_mb}-{i}", payload))) for i in range(rounds)]
            oss_gets = [(len(payload), timed(lambda i=i: bucket.get_object(f"oss-{size_mb}-{i}").read())) for i in range(rounds)]
            dd_write, dd_read = dd(work / "dd.bin", size_mb, rounds)
            print(f"| {size_mb} MB | {median_rate(s3_puts):.0f} | {median_rate(oss_puts):.0f} | {dd_write:.0f} "
                  f"| {median_rate(s3_gets):.0f} | {median_rate(oss_gets):.0f} | {dd_read:.0f} |")
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
