"use strict";

// The People page: a dataset's people as cards cut from their cover photos, one person's faces,
// the corrections the server keeps (rename, merge, "not this person", "this is them", split,
// "these two are different"), the history of edits with undo, and a re-clustering preview.
(function () {
  const CROP = 112; // px: the size of .face-crop in app.css
  let datasets = [];
  let people = [];
  let open = null; // the id of the person whose faces are shown
  const selected = new Set(); // figure ids picked on the open person's faces
  let previewed = null; // the settings of the re-clustering last previewed

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
    // The people routes answer errors as {error: {code, message}}; {Code, Message} is read too.
    if (!response.ok) throw new Error(answer.Message || (answer.error && answer.error.message) || "HTTP " + response.status);
    return answer;
  }

  // A person as the history names them: by name where they still have one, always by id.
  function who(id) {
    const person = people.find((p) => p.ObjectId === id);
    return person && person.Name ? "\u201c" + person.Name + "\u201d (" + id + ")" : id;
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
    figure.className = "face-tile" + (selected.has(face.FigureId) ? " selected" : "") + (face.Confirmed ? " confirmed" : "");
    figure.dataset.figure = face.FigureId;
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "face-select";
    pick.checked = selected.has(face.FigureId);
    pick.setAttribute("aria-label", "Select this face");
    pick.addEventListener("change", () => {
      if (pick.checked) selected.add(face.FigureId); else selected.delete(face.FigureId);
      figure.classList.toggle("selected", pick.checked);
      selection();
    });
    const path = "/visage/v1/people/faces/" + encodeURIComponent(face.FigureId);
    // One button per correction of this face, sent as it is and answered with `done`.
    const button = (className, text, action, done) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = className;
      element.textContent = text;
      element.addEventListener("click", () => act(element, path + action, {}, done));
      return element;
    };
    const confirm = button("face-confirm", face.Confirmed ? "Confirmed" : "This is them", "/confirm", "The face stays with this person.");
    confirm.title = face.Confirmed ? "Placed by you: no run moves this face" : "Keep this face in this person through every run";
    confirm.disabled = Boolean(face.Confirmed);
    const remove = button("face-remove", "Not this person", "/remove", "Not this person: the face was taken out of them.");
    remove.title = "Not this person: take this face out of them, and keep it out in later runs";
    const actions = document.createElement("div");
    actions.className = "face-actions";
    actions.append(pick, confirm, remove);
    figure.append(crop(face), actions);
    return figure;
  }

  // The selection's buttons follow how many faces are picked.
  function selection() {
    const shown = new Set([...document.querySelectorAll("#person-faces .face-tile")].map((t) => t.dataset.figure));
    for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    $("person-selected").textContent = selected.size ? plural(selected.size, "face") + " selected."
      : "Select faces to split them off or to say two are different.";
    $("person-split").disabled = selected.size === 0 || selected.size >= shown.size;
    $("person-different").disabled = selected.size !== 2;
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
    if (id !== open) return; // another person was opened meanwhile
    $("person-faces").replaceChildren(...faces.map(tile));
    selection();
  }

  const describeEdit = {
    rename: (e) => "Renamed " + who(e.Person) + (e.NameBefore !== undefined ? " (was \u201c" + (e.NameBefore || "unnamed") + "\u201d)" : ""),
    merge: (e) => "Merged person " + e.Others.map(who).join(", ") + " into " + who(e.Person),
    split: (e) => "Split faces off " + who(e.Person) + " into " + e.Others.map(who).join(", "),
    move: (e) => "Moved face " + e.FigureId + " from " + who(e.Person) + " to " + who(e.To),
    exclude: (e) => "Face " + e.FigureId + ": not this person (" + who(e.Person) + ")",
    "apart-faces": (e) => "Faces " + e.FigureId + " and " + e.Other + " are different people",
    "different-people": (e) => who(e.Person) + " and " + who(e.Other) + " are different people",
    recluster: () => "Re-clustered",
  };
  const summary = (edit) => (describeEdit[edit.Kind] || (() => edit.Kind))(edit);

  async function loadHistory() {
    const edits = scope() ? (await call("/visage/v1/people/history?" + query())).Edits : [];
    $("people-history").replaceChildren(...edits.map((edit) => {
      const item = document.createElement("li");
      item.dataset.sequence = String(edit.Sequence);
      item.dataset.kind = edit.Kind;
      item.dataset.undone = String(Boolean(edit.Undone));
      item.className = edit.Undone ? "undone" : "";
      const text = document.createElement("span");
      text.className = "history-text";
      text.textContent = summary(edit) + (edit.Undone ? " (undone)" : "");
      const time = document.createElement("time");
      time.className = "history-time";
      time.dateTime = new Date(edit.Created).toISOString();
      time.textContent = " \u00b7 " + new Date(edit.Created).toLocaleString();
      item.append(text, time);
      if (!edit.Undone) {
        const undo = document.createElement("button");
        undo.type = "button";
        undo.className = "history-undo";
        undo.textContent = "Undo";
        undo.title = "Undo this edit";
        undo.addEventListener("click", () => act(undo, "/visage/v1/people/history/undo", { Sequence: edit.Sequence }, undone));
        item.append(undo);
      }
      return item;
    }));
    $("people-undo").disabled = !edits.some((e) => !e.Undone);
  }

  // Runs a re-clustering as the server's task, showing its progress; resolves with the task's
  // last answer, which holds the preview.
  async function recluster(settings) {
    const bar = $("recluster-progress");
    bar.value = 0;
    bar.hidden = false;
    $("recluster-preview").disabled = true;
    try {
      let answer = await call("/visage/v1/people/recluster", settings);
      while (answer.Status === "Running") {
        bar.value = answer.Progress;
        await new Promise((resolve) => setTimeout(resolve, 250));
        answer = await call("/visage/v1/people/recluster/" + encodeURIComponent(answer.TaskId) + "?" + query());
      }
      if (answer.Status !== "Succeeded") throw new Error(answer.Message || "The re-clustering failed.");
      return answer;
    } finally {
      bar.hidden = true;
      $("recluster-preview").disabled = false;
    }
  }

  function showPreview(answer) {
    const summary = answer.Summary;
    const parts = ["Created", "Merged", "Split", "Dissolved", "Kept"].filter((k) => summary[k]).map((k) => summary[k] + " " + k.toLowerCase());
    $("recluster-summary").textContent = (answer.Applied ? "Applied: " : "Would change: ") +
      (parts.length ? parts.join(", ") + "; " : "") + plural(summary.MovedFaces, "face") + " move.";
    const body = $("recluster-changes").tBodies[0];
    body.replaceChildren(...answer.Changes.map((change) => {
      const row = document.createElement("tr");
      row.dataset.change = change.Change;
      row.dataset.person = change.ObjectId;
      for (const text of [change.Change, change.ObjectId, change.Name || "", change.FacesBefore + " \u2192 " + change.FacesAfter,
        change.Into.join(", ")]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
    $("recluster-changes").hidden = answer.Changes.length === 0;
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
    if (open !== id) selected.clear();
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
      await loadHistory();
      if (open) await loadFaces();
    } catch (error) {
      say("People are not available here: " + error.message, "bad");
    }
  }

  const undone = (answer) => "Undone: " + summary(answer.Undone) + ".";

  // Sends one correction, then redraws from what the server now holds. `done` is the message
  // shown, or makes it from the server's answer.
  async function act(button, path, body, done) {
    button.disabled = true;
    $("people").setAttribute("aria-busy", "true");
    try {
      const answer = await call(path, body);
      say(typeof done === "function" ? done(answer) : done, "ok");
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
    $("people-dataset").addEventListener("change", () => {
      close();
      say("");
      previewed = null;
      $("recluster-apply").disabled = true;
      $("recluster-changes").hidden = true;
      $("recluster-summary").textContent = "";
      refresh();
    });
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
    const person = () => "/visage/v1/people/" + encodeURIComponent(open);
    $("person-split").addEventListener("click", () => {
      const faces = [...selected];
      selected.clear();
      act($("person-split"), person() + "/split", { Faces: faces },
        (answer) => "Split " + plural(answer.MovedFaces, "face") + " into a new person, " + answer.ObjectId + ".")
        .then(selection);
    });
    $("person-different").addEventListener("click", () => {
      const [one, other] = [...selected];
      selected.clear();
      act($("person-different"), "/visage/v1/people/faces/" + encodeURIComponent(one) + "/different", { Other: other },
        "Noted: these two are different people. The next clustering run separates them.").then(selection);
    });
    $("person-propose").addEventListener("click", async () => {
      try {
        const faces = (await call(person() + "/split-proposal?" + query())).Faces;
        selected.clear();
        faces.forEach((f) => selected.add(f));
        document.querySelectorAll("#person-faces .face-tile").forEach((t) => {
          const on = selected.has(t.dataset.figure);
          t.classList.toggle("selected", on);
          t.querySelector(".face-select").checked = on;
        });
        selection();
        say(faces.length ? "Proposed: " + plural(faces.length, "face") + " selected to split off; review, then split."
          : "No split proposed: these faces look like one person.", "ok");
      } catch (error) {
        say(error.message, "bad");
      }
    });
    $("people-undo").addEventListener("click", () => act($("people-undo"), "/visage/v1/people/history/undo", {}, undone));
    $("recluster-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const settings = { Threshold: Number($("recluster-threshold").value) };
      $("recluster-apply").disabled = true;
      try {
        const answer = await recluster(Object.assign({ DryRun: true }, settings));
        showPreview(answer);
        previewed = answer.Summary.MovedFaces > 0 ? settings : null;
        $("recluster-apply").disabled = previewed === null;
      } catch (error) {
        say(error.message, "bad");
      }
    });
    $("recluster-apply").addEventListener("click", async () => {
      if (!previewed) return;
      $("recluster-apply").disabled = true;
      try {
        showPreview(await recluster(Object.assign({ DryRun: false }, previewed)));
        say("Re-clustered.", "ok");
      } catch (error) {
        say(error.message, "bad");
      }
      previewed = null;
      await refresh();
    });
    window.addEventListener("hashchange", follow);
    follow();
  });
})();
