"""Visage's landmarks and embeddings against dlib's own Python bindings on the same pixels.

Both sides read the same lossless PNG (converted once from the test photos) and the same face
boxes, so any difference comes from the landmark and embedding pipeline itself. The embedding
network is checked as the server runs it (on OpenVINO, converted at install time) and on dlib's
own code, the fallback.
"""
import json
import subprocess

import pytest

from conftest import BINARY, ROOT, clean_env

BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
SETS = [ROOT.parent / "shared" / "testdata" / name for name in ("faces", "faces-east-asia")]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Every photo of both sets as PNG, decoded with Pillow with EXIF orientation applied."""
    folder = tmp_path_factory.mktemp("png")
    script = (
        "import sys, pathlib\n"
        "from PIL import Image, ImageOps\n"
        "out = pathlib.Path(sys.argv[1])\n"
        "for i, path in enumerate(sys.argv[2:]):\n"
        "    ImageOps.exif_transpose(Image.open(path)).convert('RGB').save(out / f'{i:04d}.png')\n"
    )
    sources = []
    for folder_of_set in SETS:
        manifest = json.loads((folder_of_set / "manifest.json").read_text())
        sources += [str(folder_of_set / entry["name"]) for entry in manifest["files"]]
    subprocess.run([str(BENCH_PYTHON), "-c", script, str(folder), *sources], check=True, timeout=600)
    return sorted(folder.glob("*.png"))


def model_files():
    models = json.loads(subprocess.run([str(BINARY), "models", "--json"], capture_output=True, text=True,
                                       env=clean_env(), check=True).stdout)
    files = {model["name"]: model["file"] for model in models}
    return files["dlib-shape-predictor-68"], files["dlib-resnet-v1"]


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)


def analyse(photos, runtime):
    """Visage's faces of every photo, the embedding network run by `runtime`."""
    ours = []
    for start in range(0, len(photos), 40):
        batch = photos[start:start + 40]
        result = subprocess.run([str(BINARY), "detect", "--raw", *map(str, batch)], capture_output=True, text=True,
                                # Full-size pixels on both sides: large photos are otherwise decoded at half size.
                                env={**clean_env(), "VISAGE_EMBEDDING_RUNTIME": runtime, "VISAGE_SHRINK_ON_LOAD": "0"},
                                check=True, timeout=600)
        ours += [(path, json.loads(line)["Faces"]) for path, line in zip(batch, result.stdout.splitlines())]
    return ours


@pytest.fixture(scope="module")
def reference(photos):
    """dlib's own landmarks and embeddings, on the boxes Visage found."""
    ours = analyse(photos, "dlib")
    requests = "".join(json.dumps({"image": str(path), "boxes": [face["LandmarkBox"] for face in faces]}) + "\n"
                       for path, faces in ours)
    result = subprocess.run([str(BENCH_PYTHON), str(ROOT / "tests" / "reference" / "dlib_reference.py"), *model_files()],
                            input=requests, capture_output=True, text=True, check=True, timeout=1200)
    theirs = [json.loads(line)["faces"] for line in result.stdout.splitlines()]
    assert len(theirs) == len(ours)
    return theirs


def test_the_converted_network_is_installed_and_loads():
    models = json.loads(subprocess.run([str(BINARY), "models", "--json"], capture_output=True, text=True,
                                       env=clean_env(), check=True).stdout)
    converted = next(model for model in models if model["name"] == "dlib-resnet-v1-openvino")
    assert converted["status"] == "loaded"


@pytest.mark.parametrize("runtime", ["openvino", "dlib"])
def test_landmarks_and_embeddings_match_dlib(photos, reference, runtime):
    ours = analyse(photos, runtime)
    compared = 0
    exact = True
    worst_cosine, worst_offset = 1.0, 0.0
    for (path, faces), expected in zip(ours, reference):
        for face, dlib_face in zip(faces, expected, strict=True):
            offset = max(max(abs(a - b) for a, b in zip(p, q)) for p, q in zip(face["Landmarks"], dlib_face["landmarks"]))
            similarity = cosine(face["Embedding"], dlib_face["embedding"])
            exact = exact and max(abs(a - b) for a, b in zip(face["Embedding"], dlib_face["embedding"])) < 1e-5
            worst_offset, worst_cosine = max(worst_offset, offset), min(worst_cosine, similarity)
            assert offset <= 1, f"{path.name}: landmarks {offset} px from dlib's"
            assert similarity >= 0.999, f"{path.name}: embedding cosine {similarity:.5f} against dlib's"
            compared += 1
    print(f"parity ({runtime}) over {compared} faces: worst landmark offset {worst_offset} px, "
          f"worst embedding cosine {worst_cosine:.6f}")
    assert compared > 150
    if runtime == "dlib":
        # dlib's own code gives dlib's numbers (OpenVINO's arithmetic, bfloat16 where the CPU has
        # it, differs in the last digits).
        assert exact
