"use strict";

// The Upload page: the browser asks this server's token endpoint for short-lived credentials,
// signs its own requests with them (WebCrypto; no long-term secret ever reaches the page), PUTs
// the photo straight into the bucket, then asks DetectImageFaces for its faces.

const encoder = new TextEncoder();
let cachedCredentials = null;
let uploadConfig = null;

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

async function hmac(algorithm, key, text) {
  const imported = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: algorithm }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", imported, encoder.encode(text));
}

async function sha256Hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

// RFC 3986 encoding, as the signatures canonicalise names and values.
function rfc3986(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

// Credentials are reused until one minute before they expire.
async function credentials() {
  if (cachedCredentials && Date.parse(cachedCredentials.Expiration) - Date.now() > 60000) return cachedCredentials;
  const headers = {};
  const secret = document.getElementById("upload-secret").value;
  if (secret) headers.Authorization = "Bearer " + secret;
  const response = await fetch("/visage/v1/upload/sts-token", { headers, cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : "the token endpoint answered " + response.status);
  cachedCredentials = body;
  document.getElementById("upload-status").dataset.tokenFetches =
    String(Number(document.getElementById("upload-status").dataset.tokenFetches || 0) + 1);
  return body;
}

// PutObject signed with OSS's V1 scheme; browsers may not set Date, so x-oss-date stands in.
async function putObject(creds, bucket, key, file) {
  const date = new Date().toUTCString();
  const type = file.type || "application/octet-stream";
  const ossHeaders = { "x-oss-date": date, "x-oss-security-token": creds.SecurityToken };
  const canonical = Object.keys(ossHeaders).sort().map((name) => name + ":" + ossHeaders[name] + "\n").join("");
  const stringToSign = ["PUT", "", type, date].join("\n") + "\n" + canonical + "/" + bucket + "/" + key;
  const signature = base64(await hmac("SHA-1", creds.AccessKeySecret, stringToSign));
  const path = "/" + bucket + "/" + key.split("/").map(encodeURIComponent).join("/");
  const response = await fetch(path, {
    method: "PUT", body: file,
    headers: { ...ossHeaders, "Content-Type": type, Authorization: "OSS " + creds.AccessKeyId + ":" + signature },
  });
  if (!response.ok) {
    const text = await response.text();
    const code = (text.match(/<Code>([^<]*)<\/Code>/) || [])[1] || response.status;
    throw new Error("the upload was refused: " + code);
  }
}

// An RPC call signed with ACS3-HMAC-SHA256, the scheme the official SDKs use by default.
async function rpc(creds, action, version, params) {
  const query = Object.keys(params).sort().map((k) => rfc3986(k) + "=" + rfc3986(params[k])).join("&");
  const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
  const headers = {
    host: location.host,
    "x-acs-action": action,
    "x-acs-content-sha256": await sha256Hex(""),
    "x-acs-date": new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    "x-acs-security-token": creds.SecurityToken,
    "x-acs-signature-nonce": nonce,
    "x-acs-version": version,
  };
  const names = Object.keys(headers).sort();
  const canonicalRequest = ["POST", "/", query, names.map((n) => n + ":" + headers[n] + "\n").join(""), names.join(";"),
    headers["x-acs-content-sha256"]].join("\n");
  const stringToSign = "ACS3-HMAC-SHA256\n" + await sha256Hex(canonicalRequest);
  const signature = hex(await hmac("SHA-256", creds.AccessKeySecret, stringToSign));
  const sent = { ...headers };
  delete sent.host;  // the browser sends Host itself
  sent.Authorization = "ACS3-HMAC-SHA256 Credential=" + creds.AccessKeyId + ",SignedHeaders=" + names.join(";") + ",Signature=" + signature;
  const response = await fetch("/?" + query, { method: "POST", headers: sent });
  const body = await response.json();
  if (!response.ok) throw new Error(action + " failed: " + body.Code + " (" + body.Message + ")");
  return body;
}

function drawFaces(image, faces) {
  const boxes = document.getElementById("upload-boxes");
  const rows = document.getElementById("upload-faces");
  boxes.replaceChildren();
  rows.replaceChildren();
  faces.forEach((face, index) => {
    const b = face.Boundary;
    const box = document.createElement("div");
    box.className = "face-box";
    box.style.left = (100 * b.Left / image.naturalWidth) + "%";
    box.style.top = (100 * b.Top / image.naturalHeight) + "%";
    box.style.width = (100 * b.Width / image.naturalWidth) + "%";
    box.style.height = (100 * b.Height / image.naturalHeight) + "%";
    Object.assign(box.dataset, { left: b.Left, top: b.Top, width: b.Width, height: b.Height });
    const label = document.createElement("span");
    label.textContent = String(index + 1);
    box.append(label);
    boxes.append(box);
    const row = document.createElement("tr");
    const pose = face.HeadPose;
    for (const text of [index + 1, `${b.Left}, ${b.Top}, ${b.Width}×${b.Height}`, face.FaceQuality.toFixed(2),
      `pitch ${pose.Pitch}°, yaw ${pose.Yaw}°, roll ${pose.Roll}°`, face.Mouth]) {
      const cell = document.createElement("td");
      cell.textContent = String(text);
      row.append(cell);
    }
    rows.append(row);
  });
}

async function uploadAndDetect(event) {
  event.preventDefault();
  const status = document.getElementById("upload-status");
  const button = document.getElementById("upload-button");
  const file = document.getElementById("upload-file").files[0];
  if (!file) return;
  button.disabled = true;
  status.dataset.state = "";
  // The last photo's boxes must not stay beside a new attempt, least of all a failed one.
  document.getElementById("upload-result").hidden = true;
  document.getElementById("upload-boxes").replaceChildren();
  document.getElementById("upload-faces").replaceChildren();
  try {
    status.textContent = "Getting temporary credentials…";
    const creds = await credentials();
    const key = "uploads/" + file.name;
    status.textContent = "Uploading " + file.name + "…";
    await putObject(creds, uploadConfig.Bucket, key, file);
    status.textContent = "Finding faces…";
    const result = await rpc(creds, "DetectImageFaces", "2020-09-30",
      { ProjectName: uploadConfig.Project, SourceURI: "oss://" + uploadConfig.Bucket + "/" + key });
    const image = document.getElementById("upload-image");
    image.src = URL.createObjectURL(file);
    await image.decode();
    drawFaces(image, result.Faces);
    document.getElementById("upload-result").hidden = false;
    document.getElementById("upload-empty").hidden = true;
    status.textContent = result.Faces.length === 1 ? "1 face found." : result.Faces.length + " faces found.";
    status.dataset.state = "ok";
    status.dataset.faces = String(result.Faces.length);
  } catch (error) {
    status.textContent = "Failed: " + error.message;
    status.dataset.state = "bad";
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("upload-form").addEventListener("submit", uploadAndDetect);
  try {
    uploadConfig = await (await fetch("/visage/v1/upload/config", { cache: "no-store" })).json();
  } catch (error) {
    return;
  }
  const target = document.getElementById("upload-target");
  target.textContent = "Photos go to oss://" + uploadConfig.Bucket + "/uploads/ and are read in project " + uploadConfig.Project + ".";
  if (uploadConfig.NeedsSecret) {
    document.getElementById("upload-secret").hidden = false;
    document.getElementById("upload-secret-label").hidden = false;
  }
  if (!uploadConfig.Configured) {
    target.replaceChildren("Uploads are not set up yet: run ", Object.assign(document.createElement("code"),
      { textContent: "visage upload-setup" }), " once, then restart the server (or set VISAGE_UPLOAD_USER and VISAGE_UPLOAD_ROLE).");
    document.getElementById("upload-button").disabled = true;
  }
});
