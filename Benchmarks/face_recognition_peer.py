"""The peer of `visage bench faces`: the Python face_recognition library (dlib HOG detection,
5-point alignment, ResNet embedding) on the same labelled photo sets, with the same measures.

    face_recognition_peer.py [--processes N] SET...

One image at a time in this process (the library's own way), and with `--processes N` also N
worker processes at once over the same files (throughput only), as a user would spread it over
the cores."""
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import face_recognition
import numpy as np

THRESHOLDS = [0.40, 0.425, 0.45, 0.475, 0.50, 0.55, 0.60]


def pair_distances(faces):
    same, different = [], []
    for i in range(len(faces)):
        for j in range(i + 1, len(faces)):
            d = float(np.linalg.norm(faces[i][1] - faces[j][1]))
            (same if faces[i][0] == faces[j][0] else different).append(d)
    return same, sorted(different)


def balanced_accuracy(same, different, t):
    step = len(different) / len(same)
    sampled = [different[min(len(different) - 1, int(k * step))] for k in range(len(same))]
    correct = sum(d < t for d in same) + sum(d >= t for d in sampled)
    return correct / (len(same) + len(sampled))


def analyse(path):
    image = face_recognition.load_image_file(path)
    return len(face_recognition.face_encodings(image, face_recognition.face_locations(image, model="hog")))


def throughput(folder, processes):
    paths = [folder / entry["name"] for entry in json.loads((folder / "manifest.json").read_text())["files"]]
    with multiprocessing.Pool(processes) as pool:
        pool.map(analyse, paths[:processes])  # start-up outside the timing
        start = time.perf_counter()
        pool.map(analyse, paths, chunksize=1)
        elapsed = time.perf_counter() - start
    print(f"{folder.name}: {processes} processes, {len(paths) / elapsed:.2f} images/s")


def bench(folder):
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    expected = found = extra = images = 0
    labelled, latencies = [], []
    start = time.perf_counter()
    for entry in manifest:
        began = time.perf_counter()
        image = face_recognition.load_image_file(folder / entry["name"])
        boxes = face_recognition.face_locations(image, model="hog")
        encodings = face_recognition.face_encodings(image, boxes)
        latencies.append(time.perf_counter() - began)
        if entry.get("expected_face_count") is not None:
            count = entry["expected_face_count"]
            images += 1
            expected += count
            found += min(count, len(boxes))
            extra += max(0, len(boxes) - count)
        if entry.get("identity") and boxes:
            areas = [(b[2] - b[0]) * (b[1] - b[3]) for b in boxes]
            labelled.append((entry["identity"], encodings[int(np.argmax(areas))]))
    elapsed = time.perf_counter() - start
    latencies.sort()
    same, different = pair_distances(labelled)
    print(f"\n## {folder.name} (face_recognition)")
    print(f"images {len(manifest)}, {len(manifest) / elapsed:.2f} images/s, median {latencies[len(latencies) // 2] * 1000:.0f} ms per image")
    print(f"detection: recall {found / expected:.3f} ({found}/{expected} faces), {extra} extra on {images} images")
    print(f"verification: {len(same)} same-person pairs, {len(different)} different-person pairs")
    print("| distance threshold | accuracy (balanced) | true accepts | false accepts |")
    print("| --- | --- | --- | --- |")
    for t in THRESHOLDS:
        tar = sum(d < t for d in same) / len(same)
        far = sum(d < t for d in different) / len(different)
        print(f"| {t:.3f} | {balanced_accuracy(same, different, t):.3f} | {tar:.3f} | {far:.4f} |")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    processes = 1
    if arguments[:1] == ["--processes"]:
        processes, arguments = int(arguments[1]), arguments[2:]
    for argument in arguments:
        bench(Path(argument))
    if processes > 1:
        print()
        for argument in arguments:
            throughput(Path(argument), processes)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
