"use strict";

// The Liveness page: with a Face API key the page acts as the application server (creates a
// session, reads its result and audit trail through the same API the SDKs use), and with the
// session's token as the checking device (VisageLiveness from liveness-client.js).

const livenessVersion = "v1.2-preview.1";
let livenessSession = null;

function livenessKind() {
  return livenessSession && livenessSession.verify ? "detectLivenessWithVerify" : "detectLiveness";
}

async function faceApi(method, path, body) {
  const headers = { "Ocp-Apim-Subscription-Key": document.getElementById("liveness-key").value.trim() };
  const init = { method, headers, cache: "no-store" };
  if (body instanceof FormData) init.body = body;
  else if (body) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch("/face/" + livenessVersion + "/" + path, init);
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(parsed && parsed.error ? parsed.error.code + ": " + parsed.error.message : "HTTP " + response.status);
  return parsed;
}

function randomGuid() {
  return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g,
    (c) => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16));
}

async function createLivenessSession(event) {
  event.preventDefault();
  const status = document.getElementById("liveness-status");
  const button = document.getElementById("liveness-create");
  button.disabled = true;
  status.textContent = "Creating a session…";
  status.dataset.state = "";
  try {
    const file = document.getElementById("liveness-verify").files[0];
    const parameters = {
      livenessOperationMode: "PassiveActive", deviceCorrelationId: randomGuid(),
      sendResultsToClient: document.getElementById("liveness-results").checked,
    };
    let created;
    if (file) {
      const form = new FormData();
      form.append("Parameters", JSON.stringify(parameters));
      form.append("VerifyImage", file, "verify-image");
      created = await faceApi("POST", "detectLivenessWithVerify/singleModal/sessions", form);
    } else {
      created = await faceApi("POST", "detectLiveness/singleModal/sessions", parameters);
    }
    livenessSession = { id: created.sessionId, token: created.authToken, verify: Boolean(file) };
    document.getElementById("liveness-session").hidden = false;
    document.getElementById("liveness-session-id").textContent = created.sessionId;
    const reference = created.verifyImage;
    document.getElementById("liveness-reference").textContent = reference
      ? "found, quality " + reference.qualityForRecognition : "none (liveness only)";
    document.getElementById("liveness-decision").textContent = "–";
    document.getElementById("liveness-verify-result").textContent = "–";
    document.getElementById("liveness-reasons").textContent = "–";
    status.textContent = "Session created. Start the check.";
    status.dataset.state = "ok";
    await refreshLivenessAudit();
  } catch (error) {
    status.textContent = "Could not create the session: " + error.message;
    status.dataset.state = "bad";
  } finally {
    button.disabled = false;
  }
}

async function startLivenessCheck() {
  const button = document.getElementById("liveness-start");
  const instruction = document.getElementById("liveness-instruction");
  const progress = document.getElementById("liveness-progress");
  button.disabled = true;
  const check = new VisageLiveness.Check({ authToken: livenessSession.token, kind: livenessKind(), apiVersion: livenessVersion });
  try {
    await check.open(document.getElementById("liveness-video"));
    const result = await check.run({
      onInstruction: (text, challenge) => {
        instruction.textContent = text;
        instruction.dataset.challenge = challenge.challenge;
      },
      onProgress: (done, total) => { progress.max = total; progress.value = done; },
    });
    instruction.textContent = result.status === 204 ? "Done: the decision went to the application server." : "Done.";
  } catch (error) {
    instruction.textContent = "The check failed: " + error.message;
  } finally {
    check.close();
    button.disabled = false;
    await showLivenessResult();
  }
}

async function showLivenessResult() {
  const kind = livenessKind();
  const session = await faceApi("GET", kind + "/singleModal/sessions/" + livenessSession.id);
  const body = session.result && session.result.response.body;
  const decision = document.getElementById("liveness-decision");
  decision.textContent = body && body.livenessDecision ? body.livenessDecision : session.status;
  decision.dataset.decision = body && body.livenessDecision ? body.livenessDecision : "";
  const verify = body && body.verifyResult;
  document.getElementById("liveness-verify-result").textContent = verify
    ? (verify.isIdentical ? "same person" : "different person") + " (match confidence " + verify.matchConfidence.toFixed(2) + ")"
    : livenessSession.verify ? "not verified (no live face)" : "no verify image";
  document.getElementById("liveness-reasons").textContent =
    body && body.checkDetails ? body.checkDetails.reasons.join("; ") : "–";
  await refreshLivenessAudit();
}

async function refreshLivenessAudit() {
  const entries = await faceApi("GET", livenessKind() + "/singleModal/sessions/" + livenessSession.id + "/audit");
  const rows = document.getElementById("liveness-audit-rows");
  rows.replaceChildren(...entries.map((entry) => {
    const row = document.createElement("tr");
    const body = entry.response.body || {};
    const outcome = body.livenessDecision || (body.challenge ? "challenge: " + body.challenge.challenge
      : body.error ? body.error.code : "");
    [String(entry.id), new Date(entry.receivedDateTime).toLocaleTimeString(), entry.request.method + " " + entry.request.url,
      String(entry.response.statusCode), outcome, entry.response.latencyInMilliseconds + " ms"].forEach((text) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    });
    return row;
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("liveness-form").addEventListener("submit", createLivenessSession);
  document.getElementById("liveness-start").addEventListener("click", startLivenessCheck);
});
