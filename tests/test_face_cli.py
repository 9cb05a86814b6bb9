"""The face commands of the release binary: detect, compare, models, and refusals of bad input."""
import json
import subprocess

from conftest import BINARY, ROOT, clean_env

FACES = ROOT.parent / "shared" / "testdata" / "faces"
EAST_ASIA = ROOT.parent / "shared" / "testdata" / "faces-east-asia"


def visage(*args, check=True, **env):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, env=clean_env(**env), timeout=300, check=check)


def test_detect_prints_imm_faces_per_image():
    result = visage("detect", str(FACES / "img1.jpg"), str(FACES / "couple.jpg"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [len(line["Faces"]) for line in lines] == [1, 2]
    face = lines[0]["Faces"][0]
    assert set(face) == {"FigureId", "FigureType", "FigureConfidence", "Boundary", "HeadPose", "Sharpness",
                         "FaceQuality", "Mouth", "MouthConfidence"}
    assert face["FigureType"] == "face" and face["Mouth"] in ("open", "close")
    assert set(face["Boundary"]) == {"Left", "Top", "Width", "Height"} and face["Boundary"]["Width"] > 100
    assert set(face["HeadPose"]) == {"Pitch", "Roll", "Yaw"}
    for key in ("FigureConfidence", "Sharpness", "FaceQuality", "MouthConfidence"):
        assert 0 <= face[key] <= 1
    # No attribute without a model behind it.
    assert not {"Age", "Gender", "Emotion", "Glasses", "Hat", "Mask", "Beard", "Attractive"} & set(face)


def test_five_landmarks_align_without_the_68_point_model():
    """VISAGE_LANDMARKS=5: the same faces, head pose from the detector's points, no mouth, and the
    same people told apart."""
    photos = [str(FACES / name) for name in ("img1.jpg", "couple.jpg", "img2.jpg", "img3.jpg")]
    full = [json.loads(line) for line in visage("detect", *photos).stdout.splitlines()]
    five = [json.loads(line) for line in visage("detect", *photos, VISAGE_LANDMARKS="5").stdout.splitlines()]
    assert [len(line["Faces"]) for line in five] == [len(line["Faces"]) for line in full] == [1, 2, 1, 1]
    for line_full, line_five in zip(full, five):
        for a, b in zip(line_full["Faces"], line_five["Faces"]):
            assert a["Boundary"] == b["Boundary"]
            assert "Mouth" not in b and "MouthConfidence" not in b and "Mouth" in a
            assert abs(a["HeadPose"]["Yaw"] - b["HeadPose"]["Yaw"]) < 25
            assert abs(a["HeadPose"]["Roll"] - b["HeadPose"]["Roll"]) < 10
    same = json.loads(visage("compare", photos[0], photos[2], VISAGE_LANDMARKS="5").stdout)
    different = json.loads(visage("compare", photos[0], photos[3], VISAGE_LANDMARKS="5").stdout)
    assert same["SamePerson"] is True and different["SamePerson"] is False
    refused = visage("detect", photos[0], check=False, VISAGE_LANDMARKS="7")
    assert refused.returncode != 0 and "VISAGE_LANDMARKS must be 5 or 68" in refused.stderr


def test_compare_same_and_different_people():
    same = json.loads(visage("compare", str(FACES / "img1.jpg"), str(FACES / "img2.jpg")).stdout)
    different = json.loads(visage("compare", str(FACES / "img1.jpg"), str(FACES / "img3.jpg")).stdout)
    assert same["SamePerson"] is True and same["Similarity"] > 0.5
    assert different["SamePerson"] is False and different["Similarity"] < 0.5


def test_a_cohort_of_other_people_corrects_both_kinds_of_error(tmp_path):
    """Two look-alike people the plain distance takes for one, and one person it takes for two."""
    manifest = json.loads((EAST_ASIA / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry.get("identity") not in (None, "sato_amina", "kim_ji_won", "lee_hyun_jae"):
            (tmp_path / entry["name"].replace("/", "_")).symlink_to(EAST_ASIA / entry["name"])
    look_alikes = (str(EAST_ASIA / "sato_amina/sato_amina_01.jpg"), str(EAST_ASIA / "kim_ji_won/kim_ji_won_06.jpg"))
    one_person = (str(EAST_ASIA / "lee_hyun_jae/lee_hyun_jae_02.jpg"), str(EAST_ASIA / "lee_hyun_jae/lee_hyun_jae_05.jpg"))
    assert json.loads(visage("compare", *look_alikes).stdout)["SamePerson"] is True
    assert json.loads(visage("compare", *one_person).stdout)["SamePerson"] is False
    judged = json.loads(visage("compare", "--cohort", str(tmp_path), *look_alikes).stdout)
    assert judged["SamePerson"] is False and judged["Similarity"] < 0.5
    judged = json.loads(visage("compare", "--cohort", str(tmp_path), *one_person).stdout)
    assert judged["SamePerson"] is True and judged["Similarity"] > 0.5
    # The same cohort with a sub-folder per person (each person weighed once) judges alike.
    people = tmp_path / "people"
    for entry in manifest["files"]:
        if entry.get("identity") not in (None, "sato_amina", "kim_ji_won", "lee_hyun_jae"):
            (people / entry["identity"]).mkdir(parents=True, exist_ok=True)
            (people / entry["identity"] / entry["name"].split("/")[-1]).symlink_to(EAST_ASIA / entry["name"])
    assert json.loads(visage("compare", "--cohort", str(people), *look_alikes).stdout)["SamePerson"] is False
    assert json.loads(visage("compare", "--cohort", str(people), *one_person).stdout)["SamePerson"] is True
    few = tmp_path / "few"
    few.mkdir()
    (few / "one.jpg").symlink_to(FACES / "img1.jpg")
    refused = visage("compare", "--cohort", str(few), *one_person, check=False)
    assert refused.returncode != 0 and "at least 10" in refused.stderr


def test_models_lists_packages_checksums_and_status():
    models = json.loads(visage("models", "--json").stdout)
    assert [m["name"] for m in models] == ["centerface", "dlib-shape-predictor-68", "dlib-shape-predictor-5", "dlib-resnet-v1",
                                           "dlib-resnet-v1-openvino", "nudenet-320n", "open-nsfw"]
    for model in models:
        assert model["status"] == "loaded" and len(model["sha256"]) == 64 and model["file"].startswith(str(ROOT))
    # The embedding network converted at install time carries the licence of what it came from.
        assert model["licence"] and model["training_data"]
    by_name = {m["name"]: m for m in models}
    # The 68-point model's training data bars commercial use: the listing says so.
    assert "excludes commercial use" in by_name["dlib-shape-predictor-68"]["training_data"]
    # The 5-point model that can replace it (VISAGE_LANDMARKS=5) has no such terms.
    assert "no use is excluded" in by_name["dlib-shape-predictor-5"]["training_data"]
    assert "VISAGE_LANDMARKS=5" in by_name["dlib-shape-predictor-5"]["purpose"]
    assert "MIT" in by_name["centerface"]["licence"] and "CC0" in by_name["dlib-resnet-v1"]["licence"]
    assert by_name["dlib-resnet-v1-openvino"]["licence"] == by_name["dlib-resnet-v1"]["licence"]
    assert by_name["dlib-resnet-v1-openvino"]["file"].endswith(".xml")
    # Where a package's metadata and its licence file disagree, both are named.
    assert "MIT" in by_name["nudenet-320n"]["licence"] and "AGPL-3.0" in by_name["nudenet-320n"]["licence"]
    table = visage("models").stdout
    assert "licence:" in table and "iBUG 300-W" in table


def test_bad_images_are_refused_by_name(tmp_path):
    cases = {
        "empty.jpg": b"",
        "text.jpg": b"hello, not an image\n",
        "truncated.jpg": (FACES / "img1.jpg").read_bytes()[:5000],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = visage("detect", str(tmp_path / name), check=False)
        assert result.returncode == 1, name
        assert name in result.stderr and "Fatal" not in result.stderr
    assert "empty" in visage("detect", str(tmp_path / "empty.jpg"), check=False).stderr
    assert "not an image" in visage("detect", str(tmp_path / "text.jpg"), check=False).stderr
    assert "damaged" in visage("detect", str(tmp_path / "truncated.jpg"), check=False).stderr


def test_compare_async_queues_pairs_and_prints_a_line_each(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(f"{FACES / 'img1.jpg'}\t{FACES / 'img2.jpg'}\n# a comment\n\n"
                     f"{FACES / 'img1.jpg'} {EAST_ASIA / 'sato_amina' / 'sato_amina_01.jpg'}\n"
                     f"{FACES / 'img1.jpg'} http://169.254.169.254/latest/meta-data/\n")
    data = tmp_path / "data"
    result = visage("compare-async", "--data", str(data), "--pairs", str(pairs))
    same, different, refused = [json.loads(line) for line in result.stdout.splitlines()]
    assert same["SamePerson"] is True and same["Similarity"] > different["Similarity"] and different["SamePerson"] is False
    assert refused["Error"].startswith("image 2: 169.254.169.254 is on a private network")
    assert len({same["TaskId"], different["TaskId"], refused["TaskId"]}) == 3
    # The same photos again: stored once (by content), compared again with the same score.
    again = json.loads(visage("compare-async", "--data", str(data), str(FACES / "img1.jpg"), str(FACES / "img2.jpg")).stdout)
    assert again["Similarity"] == same["Similarity"]
    listed = visage("objects", "ls", "visage-compare", "--data", str(data))
    assert listed.stdout.count("pairs/") == 3
    bad = visage("compare-async", "--data", str(data), str(FACES / "img1.jpg"), str(tmp_path / "missing.jpg"), check=False)
    assert bad.returncode != 0 and "cannot read" in bad.stderr
