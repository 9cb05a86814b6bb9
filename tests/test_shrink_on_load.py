"""Photos too large for the detector to see whole are decoded at half size: the same faces, in
the photo's own pixels, at a fraction of the decoding work."""
import json
import math
import subprocess

from conftest import BINARY, ROOT, clean_env

LARGE = [ROOT.parent / "shared" / "testdata" / "faces" / name for name in ("img40.jpg", "img49.jpg")]


def detect(paths, shrink):
    result = subprocess.run([str(BINARY), "detect", "--raw", *map(str, paths)], capture_output=True, text=True,
                            env=clean_env(VISAGE_SHRINK_ON_LOAD=shrink), check=True, timeout=600)
    return [json.loads(line)["Faces"] for line in result.stdout.splitlines()]


def iou(a, b):
    left, top = max(a["Left"], b["Left"]), max(a["Top"], b["Top"])
    right = min(a["Left"] + a["Width"], b["Left"] + b["Width"])
    bottom = min(a["Top"] + a["Height"], b["Top"] + b["Height"])
    inter = max(0, right - left) * max(0, bottom - top)
    return inter / (a["Width"] * a["Height"] + b["Width"] * b["Height"] - inter)


def test_large_photos_give_the_same_faces_decoded_at_half_size():
    full, shrunk = detect(LARGE, "0"), detect(LARGE, "1")
    for path, faces, halved in zip(LARGE, full, shrunk):
        assert len(faces) == len(halved) >= 1, path.name
        for face, other in zip(sorted(faces, key=lambda f: f["Boundary"]["Left"]),
                               sorted(halved, key=lambda f: f["Boundary"]["Left"])):
            # Boxes in the photo's own pixels (thousands of them), not the half-size ones.
            assert face["Boundary"]["Width"] > 500 and iou(face["Boundary"], other["Boundary"]) > 0.85, path.name
            distance = math.dist(face["Embedding"], other["Embedding"])
            assert distance < 0.15, f"{path.name}: embedding moved by {distance:.3f}"
