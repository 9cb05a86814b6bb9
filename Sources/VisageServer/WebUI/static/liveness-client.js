"use strict";

// Visage liveness client: runs the device side of a liveness session in a browser.
//
//   const check = new VisageLiveness.Check({ authToken, kind: "detectLivenessWithVerify" });
//   await check.open(videoElement);                  // getUserMedia, shown in the video element
//   const result = await check.run({ onInstruction: (text) => show(text) });
//   // result: { status: 200, body: {...} } or { status: 204 } when results go to the server only
//
// One attempt = ask the server for a challenge, show its instruction, capture a burst of frames
// while the person follows it, and send them (multipart form: Parameters + Frame parts; see
// docs/liveness.md). The session token allows a few attempts; the server decides.
(function (global) {
  class LivenessError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  class Check {
    constructor(options) {
      this.authToken = options.authToken;
      this.kind = options.kind || "detectLivenessWithVerify";
      this.apiVersion = options.apiVersion || "v1.2-preview.1";
      this.baseUrl = (options.baseUrl || "").replace(/\/$/, "");
      this.frameCount = options.frameCount || 10;
      this.captureMs = options.captureMs || 2500;
      this.width = options.width || 640;
      this.height = options.height || 480;
      this.verifyImage = options.verifyImage || null; // a Blob, when the session has none
      this.video = null;
      this.stream = null;
    }

    url(suffix) {
      return this.baseUrl + "/face/" + this.apiVersion + "/" + this.kind + "/singleModal" + suffix;
    }

    async open(video) {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: this.width, height: this.height, facingMode: "user" }, audio: false,
      });
      video.srcObject = this.stream;
      video.muted = true;
      video.playsInline = true;
      await video.play();
      this.video = video;
    }

    close() {
      if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
      this.stream = null;
    }

    async challenge() {
      const response = await fetch(this.url("/challenge"), {
        method: "POST", headers: { Authorization: "Bearer " + this.authToken }, cache: "no-store",
      });
      return this.read(response);
    }

    // Frames as the camera sees them (not mirrored), JPEG, evenly spaced over captureMs.
    async capture(onProgress) {
      const canvas = document.createElement("canvas");
      canvas.width = this.video.videoWidth || this.width;
      canvas.height = this.video.videoHeight || this.height;
      const context = canvas.getContext("2d");
      const frames = [];
      const interval = this.captureMs / Math.max(1, this.frameCount - 1);
      for (let i = 0; i < this.frameCount; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, interval));
        context.drawImage(this.video, 0, 0, canvas.width, canvas.height);
        frames.push(await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9)));
        if (onProgress) onProgress(i + 1, this.frameCount);
      }
      return frames;
    }

    async send(challenge, frames) {
      const form = new FormData();
      form.append("Parameters", JSON.stringify({ challengeId: challenge.challengeId }));
      frames.forEach((frame, i) => form.append("Frame", frame, "frame-" + i + ".jpg"));
      if (this.verifyImage) form.append("VerifyImage", this.verifyImage, "verify-image");
      const response = await fetch(this.url(""), {
        method: "POST", headers: { Authorization: "Bearer " + this.authToken }, body: form,
      });
      if (response.status === 204) return { status: 204 };
      return { status: response.status, body: await this.read(response) };
    }

    // One attempt: challenge, instruction, burst, decision.
    async run(callbacks) {
      const on = callbacks || {};
      const challenge = await this.challenge();
      if (on.onInstruction) on.onInstruction(challenge.instruction, challenge);
      const frames = await this.capture(on.onProgress);
      if (on.onInstruction) on.onInstruction("Checking…", challenge);
      return this.send(challenge, frames);
    }

    async read(response) {
      const text = await response.text();
      let body = {};
      try { body = text ? JSON.parse(text) : {}; } catch (error) { body = {}; }
      if (!response.ok) {
        const error = body.error || {};
        throw new LivenessError(response.status, error.code || String(response.status), error.message || response.statusText);
      }
      return body;
    }
  }

  global.VisageLiveness = { Check, LivenessError };
})(window);
