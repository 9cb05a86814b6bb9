"""Seed 003's human review end to end: DetectModerationLabels with HumanLoopConfig through boto3
starts a review for a borderline label, a person decides it on the Moderation page in headless
Chromium (by keyboard and by button), and the decision is read back through boto3's
sagemaker-a2i-runtime client and the output document in the store; reviews survive a restart."""
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import rekognition
import s3
from alibaba import root_ram
from conftest import Server, clean_env
from test_web_ui import browser, severe  # noqa: F401  (the browser fixture)

FLOW = "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/moderation"


def photo(name):
    root = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
    return ((root if root.is_dir() else Path("/work/shared/testdata")) / name).read_bytes()


def start(client, name, image="faces-east-asia-lfw/jackie_chan/Jackie_Chan_0007.jpg"):
    return client.detect_moderation_labels(Image={"Bytes": photo(image)}, HumanLoopConfig={
        "HumanLoopName": name, "FlowDefinitionArn": FLOW,
        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}})


def test_a_borderline_label_is_reviewed_in_the_browser_and_read_back(tmp_path, browser):  # noqa: F811
    # A band of 20-50: this press photo's weak (mistaken) genitals detection, about 42, is borderline.
    env = clean_env(VISAGE_REVIEW_BAND="20-50", VISAGE_REVIEW_PENDING_LIMIT="2")
    server = Server(tmp_path / "data", env=env)
    try:
        root, _ = root_ram(server)
        client = rekognition.root_client(server, root)
        store = s3.root_client(server, root)
        store.create_bucket(Bucket="human-review-output")

        answer = start(client, "portrait-45")
        assert answer["ModerationLabels"] == []  # nothing at the default MinConfidence...
        activation = answer["HumanLoopActivationOutput"]  # ...but borderline labels go to a person
        assert activation["HumanLoopArn"] == f"arn:aws:sagemaker:us-east-1:{root['AccountId']}:human-loop/portrait-45"
        assert activation["HumanLoopActivationReasons"] == ["ConditionsEvaluation"]
        evaluation = json.loads(activation["HumanLoopActivationConditionsEvaluationResults"])
        conditions = evaluation["Conditions"][0]["Or"]
        assert evaluation["Conditions"][0]["EvaluationResult"] is True
        assert {c["ConditionParameters"]["ModerationLabelName"] for c in conditions} >= {"Explicit", "Exposed Male Genitalia"}
        assert all(c["EvaluationResult"] == (20 <= c["ConditionParameters"]["Confidence"] < 50) for c in conditions)

        # An image with no label in the band starts nothing.
        plain = io.BytesIO()
        Image.new("RGB", (240, 180), (90, 140, 200)).save(plain, format="PNG")
        calm = client.detect_moderation_labels(Image={"Bytes": plain.getvalue()}, HumanLoopConfig={
            "HumanLoopName": "calm-one", "FlowDefinitionArn": FLOW})["HumanLoopActivationOutput"]
        assert "HumanLoopArn" not in calm
        assert json.loads(calm["HumanLoopActivationConditionsEvaluationResults"])["Conditions"][0]["EvaluationResult"] is False

        # Names are unique; the account may have two open reviews.
        with pytest.raises(client.exceptions.InvalidParameterException):
            start(client, "portrait-45")
        start(client, "portrait-45-again")
        with pytest.raises(client.exceptions.HumanLoopQuotaExceededException):
            start(client, "one-too-many")

        a2i = rekognition.root_client(server, root, service="sagemaker-a2i-runtime")
        described = a2i.describe_human_loop(HumanLoopName="portrait-45")
        assert described["HumanLoopStatus"] == "InProgress" and described["FlowDefinitionArn"] == FLOW
        assert described["HumanLoopArn"] == activation["HumanLoopArn"] and "HumanLoopOutput" not in described
        listed = a2i.list_human_loops(FlowDefinitionArn=FLOW, SortOrder="Ascending")["HumanLoopSummaries"]
        assert [s["HumanLoopName"] for s in listed] == ["portrait-45", "portrait-45-again"]
        assert [s["HumanLoopName"] for s in a2i.list_human_loops(FlowDefinitionArn=FLOW, MaxResults=1)["HumanLoopSummaries"]] \
            == ["portrait-45-again"]
        with pytest.raises(a2i.exceptions.ResourceNotFoundException):
            a2i.describe_human_loop(HumanLoopName="no-such-loop")

        # The review survives a restart.
        server.stop()
        server = Server(tmp_path / "data", env=env)
        a2i = rekognition.root_client(server, root, service="sagemaker-a2i-runtime")
        client, store = rekognition.root_client(server, root), s3.root_client(server, root)
        assert a2i.describe_human_loop(HumanLoopName="portrait-45")["HumanLoopStatus"] == "InProgress"

        # The reviewer's page: the image, the labels, keyboard decisions.
        browser.get(server.url + "/ui/#moderation")
        card = WebDriverWait(browser, 10).until(lambda d: next(
            (c for c in d.find_elements(By.CSS_SELECTOR, "#moderation-queue .review") if c.find_element(By.TAG_NAME, "h3").text == "portrait-45"),
            None))
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "return arguments[0].querySelector('img').naturalWidth", card) > 0)
        review_id = card.get_attribute("data-review")
        rows = card.find_elements(By.CSS_SELECTOR, "tr.review-label")
        names = [r.find_element(By.TAG_NAME, "td").text.split("\n")[0] for r in rows]
        assert {"Explicit", "Explicit Nudity", "Exposed Male Genitalia"} <= set(names)
        # Select this review's first label, then: reject it by key, approve the rest (by key, then a button).
        rows[0].find_element(By.TAG_NAME, "td").click()
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("r")
        row_selector = f'#moderation-queue .review[data-review="{review_id}"] tr.review-label'

        def rows_state(d):
            """(verdict, selected) of this review's label rows, read in one step (the page redraws)."""
            return d.execute_script("return Array.from(document.querySelectorAll(arguments[0]))"
                                    ".map(r => [r.dataset.verdict, r.classList.contains('selected')])", row_selector)

        def click_approve(index):
            for _ in range(10):
                try:
                    return browser.find_elements(By.CSS_SELECTOR, row_selector)[index].find_element(
                        By.CSS_SELECTOR, 'button[data-verdict="approve"]').click()
                except StaleElementReferenceException:
                    continue
            raise AssertionError("the approve button kept being redrawn")

        WebDriverWait(browser, 5).until(lambda d: rows_state(d)[0] == ["reject", True])
        for index in range(1, len(names)):
            if index < len(names) - 1:
                body.send_keys("j")
                WebDriverWait(browser, 5).until(lambda d: rows_state(d)[index][1])
                body.send_keys("a")
                WebDriverWait(browser, 5).until(lambda d: rows_state(d)[index][0] == "approve")
            else:
                click_approve(index)
        # Completed: it leaves the queue and appears in the decision history.
        history = WebDriverWait(browser, 10).until(
            lambda d: d.find_element(By.CSS_SELECTOR, f'#moderation-history-rows tr[data-review="{review_id}"]'))
        assert history.text.count("Approved") == len(names) - 1 and history.text.count("Rejected") == 1
        assert browser.find_elements(By.CSS_SELECTOR, f'#moderation-queue .review[data-review="{review_id}"]') == []
        assert severe(browser) == []

        # Read back as a user's code would: the A2I runtime, then the output document in the store.
        done = a2i.describe_human_loop(HumanLoopName="portrait-45")
        assert done["HumanLoopStatus"] == "Completed"
        uri = done["HumanLoopOutput"]["OutputS3Uri"]
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        output = json.loads(store.get_object(Bucket=bucket, Key=key)["Body"].read())
        approved = output["humanAnswers"][0]["answerContent"]["AWS/Rekognition/DetectModerationLabels/Image/V3"]["moderationLabels"]
        assert sorted(label["name"] for label in approved) == sorted(names[1:])
        assert output["humanLoopName"] == "portrait-45" and output["flowDefinitionArn"] == FLOW
        assert [d["verdict"] for d in output["decisionHistory"]] == ["reject"] + ["approve"] * (len(names) - 1)
        assert {s["HumanLoopName"]: s["HumanLoopStatus"] for s in a2i.list_human_loops(FlowDefinitionArn=FLOW)["HumanLoopSummaries"]} \
            == {"portrait-45": "Completed", "portrait-45-again": "InProgress"}
        # One fewer open review: a new one may start again.
        assert "HumanLoopArn" in start(client, "after-the-review")["HumanLoopActivationOutput"]
    finally:
        server.stop()
