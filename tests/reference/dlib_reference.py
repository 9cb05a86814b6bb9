"""Runs dlib's own Python bindings on the faces Visage found, for the parity test.

Reads JSON lines {"image": PATH, "boxes": [[left, top, right, bottom], ...]} on stdin and writes
one JSON line per image: {"faces": [{"landmarks": [[x, y] * 68], "embedding": [128 floats]}]}.
Runs under .venv-bench (dlib built from PyPI), with the same model files Visage loads.
"""
import json
import sys

import dlib

predictor = dlib.shape_predictor(sys.argv[1])
embedder = dlib.face_recognition_model_v1(sys.argv[2])
for line in sys.stdin:
    request = json.loads(line)
    image = dlib.load_rgb_image(request["image"])
    faces = []
    for left, top, right, bottom in request["boxes"]:
        shape = predictor(image, dlib.rectangle(left, top, right, bottom))
        descriptor = embedder.compute_face_descriptor(image, shape)
        faces.append({"landmarks": [[p.x, p.y] for p in shape.parts()], "embedding": list(descriptor)})
    print(json.dumps({"faces": faces}), flush=True)
