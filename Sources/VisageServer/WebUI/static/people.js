"use strict";

// The People page: a dataset's people as cards cut from their cover photos, one person's faces,
// and the corrections the server keeps (rename, merge, "not this person").
(function () {
  const CROP = 112; // px: the size of .face-crop in app.css
  let datasets = [];
  let people = [];
  let open = null; // the id of the person whose faces are shown

  const $ = (id) => document.getElementById(id);
  const label = (person) => person.Name || "Unnamed";
  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
  const datasetKey = (d) => [d.AccountId, d.ProjectName, d.DatasetName].join("/");

  function scope() {
    const d = datasets[Number($("people-dataset").value)];
    return d ? { account: d.AccountId, project: d.ProjectName, dataset: d.DatasetName } : null;
  }

  // encodeURIComponent rather than URLSearchParams: the server does not read "+" as a space.
  function query(extra) {
    return Object.entries(Object.assign(scope(), extra || {}))
      .map(([name, value]) => name + "=" + encodeURIComponent(value)).join("&");
  }

  async function call(path, body) {
    const options = body === undefined ? { cache: "no-store" } : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(Object.assign(scope(), body)),
    };
    const response = await fetch(path, options);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((answer.error && answer.error.message) || "HTTP " + response.status);
    return answer;
  }

  function say(text, state) {
    const status = $("people-status");
    status.textContent = text;
    status.dataset.state = state || "";
  }

  // Cuts a face out of its photo with CSS alone: the photo is scaled so that a square half again
  // as wide as the face box fills the tile, and shifted so that square is what shows.
  function crop(face) {
    const div = document.createElement("div");
    div.className = "face-crop";
    const box = face && face.Boundary;
    if (!box || !face.ImageWidth || !face.ImageHeight) return div;
    const side = Math.max(box.Width, box.Height) * 1.5;
    const scale = CROP / side;
    const left = box.Left + box.Width / 2 - side / 2;
    const top = box.Top + box.Height / 2 - side / 2;
    div.style.backgroundImage = 'url("/visage/v1/people/photo?' + query({ uri: face.URI }) + '")';
    div.style.backgroundSize = face.ImageWidth * scale + "px " + face.ImageHeight * scale + "px";
    div.style.backgroundPosition = -left * scale + "px " + -top * scale + "px";
    div.dataset.uri = face.URI;
    return div;
  }

  function card(person) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "person-card";
    button.dataset.person = person.ObjectId;
    button.setAttribute("aria-pressed", String(person.ObjectId === open));
    const name = document.createElement("span");
    name.className = "person-name" + (person.Name ? "" : " unnamed");
    name.textContent = label(person);
    const count = document.createElement("span");
    count.className = "person-count";
    count.textContent = plural(person.ImageCount, "photo");
    button.append(crop(person.Cover), name, count);
    button.addEventListener("click", () => show(person.ObjectId));
    return button;
  }

  function tile(face) {
    const figure = document.createElement("figure");
    figure.className = "face-tile";
    figure.dataset.figure = face.FigureId;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "face-remove";
    remove.textContent = "Not this person";
    remove.addEventListener("click", () =>
      act(remove, "/visage/v1/people/faces/" + encodeURIComponent(face.FigureId) + "/remove", {}, "The face was taken out of this person."));
    figure.append(crop(face), remove);
    return figure;
  }

  async function loadDatasets() {
    const select = $("people-dataset");
    const previous = scope() && datasetKey(datasets[Number(select.value)]);
    datasets = (await call("/visage/v1/people/datasets")).Datasets;
    // The account is named only when more than one has datasets.
    const accounts = new Set(datasets.map((d) => d.AccountId)).size;
    select.replaceChildren(...datasets.map((d, i) => {
      const option = new Option((accounts > 1 ? d.AccountId + ": " : "") + d.ProjectName + " / " + d.DatasetName, String(i));
      option.dataset.dataset = datasetKey(d);
      return option;
    }));
    const kept = datasets.findIndex((d) => datasetKey(d) === previous);
    if (kept >= 0) select.value = String(kept);
  }

  async function loadPeople() {
    const empty = $("people-empty");
    people = scope() ? (await call("/visage/v1/people?" + query())).People : [];
    $("people-grid").replaceChildren(...people.map(card));
    empty.hidden = people.length > 0;
    empty.textContent = scope() ? "No people found yet: index photos, then run a figure clustering task." : "No datasets yet.";
    if (open && !people.some((p) => p.ObjectId === open)) close();
    else if (open) describe();
  }

  async function loadFaces() {
    const id = open;
    const faces = (await call("/visage/v1/people/" + encodeURIComponent(id) + "/faces?" + query())).Faces;
    if (id === open) $("person-faces").replaceChildren(...faces.map(tile)); // unless another person was opened meanwhile
  }

  // The open person's title and the people it may be merged with.
  function describe() {
    const person = people.find((p) => p.ObjectId === open);
    $("person-title").textContent = label(person) + " · " + plural(person.ImageCount, "photo");
    const others = people.filter((p) => p.ObjectId !== open);
    const select = $("person-merge-select");
    const chosen = select.value; // a redraw keeps the user's choice
    select.replaceChildren(...others.map((p) =>
      new Option(label(p) + " (" + p.ObjectId + ", " + plural(p.ImageCount, "photo") + ")", p.ObjectId)));
    if (others.some((p) => p.ObjectId === chosen)) select.value = chosen;
    $("person-merge").disabled = others.length === 0;
  }

  async function show(id) {
    open = id;
    document.querySelectorAll(".person-card").forEach((c) => c.setAttribute("aria-pressed", String(c.dataset.person === id)));
    describe();
    $("person-name-input").value = people.find((p) => p.ObjectId === id).Name;
    $("person-faces").replaceChildren();
    $("person-detail").hidden = false;
    try {
      await loadFaces();
    } catch (error) {
      say(error.message, "bad");
    }
  }

  function close() {
    open = null;
    $("person-detail").hidden = true;
    document.querySelectorAll(".person-card").forEach((c) => c.setAttribute("aria-pressed", "false"));
  }

  async function refresh() {
    try {
      await loadPeople();
      if (open) await loadFaces();
    } catch (error) {
      say("People are not available here: " + error.message, "bad");
    }
  }

  // Sends one correction, then redraws from what the server now holds.
  async function act(button, path, body, done) {
    button.disabled = true;
    $("people").setAttribute("aria-busy", "true");
    try {
      await call(path, body);
      say(done, "ok");
    } catch (error) {
      say(error.message, "bad");
    }
    await refresh();
    button.disabled = false;
    if (open) describe(); // the merge button stays off while there is no one to merge
    $("people").removeAttribute("aria-busy");
  }

  async function follow() {
    if ((location.hash || "#overview") !== "#people") return;
    try {
      await loadDatasets();
    } catch (error) {
      say("People are not available here: " + error.message, "bad");
      return;
    }
    await refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("people-dataset").addEventListener("change", () => { close(); say(""); refresh(); });
    $("person-close").addEventListener("click", close);
    $("person-rename-form").addEventListener("submit", (event) => {
      event.preventDefault();
      act($("person-rename"), "/visage/v1/people/" + encodeURIComponent(open) + "/name",
        { Name: $("person-name-input").value.trim() }, "Renamed.");
    });
    $("person-merge-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const source = $("person-merge-select").value;
      if (!source) return;
      act($("person-merge"), "/visage/v1/people/" + encodeURIComponent(open) + "/merge", { From: source },
        "Merged " + source + " into " + open + ".");
    });
    window.addEventListener("hashchange", follow);
    follow();
  });
})();
