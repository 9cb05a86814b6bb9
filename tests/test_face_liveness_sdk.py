"""Azure AI Face liveness sessions: the official SDK (azure-ai-vision-face 1.0.0b2) against the
release binary, the client's calls with Visage's frame-burst form, and the liveness decision on
moved prints and a rendered, textured 3-D head (tests/liveness_frames.py)."""
import hashlib
import json
import struct
import time
import uuid
import zlib

import pytest
import requests
from azure.ai.vision.face import FaceSessionClient
from azure.ai.vision.face.models import (CreateLivenessSessionContent, CreateLivenessWithVerifySessionContent,
                                         LivenessOperationMode)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

import liveness_frames as lf
from conftest import BINARY, ROOT, Server, clean_env, run_cli

FACES = ROOT.parent / "shared" / "testdata" / "faces"
KEY = "0123456789abcdef0123456789abcdef"
VERSION = "v1.2-preview.1"
VERIFY = "detectLivenessWithVerify"


@pytest.fixture(scope="module")
def face_server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("face") / "data", env=clean_env(VISAGE_FACE_API_KEY=KEY))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def stills():
    """Camera-frame stills of two people (photo, its landmarks in the frame)."""
    made = {}
    for name in ("img2.jpg", "img29.jpg"):
        photo = lf.load_rgb(FACES / name)
        made[name] = lf.framed_still(photo, lf.landmarks_of(BINARY, FACES / name))
    return made


def face_client(server, key=KEY):
    return FaceSessionClient(endpoint=server.url, credential=AzureKeyCredential(key))


def verify_content(**settings):
    settings.setdefault("device_correlation_id", str(uuid.uuid4()))
    return CreateLivenessWithVerifySessionContent(liveness_operation_mode=LivenessOperationMode.PASSIVE_ACTIVE, **settings)


def grey_png(width=64, height=64):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def client_call(server, token, suffix="", kind=VERIFY, headers=None, **kwargs):
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    return requests.post(f"{server.url}/face/{VERSION}/{kind}/singleModal{suffix}", headers=headers, timeout=180, **kwargs)


def burst(server, token, challenge_id, frames, kind=VERIFY, verify_image=None):
    files = [("Parameters", (None, json.dumps({"challengeId": challenge_id})))]
    files += [("Frame", (f"frame-{i}.jpg", lf.jpeg(frame), "image/jpeg")) for i, frame in enumerate(frames)]
    if verify_image is not None:
        files.append(("VerifyImage", ("verify-image", verify_image)))
    return client_call(server, token, kind=kind, files=files)


def error_code(response):
    body = response.json()
    assert response.headers["x-ms-error-code"] == body["error"]["code"]
    return body["error"]["code"]


def test_sessions_round_trip_through_the_sdk(face_server):
    faces = face_client(face_server)
    reference = (FACES / "img1.jpg").read_bytes()
    device = str(uuid.uuid4())
    with_image = faces.create_liveness_with_verify_session(
        verify_content(device_correlation_id=device, auth_token_time_to_live_in_seconds=120, return_verify_image_hash=True),
        verify_image=reference)
    assert with_image.session_id and with_image.auth_token.startswith("v1.")
    rectangle = with_image.verify_image.face_rectangle
    assert rectangle.width > 100 and rectangle.height > 100 and rectangle.left >= 0 and rectangle.top >= 0
    assert with_image.verify_image.quality_for_recognition in ("low", "medium", "high")
    without_image = faces.create_liveness_with_verify_session(verify_content(), verify_image=None)
    assert without_image.verify_image is None and without_image.session_id != with_image.session_id
    liveness = faces.create_liveness_session(CreateLivenessSessionContent(
        liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=str(uuid.uuid4())))
    assert liveness.auth_token != with_image.auth_token

    session = faces.get_liveness_with_verify_session_result(with_image.session_id)
    assert session.id == with_image.session_id and session.status == "NotStarted"
    assert session.session_expired is False and session.result is None and session.session_start_date_time is None
    assert session.device_correlation_id == device and session.auth_token_time_to_live_in_seconds == 120
    assert abs(session.created_date_time.timestamp() - time.time()) < 60
    assert faces.get_liveness_with_verify_session_result(without_image.session_id).auth_token_time_to_live_in_seconds == 600
    assert faces.get_liveness_session_result(liveness.session_id).status == "NotStarted"

    # Lists are in id order; `start` pages after an id, `top` bounds the page.
    ids = sorted([with_image.session_id, without_image.session_id])
    listed = faces.get_liveness_with_verify_sessions()
    assert [item.id for item in listed] == ids
    assert [item.id for item in faces.get_liveness_with_verify_sessions(top=1)] == ids[:1]
    assert [item.id for item in faces.get_liveness_with_verify_sessions(start=ids[0])] == ids[1:]
    assert [item.id for item in faces.get_liveness_sessions()] == [liveness.session_id]
    assert faces.get_liveness_with_verify_session_audit_entries(with_image.session_id) == []

    # The kinds are apart: a liveness session is not found among verify sessions.
    with pytest.raises(ResourceNotFoundError):
        faces.get_liveness_with_verify_session_result(liveness.session_id)
    assert faces.delete_liveness_with_verify_session(without_image.session_id) is None
    with pytest.raises(ResourceNotFoundError):
        faces.get_liveness_with_verify_session_result(without_image.session_id)
    with pytest.raises(ResourceNotFoundError):
        faces.delete_liveness_with_verify_session(without_image.session_id)
    assert [item.id for item in faces.get_liveness_with_verify_sessions()] == [with_image.session_id]
    with pytest.raises(ResourceNotFoundError):
        faces.get_liveness_session_audit_entries(str(uuid.uuid4()))
    assert faces.delete_liveness_session(liveness.session_id) is None

    with pytest.raises(ClientAuthenticationError):
        face_client(face_server, key="f" * 32).get_liveness_with_verify_sessions()
    missing = requests.get(f"{face_server.url}/face/{VERSION}/{VERIFY}/singleModal/sessions", timeout=10)
    assert missing.status_code == 401 and error_code(missing) == "401"
    assert requests.get(f"{face_server.url}/face/v9/{VERIFY}/singleModal/sessions", headers={"Ocp-Apim-Subscription-Key": KEY},
                        timeout=10).status_code == 404


def test_create_is_validated_with_azure_error_bodies(face_server):
    faces = face_client(face_server)

    def refused(content, image=None):
        with pytest.raises(HttpResponseError) as raised:
            faces.create_liveness_with_verify_session(content, verify_image=image)
        assert raised.value.status_code == 400
        return raised.value.error.code, raised.value.error.message

    assert refused(verify_content(auth_token_time_to_live_in_seconds=59))[0] == "BadArgument"
    assert refused(verify_content(auth_token_time_to_live_in_seconds=86401))[0] == "BadArgument"
    code, message = refused(verify_content(device_correlation_id_set_in_client=True))
    assert code == "BadArgument" and "deviceCorrelationId" in message
    assert refused(CreateLivenessWithVerifySessionContent(liveness_operation_mode="PassiveActive"))[0] == "BadArgument"
    assert refused(verify_content(device_correlation_id="not-a-guid"))[0] == "BadArgument"
    assert refused(CreateLivenessWithVerifySessionContent(liveness_operation_mode="Active",
                                                          device_correlation_id=str(uuid.uuid4())))[0] == "BadArgument"
    assert refused(verify_content(verify_confidence_threshold=1.5))[0] == "BadArgument"
    code, message = refused(verify_content(), image=grey_png())
    assert code == "InvalidImage" and "no face" in message
    code, message = refused(verify_content(), image=(FACES / "couple.jpg").read_bytes())
    assert code == "InvalidImage" and "2 faces" in message
    assert refused(verify_content(), image=b"not an image")[0] == "InvalidImage"
    # The set-in-client form needs no id here; nothing refused was stored.
    ok = faces.create_liveness_with_verify_session(verify_content(device_correlation_id=None, device_correlation_id_set_in_client=True),
                                                   verify_image=None)
    assert [item.id for item in faces.get_liveness_with_verify_sessions()].count(ok.session_id) == 1
    faces.delete_liveness_with_verify_session(ok.session_id)


def test_one_device_is_limited_to_thirty_sessions_an_hour(face_server):
    faces = face_client(face_server)
    device = str(uuid.uuid4())
    made = [faces.create_liveness_session(CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=device))
            for _ in range(30)]
    with pytest.raises(HttpResponseError) as raised:
        faces.create_liveness_session(CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=device))
    assert raised.value.status_code == 429 and raised.value.error.code == "TooManyRequests"
    # Another device is not held back.
    faces.create_liveness_session(CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=str(uuid.uuid4())))
    for session in made:
        faces.delete_liveness_session(session.session_id)


def test_keys_bound_to_users_follow_their_policies(face_server, tmp_path):
    data = face_server.data
    run_cli("users", "create", "kiosk-app", data=data)
    out = run_cli("face-keys", "create", "--user", "kiosk-app", data=data).stdout.decode()
    fields = dict(line.split(":", 1) for line in out.strip().splitlines())
    key_id, key = fields["KeyId"].strip(), fields["SubscriptionKey"].strip()
    assert f"{key_id}\tuser/kiosk-app\tActive" in run_cli("face-keys", "ls", data=data).stdout.decode()
    faces = face_client(face_server, key=key)
    with pytest.raises(HttpResponseError) as raised:
        faces.create_liveness_with_verify_session(verify_content(), verify_image=None)
    assert raised.value.status_code == 403 and raised.value.error.code == "PermissionDenied"

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["face:CreateLivenessWithVerifySession", "face:GetLivenessWithVerifySessionResult"],
        "Resource": "*"}]}))
    run_cli("policies", "create", "kiosk-liveness", str(policy), data=data)
    run_cli("policies", "attach", "--user", "kiosk-app", "--policy", "kiosk-liveness", data=data)
    created = faces.create_liveness_with_verify_session(verify_content(), verify_image=None)
    assert faces.get_liveness_with_verify_session_result(created.session_id).status == "NotStarted"
    with pytest.raises(HttpResponseError) as raised:
        faces.delete_liveness_with_verify_session(created.session_id)
    assert raised.value.status_code == 403
    with pytest.raises(HttpResponseError):
        faces.get_liveness_with_verify_sessions()

    run_cli("face-keys", "disable", key_id, data=data)
    with pytest.raises(ClientAuthenticationError):
        faces.get_liveness_with_verify_session_result(created.session_id)
    run_cli("face-keys", "enable", key_id, data=data)
    assert faces.get_liveness_with_verify_session_result(created.session_id).id == created.session_id
    run_cli("face-keys", "rm", key_id, data=data)
    with pytest.raises(ClientAuthenticationError):
        faces.get_liveness_with_verify_session_result(created.session_id)
    face_client(face_server).delete_liveness_with_verify_session(created.session_id)


def test_session_tokens_are_narrow_and_audited(face_server, stills):
    faces = face_client(face_server)
    short = faces.create_liveness_with_verify_session(verify_content(auth_token_time_to_live_in_seconds=60), verify_image=None)
    made_at = time.monotonic()
    first = faces.create_liveness_with_verify_session(verify_content(send_results_to_client=True), verify_image=None)
    other = faces.create_liveness_with_verify_session(verify_content(), verify_image=None)

    # Three attempts, each with its own challenge; a fourth is refused.
    challenges = []
    for attempt in (1, 2, 3):
        response = client_call(face_server, first.auth_token, "/challenge", headers={"x-ms-client-request-id": f"try-{attempt}"})
        assert response.status_code == 200, response.text
        challenges.append(response.json())
        assert challenges[-1]["attempt"] == attempt and challenges[-1]["attemptsLeft"] == 3 - attempt
        assert challenges[-1]["challenge"] in ("turnLeft", "turnRight", "lookUp", "lookDown")
    assert len({c["challengeId"] for c in challenges}) == 3
    fourth = client_call(face_server, first.auth_token, "/challenge")
    assert fourth.status_code == 403 and error_code(fourth) == "AttemptsExhausted"
    assert faces.get_liveness_with_verify_session_result(first.session_id).status == "Started"

    # A tampered token, no token, a token for the other kind of session.
    payload = first.auth_token.split(".")
    tampered = ".".join([payload[0], payload[1][:-2] + ("AA" if payload[1][-2:] != "AA" else "BB"), payload[2]])
    assert client_call(face_server, tampered, "/challenge").status_code == 401
    assert error_code(client_call(face_server, None, "/challenge")) == "Unauthorized"
    wrong_kind = client_call(face_server, first.auth_token, "/challenge", kind="detectLiveness")
    assert wrong_kind.status_code == 403 and error_code(wrong_kind) == "Forbidden"

    # Another session's token cannot answer this session's challenge.
    open_challenge = client_call(face_server, other.auth_token, "/challenge").json()
    still, _ = stills["img2.jpg"]
    crossed = burst(face_server, other.auth_token, challenges[-1]["challengeId"], lf.spoof_frames(still, "flat", count=6))
    assert crossed.status_code == 403 and error_code(crossed) == "ChallengeMismatch"
    # The mismatch used up nothing of the other session's open challenge but was audited.
    refused = faces.get_liveness_with_verify_session_audit_entries(other.session_id)
    assert [entry.response.status_code for entry in refused] == [200, 403]
    assert refused[1].response.body["error"]["code"] == "ChallengeMismatch"
    assert refused[1].request.url == f"/face/{VERSION}/{VERIFY}/singleModal"
    assert refused[1].digest == hashlib.sha256(crossed.request.body).hexdigest()
    assert refused[1].request.content_length == len(crossed.request.body)

    # A session created without a verify image needs one with the frames.
    missing = burst(face_server, other.auth_token, open_challenge["challengeId"], lf.spoof_frames(still, "flat", count=6))
    assert missing.status_code == 400 and error_code(missing) == "BadArgument" and "VerifyImage" in missing.json()["error"]["message"]

    # The audit trail of the first session: three challenges handed out, the fourth refused.
    entries = faces.get_liveness_with_verify_session_audit_entries(first.session_id)
    assert [entry.id for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry.response.status_code for entry in entries] == [200, 200, 200, 403, 403]
    assert [entry.client_request_id for entry in entries[:3]] == ["try-1", "try-2", "try-3"]
    assert entries[0].response.body["challenge"]["challengeId"] == challenges[0]["challengeId"]
    assert [entry.id for entry in faces.get_liveness_with_verify_session_audit_entries(first.session_id, start=2, top=2)] == [3, 4]

    # Deleting a session revokes its token at once.
    faces.delete_liveness_with_verify_session(other.session_id)
    revoked = client_call(face_server, other.auth_token, "/challenge")
    assert revoked.status_code == 401 and error_code(revoked) == "SessionRevoked"

    # The 60-second token expires while its session lives on.
    time.sleep(max(0, 61 - (time.monotonic() - made_at)))
    expired = client_call(face_server, short.auth_token, "/challenge")
    assert expired.status_code == 401 and error_code(expired) == "TokenExpired"
    session = faces.get_liveness_with_verify_session_result(short.session_id)
    assert session.status == "NotStarted" and session.session_expired is False
    audit = faces.get_liveness_with_verify_session_audit_entries(short.session_id)
    assert [entry.response.body["error"]["code"] for entry in audit] == ["TokenExpired"]


def fresh_challenge(server, faces, image=None, send=True, threshold=None):
    settings = {"send_results_to_client": send}
    if threshold is not None:
        settings["verify_confidence_threshold"] = threshold
    created = faces.create_liveness_with_verify_session(verify_content(**settings), verify_image=image)
    challenge = client_call(server, created.auth_token, "/challenge").json()
    return created, challenge


@pytest.mark.parametrize("photo", ["img2.jpg", "img29.jpg"])
def test_prints_and_screens_are_never_realface(face_server, stills, photo):
    faces = face_client(face_server)
    still, _ = stills[photo]
    decisions = {}
    for motion in lf.SPOOF_MOTIONS:
        for screen in (False, True):
            created, challenge = fresh_challenge(face_server, faces, image=(FACES / "img1.jpg").read_bytes())
            response = burst(face_server, created.auth_token, challenge["challengeId"], lf.spoof_frames(still, motion, screen=screen))
            assert response.status_code == 200, response.text
            body = response.json()
            decisions[(motion, screen)] = body["livenessDecision"]
            assert body["livenessDecision"] in ("spoofface", "uncertain"), (motion, screen, body)
            assert "verifyResult" not in body  # no verification of a face that is not live
            session = faces.get_liveness_with_verify_session_result(created.session_id)
            assert session.status == "ResultAvailable"
            assert session.result.response.body["livenessDecision"] == body["livenessDecision"]
    # Tilted prints and a hand's motion change the face's shape: those are named spoofs.
    for motion in ("tilted-yaw", "tilted-pitch", "handheld"):
        assert decisions[(motion, False)] == "spoofface", decisions


def test_a_turning_head_is_realface_and_verified(face_server, stills):
    faces = face_client(face_server)
    still, points = stills["img2.jpg"]
    reference = (FACES / "img1.jpg").read_bytes()  # another photo of the same person

    created, challenge = fresh_challenge(face_server, faces, image=reference)
    frames = lf.head_frames(still, points, challenge["challenge"])
    response = burst(face_server, created.auth_token, challenge["challengeId"], frames)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["livenessDecision"] == "realface", body
    assert body["verifyResult"]["isIdentical"] is True and body["verifyResult"]["matchConfidence"] >= 0.5
    assert body["checkDetails"]["challenge"] == challenge["challenge"]
    session = faces.get_liveness_with_verify_session_result(created.session_id)
    assert session.status == "ResultAvailable" and session.session_start_date_time is not None
    result = session.result
    assert result.response.body["verifyResult"]["isIdentical"] is True
    assert result.response.body["target"]["faceRectangle"]["width"] > 50
    assert result.request.content_type.startswith("multipart/form-data") and result.response.latency_in_milliseconds > 0

    # The same head against another person's photo: live, but not identical.
    created, challenge = fresh_challenge(face_server, faces, image=(FACES / "img29.jpg").read_bytes(), send=False)
    response = burst(face_server, created.auth_token, challenge["challengeId"], lf.head_frames(still, points, challenge["challenge"]))
    assert response.status_code == 204 and response.content == b""
    result = faces.get_liveness_with_verify_session_result(created.session_id).result.response.body
    assert result["livenessDecision"] == "realface"
    assert result["verifyResult"]["isIdentical"] is False and result["verifyResult"]["matchConfidence"] < 0.5

    # Turning the other way than asked is not a pass.
    created, challenge = fresh_challenge(face_server, faces, image=reference)
    opposite = {"turnLeft": "turnRight", "turnRight": "turnLeft", "lookUp": "lookDown", "lookDown": "lookUp"}[challenge["challenge"]]
    response = burst(face_server, created.auth_token, challenge["challengeId"], lf.head_frames(still, points, opposite))
    assert response.json()["livenessDecision"] == "uncertain"

    # A session without a reference takes it with the frames; a liveness session needs none.
    created, challenge = fresh_challenge(face_server, faces)
    response = burst(face_server, created.auth_token, challenge["challengeId"], lf.head_frames(still, points, challenge["challenge"]),
                     verify_image=reference)
    assert response.json()["verifyResult"]["isIdentical"] is True
    liveness = faces.create_liveness_session(CreateLivenessSessionContent(
        liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=str(uuid.uuid4()), send_results_to_client=True))
    challenge = client_call(face_server, liveness.auth_token, "/challenge", kind="detectLiveness").json()
    response = burst(face_server, liveness.auth_token, challenge["challengeId"], lf.head_frames(still, points, challenge["challenge"]),
                     kind="detectLiveness")
    assert response.json()["livenessDecision"] == "realface" and "verifyResult" not in response.json()
    # An answered challenge cannot be answered again.
    again = burst(face_server, liveness.auth_token, challenge["challengeId"], lf.head_frames(still, points, challenge["challenge"]),
                  kind="detectLiveness")
    assert again.status_code == 403 and error_code(again) == "ChallengeMismatch"


def test_liveness_is_refused_when_faces_are_aligned_on_five_landmarks(tmp_path):
    running = Server(tmp_path / "data", env=clean_env(VISAGE_FACE_API_KEY=KEY, VISAGE_LANDMARKS="5"))
    try:
        faces = face_client(running)
        with pytest.raises(HttpResponseError) as refused:
            faces.create_liveness_session(CreateLivenessSessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=str(uuid.uuid4())))
        assert refused.value.status_code == 501 and "68-point" in str(refused.value)
        assert list(faces.get_liveness_sessions()) == []
    finally:
        running.stop()


def test_ga_contract_sessions(face_server):
    """The GA v1.2 paths (no SDK of ours speaks them): flat multipart create, get, delete → 204."""
    headers = {"Ocp-Apim-Subscription-Key": KEY}
    base = f"{face_server.url}/face/v1.2"
    fields = {"livenessOperationMode": (None, "PassiveActive"), "deviceCorrelationId": (None, str(uuid.uuid4())),
              "authTokenTimeToLiveInSeconds": (None, "300"), "verifyConfidenceThreshold": (None, "0.6")}
    missing = requests.post(base + "/detectLivenessWithVerify-sessions", headers=headers, files=fields, timeout=60)
    assert missing.status_code == 400 and error_code(missing) == "BadArgument" and "verifyImage" in missing.json()["error"]["message"]
    created = requests.post(base + "/detectLivenessWithVerify-sessions", headers=headers, timeout=60,
                            files={**fields, "verifyImage": ("face.jpg", (FACES / "img1.jpg").read_bytes())})
    assert created.status_code == 200, created.text
    session = created.json()
    assert session["status"] == "NotStarted" and session["authToken"].startswith("v1.") and session["results"]["attempts"] == []
    assert session["results"]["verifyReferences"][0]["referenceType"] == "image"
    fetched = requests.get(f"{base}/detectLivenessWithVerify-sessions/{session['sessionId']}", headers=headers, timeout=10).json()
    assert fetched["sessionId"] == session["sessionId"] and fetched["authToken"] == session["authToken"]
    # The client's challenge works under the GA version too, and the session is then running.
    challenge = requests.post(f"{base}/detectLivenessWithVerify/singleModal/challenge",
                              headers={"Authorization": "Bearer " + session["authToken"]}, timeout=10)
    assert challenge.status_code == 200
    fetched = requests.get(f"{base}/detectLivenessWithVerify-sessions/{session['sessionId']}", headers=headers, timeout=10).json()
    assert fetched["status"] == "Running"
    liveness = requests.post(base + "/detectLiveness-sessions", headers=headers, timeout=10,
                             json={"livenessOperationMode": "Passive", "deviceCorrelationId": str(uuid.uuid4())})
    assert liveness.status_code == 200 and "verifyReferences" not in liveness.json()["results"]
    deleted = requests.delete(f"{base}/detectLivenessWithVerify-sessions/{session['sessionId']}", headers=headers, timeout=10)
    assert deleted.status_code == 204
    gone = requests.get(f"{base}/detectLivenessWithVerify-sessions/{session['sessionId']}", headers=headers, timeout=10)
    assert gone.status_code == 404 and error_code(gone) == "SessionNotFound"


def test_sessions_on_postgresql(postgres_database, tmp_path, stills):
    """The same session store on PostgreSQL: create, attempts, a decision, audit, list, delete."""
    server = Server(tmp_path / "data", env=clean_env(VISAGE_FACE_API_KEY=KEY, VISAGE_DATABASE_URL=postgres_database))
    try:
        faces = face_client(server)
        created = faces.create_liveness_with_verify_session(verify_content(send_results_to_client=True),
                                                            verify_image=(FACES / "img1.jpg").read_bytes())
        challenge = client_call(server, created.auth_token, "/challenge").json()
        still, points = stills["img2.jpg"]
        response = burst(server, created.auth_token, challenge["challengeId"], lf.head_frames(still, points, challenge["challenge"]))
        assert response.json()["livenessDecision"] == "realface" and response.json()["verifyResult"]["isIdentical"] is True
        for _ in range(2):
            assert client_call(server, created.auth_token, "/challenge").status_code == 200
        assert error_code(client_call(server, created.auth_token, "/challenge")) == "AttemptsExhausted"
        session = faces.get_liveness_with_verify_session_result(created.session_id)
        assert session.status == "ResultAvailable" and session.result.id == 2
        entries = faces.get_liveness_with_verify_session_audit_entries(created.session_id)
        assert [entry.response.status_code for entry in entries] == [200, 200, 200, 200, 403]
        assert [item.id for item in faces.get_liveness_with_verify_sessions()] == [created.session_id]
        faces.delete_liveness_with_verify_session(created.session_id)
        assert error_code(client_call(server, created.auth_token, "/challenge")) == "SessionRevoked"
    finally:
        server.stop()
