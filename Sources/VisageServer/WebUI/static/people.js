"use strict";

// The People page: a dataset's people as cards cut from their cover photos, one person's faces,
// the corrections the server keeps (rename, merge after a confirmation, "not this person",
// "this is them", split, "these two are different"), the faces in no person with suggestions,
// a photo viewer naming every face, "Cluster now", the history of edits with undo, and a
// re-clustering preview.
(function () {
  const CROP = 112; // px: the size of .face-crop in app.css
  let datasets = [];
  let people = [];
  let open = null; // the id of the person whose faces are shown
  const selected = new Set(); // figure ids picked on the open person's faces
  let previewed = null; // the settings of the re-clustering last previewed
  let named = {}; // people the history and the preview mention: id -> {Name, Cover}
  let faceCrops = {}; // faces the history mentions: figure id -> crop
  let statusTimer = null;

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

  // A person as the page names them: by name, or as an unnamed person with their number.
  function who(id, fallbackName) {
    const person = people.find((p) => p.ObjectId === id) || named[id];
    const name = (person && person.Name) || fallbackName;
    if (name) return "\u201c" + name + "\u201d";
    if (id === "figure-cluster-id-independent" || !id) return "no person";
    if (id.startsWith("new-")) return "a new person";
    return "an unnamed person (" + id.replace(/^Cluster-/, "#") + ")";
  }

  // Feedback shows in a toast at the bottom of the window, wherever the user acted.
  function say(text, state) {
    const status = $("people-status");
    status.textContent = text;
    status.dataset.state = state || "";
    status.hidden = !text;
    clearTimeout(statusTimer);
    // An error stays longer, to be read; either goes when the next message comes.
    if (text) statusTimer = setTimeout(() => { status.hidden = true; }, state === "bad" ? 20000 : 8000);
  }

  // Cuts a face out of its photo with CSS alone: the photo is scaled so that a square half again
  // as wide as the face box fills the tile (`size` px, or the default), and shifted so that
  // square is what shows.
  function crop(face, size) {
    const div = document.createElement("div");
    div.className = "face-crop";
    const tile = size || CROP;
    if (size) { div.style.width = size + "px"; div.style.height = size + "px"; }
    const box = face && face.Boundary;
    if (!box || !face.ImageWidth || !face.ImageHeight) return div;
    // The square stays inside the photo, so a face near an edge shows no empty band.
    const side = Math.min(Math.max(box.Width, box.Height) * 1.5, face.ImageWidth, face.ImageHeight);
    const scale = tile / side;
    const clamp = (value, limit) => Math.max(0, Math.min(value, limit - side));
    const left = clamp(box.Left + box.Width / 2 - side / 2, face.ImageWidth);
    const top = clamp(box.Top + box.Height / 2 - side / 2, face.ImageHeight);
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
    const confirm = button("face-confirm", face.Confirmed ? "Kept" : "Keep", "/confirm", "The face stays with this person.");
    confirm.title = face.Confirmed ? "Placed by you: no run moves this face" : "Keep this face in this person through every run";
    confirm.disabled = Boolean(face.Confirmed);
    const remove = button("face-remove", "Not them", "/remove",
      "Not this person: the face was taken out of them. It waits under \u201cFaces in no person\u201d.");
    remove.title = "Not this person: take this face out of them, and keep it out in later runs";
    const actions = document.createElement("div");
    actions.className = "face-actions";
    actions.append(confirm, remove);
    const picture = viewable(crop(face), face);
    const top = document.createElement("label");
    top.className = "face-pick";
    top.append(pick, document.createTextNode(" Select"));
    figure.append(picture, top, actions);
    return figure;
  }

  // A face crop that opens its photo when clicked.
  function viewable(element, face) {
    if (!face || !face.URI) return element;
    element.classList.add("viewable");
    element.tabIndex = 0;
    element.setAttribute("role", "button");
    element.setAttribute("aria-label", "Show the photo");
    element.title = "Show the photo with every face named";
    const open = () => showPhoto(face.URI);
    element.addEventListener("click", open);
    element.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
    return element;
  }

  async function showPhoto(uri) {
    let answer;
    try {
      answer = await call("/visage/v1/people/photo/faces?" + query({ uri: uri }));
    } catch (error) {
      say(error.message, "bad");
      return;
    }
    $("photo-dialog-title").textContent = uri.split("/").pop();
    const image = $("photo-image");
    image.src = "/visage/v1/people/photo?" + query({ uri: uri });
    const boxes = $("photo-boxes");
    const list = $("photo-faces-list");
    const items = [];
    boxes.replaceChildren(...answer.Faces.map((face, i) => {
      const box = document.createElement("div");
      box.className = "face-box";
      const b = face.Boundary || {};
      box.style.left = (100 * b.Left / answer.ImageWidth) + "%";
      box.style.top = (100 * b.Top / answer.ImageHeight) + "%";
      box.style.width = (100 * b.Width / answer.ImageWidth) + "%";
      box.style.height = (100 * b.Height / answer.ImageHeight) + "%";
      const tag = document.createElement("span");
      tag.textContent = String(i + 1);
      box.append(tag);
      const item = document.createElement("li");
      item.dataset.figure = face.FigureId;
      item.textContent = face.ObjectId ? who(face.ObjectId, face.Name) : "In no person";
      items.push(item);
      return box;
    }));
    list.replaceChildren(...items);
    $("photo-dialog").showModal();
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
      const option = new Option((accounts > 1 ? d.AccountId + ": " : "") + d.ProjectName + " / " + d.DatasetName +
        " (" + plural(d.People, "person").replace("persons", "people") + ", " + plural(d.Faces, "face") + ")", String(i));
      option.dataset.dataset = datasetKey(d);
      return option;
    }));
    const kept = datasets.findIndex((d) => datasetKey(d) === previous);
    // First visit: open on a dataset with people, else one with faces, not merely the first by name.
    const first = [(d) => d.People > 0, (d) => d.Faces > 0].map((test) => datasets.findIndex(test)).find((i) => i >= 0);
    if (kept >= 0) select.value = String(kept);
    else if (first !== undefined) select.value = String(first);
  }

  async function loadPeople() {
    const empty = $("people-empty");
    people = scope() ? (await call("/visage/v1/people?" + query())).People : [];
    $("people-grid").replaceChildren(...people.map(card));
    empty.hidden = people.length > 0;
    const d = datasets[Number($("people-dataset").value)];
    if (!d) {
      empty.replaceChildren("No datasets yet: index a folder with ", code("visage index DIR --project P --dataset D"), ".");
    } else if (!d.Faces) {
      empty.replaceChildren("No faces in this dataset yet: index photos into it, e.g. ",
        code("visage index DIR --project " + d.ProjectName + " --dataset " + d.DatasetName), ".");
    } else {
      empty.replaceChildren("No people yet: " + plural(d.Faces, "face") + " wait. Press \u201cCluster now\u201d, or run ",
        code("visage cluster --project " + d.ProjectName + " --dataset " + d.DatasetName), ".");
    }
    $("people-cluster").disabled = !d || !d.Faces;
    if (open && !people.some((p) => p.ObjectId === open)) close();
    else if (open) describe();
  }

  function code(text) {
    const element = document.createElement("code");
    element.textContent = text;
    return element;
  }

  // The faces in no person, each with the people it looks like and a way to place it.
  async function loadUnsorted() {
    const answer = scope() ? await call("/visage/v1/people/unsorted?" + query()) : { Faces: [], Total: 0 };
    $("unsorted").hidden = answer.Total === 0;
    $("unsorted-count").textContent = plural(answer.Total, "face") + " belong to no person" +
      (answer.Total > answer.Faces.length ? " (the best " + answer.Faces.length + " shown)" : "") +
      ". Say who they are, or leave them: a face seen in one photo only is often a passer-by.";
    $("unsorted-faces").replaceChildren(...answer.Faces.map(unsortedTile));
  }

  function unsortedTile(face) {
    const figure = document.createElement("figure");
    figure.className = "unsorted-tile";
    figure.dataset.figure = face.FigureId;
    figure.tabIndex = 0;
    const path = "/visage/v1/people/faces/" + encodeURIComponent(face.FigureId) + "/move";
    const place = (person, element) => act(element, path, { To: person.ObjectId },
      "Added the face to " + who(person.ObjectId, person.Name) + ".", figure);
    const info = document.createElement("figcaption");
    if (face.NotPeople.length) {
      const note = document.createElement("p");
      note.className = "muted not-people";
      note.textContent = "Not " + face.NotPeople.map((p) => who(p.ObjectId, p.Name)).join(", ");
      info.append(note);
    }
    const likely = face.Suggestions.filter((p) => p.Likely);
    const offered = likely.length ? likely : face.Suggestions.slice(0, 1);
    offered.forEach((person, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion" + (person.Likely ? "" : " unlikely");
      button.dataset.person = person.ObjectId;
      button.append(crop(person.Cover, 28), document.createTextNode((i === 0 ? "Is this " : "or ") + who(person.ObjectId, person.Name) + "?"));
      button.title = "Add this face to " + who(person.ObjectId, person.Name) + " (key " + (i + 1) + (i === 0 ? " or Y" : "") + ")";
      button.addEventListener("click", () => place(person, button));
      info.append(button);
    });
    const choose = document.createElement("select");
    choose.className = "unsorted-add";
    choose.setAttribute("aria-label", "Add this face to a person");
    choose.append(new Option("Add to\u2026", ""), ...people.map((p) => new Option(label(p) + " (" + plural(p.ImageCount, "photo") + ")", p.ObjectId)));
    choose.addEventListener("change", () => {
      const person = people.find((p) => p.ObjectId === choose.value);
      if (person) place(person, choose);
    });
    info.append(choose);
    figure.addEventListener("keydown", (event) => {
      if (event.target !== figure) return;
      const tiles = [...document.querySelectorAll("#unsorted-faces .unsorted-tile")];
      const at = tiles.indexOf(figure);
      const pick = event.key === "y" || event.key === "Y" ? 0 : ["1", "2", "3"].indexOf(event.key);
      if (pick >= 0 && offered[pick]) {
        event.preventDefault();
        place(offered[pick], figure);
      } else if (event.key === "ArrowRight" && tiles[at + 1]) {
        event.preventDefault();
        tiles[at + 1].focus();
      } else if (event.key === "ArrowLeft" && at > 0) {
        event.preventDefault();
        tiles[at - 1].focus();
      }
    });
    figure.append(viewable(crop(face), face), info);
    return figure;
  }

  async function loadFaces() {
    const id = open;
    const faces = (await call("/visage/v1/people/" + encodeURIComponent(id) + "/faces?" + query())).Faces;
    if (id !== open) return; // another person was opened meanwhile
    $("person-faces").replaceChildren(...faces.map(tile));
    selection();
  }

  const others = (e) => e.Others.map((id, i) => who(id, (e.OtherNames || [])[i])).join(", ");
  const describeEdit = {
    rename: (e) => "Renamed " + who(e.Person) + (e.NameBefore !== undefined ? " (was \u201c" + (e.NameBefore || "unnamed") + "\u201d)" : ""),
    merge: (e) => "Merged " + others(e) + " into " + who(e.Person, e.NameBefore),
    split: (e) => "Split faces off " + who(e.Person) + " into " + others(e),
    move: (e) => e.Person === "figure-cluster-id-independent" ? "Added a face to " + who(e.To)
      : e.To === "figure-cluster-id-independent" ? "Took a face out of " + who(e.Person)
        : e.Person === e.To ? "Kept a face in " + who(e.To) : "Moved a face from " + who(e.Person) + " to " + who(e.To),
    exclude: (e) => "A face is not " + who(e.Person),
    "apart-faces": () => "Two faces are different people",
    "different-people": (e) => who(e.Person) + " and " + who(e.Other) + " are different people",
    recluster: () => "Re-clustered",
  };
  const summary = (edit) => (describeEdit[edit.Kind] || (() => edit.Kind))(edit);

  async function loadHistory() {
    const answer = scope() ? await call("/visage/v1/people/history?" + query()) : { Edits: [], People: {}, Faces: {} };
    const edits = answer.Edits;
    // People merged or split away live on in the history under the names they had.
    for (const edit of edits) {
      edit.Others.forEach((id, i) => { if (!named[id] && edit.OtherNames[i]) named[id] = { Name: edit.OtherNames[i] }; });
    }
    Object.assign(named, answer.People);
    faceCrops = answer.Faces;
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
      // The faces an edit is about, shown small beside it.
      for (const figure of [edit.FigureId, edit.Kind === "apart-faces" ? edit.Other : undefined]) {
        if (figure && faceCrops[figure]) item.append(viewable(crop(faceCrops[figure], 32), faceCrops[figure]));
      }
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
    $("recluster-preview").disabled = true;
    try {
      return await followTask("/visage/v1/people/recluster/", await call("/visage/v1/people/recluster", settings), $("recluster-progress"));
    } finally {
      $("recluster-preview").disabled = false;
    }
  }

  function showPreview(answer) {
    Object.assign(named, answer.People || {});
    const summary = answer.Summary;
    const parts = ["Created", "Merged", "Split", "Dissolved", "Kept"].filter((k) => summary[k]).map((k) => summary[k] + " " + k.toLowerCase());
    $("recluster-summary").textContent = (answer.Applied ? "Applied: " : "Would change: ") +
      (parts.length ? parts.join(", ") + "; " : "") + plural(summary.MovedFaces, "face") + " move.";
    const body = $("recluster-changes").tBodies[0];
    body.replaceChildren(...answer.Changes.map((change) => {
      const row = document.createElement("tr");
      row.dataset.change = change.Change;
      row.dataset.person = change.ObjectId;
      const person = document.createElement("td");
      const cover = named[change.ObjectId] && named[change.ObjectId].Cover;
      if (cover) person.append(crop(cover, 32));
      person.append(document.createTextNode(who(change.ObjectId, change.Name)));
      const cells = [change.Change, person, change.FacesBefore + " \u2192 " + change.FacesAfter, change.Into.map((id) => who(id)).join(", ")];
      row.append(...cells.map((content) => {
        if (typeof content !== "string") return content;
        const cell = document.createElement("td");
        cell.textContent = content;
        return cell;
      }));
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
    // No person is chosen until the user picks one: a default would make merging one click from a mistake.
    select.replaceChildren(new Option("Choose a person\u2026", ""), ...others.map((p) =>
      new Option(label(p) + " (" + plural(p.ImageCount, "photo") + ")", p.ObjectId)));
    if (others.some((p) => p.ObjectId === chosen)) select.value = chosen;
    $("person-merge").disabled = !select.value;
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
      await loadUnsorted();
      await loadHistory();
      if (open) await loadFaces();
    } catch (error) {
      say("People are not available here: " + error.message, "bad");
    }
  }

  const undone = (answer) => "Undone: " + summary(answer.Undone) + ".";

  // Sends one correction, then redraws from what the server now holds. `done` is the message
  // shown, or makes it from the server's answer.
  // `tile`, an unsorted face acted on, hands the keyboard focus on to the face that takes its place.
  async function act(button, path, body, done, tile) {
    button.disabled = true;
    $("people").setAttribute("aria-busy", "true");
    const position = tile ? [...document.querySelectorAll("#unsorted-faces .unsorted-tile")].indexOf(tile) : -1;
    try {
      const answer = await call(path, body);
      say(typeof done === "function" ? done(answer) : done, "ok");
    } catch (error) {
      say(error.message, "bad");
    }
    await refresh();
    button.disabled = false;
    if (open) describe(); // the merge button stays off while there is no one to merge
    if (position >= 0) {
      const tiles = document.querySelectorAll("#unsorted-faces .unsorted-tile");
      if (tiles.length) tiles[Math.min(position, tiles.length - 1)].focus();
    }
    $("people").removeAttribute("aria-busy");
  }

  // Follows a task of the clustering worker until it ends, showing its progress in `bar`.
  async function followTask(path, first, bar) {
    bar.value = 0;
    bar.hidden = false;
    try {
      let answer = first;
      while (answer.Status === "Running") {
        bar.value = answer.Progress;
        await new Promise((resolve) => setTimeout(resolve, 250));
        answer = await call(path + encodeURIComponent(answer.TaskId) + "?" + query());
      }
      if (answer.Status !== "Succeeded") throw new Error(answer.Message || "The task failed.");
      return answer;
    } finally {
      bar.hidden = true;
    }
  }

  // A person's faces for the merge confirmation, at most eight.
  async function sample(id, into) {
    const faces = (await call("/visage/v1/people/" + encodeURIComponent(id) + "/faces?" + query())).Faces.slice(0, 8);
    into.replaceChildren(...faces.map((f) => crop(f, 64)));
  }

  async function confirmMerge(source) {
    const target = people.find((p) => p.ObjectId === open);
    const from = people.find((p) => p.ObjectId === source);
    if (!target || !from) return;
    $("merge-from-name").textContent = label(from) + " \u00b7 " + plural(from.ImageCount, "photo");
    $("merge-into-name").textContent = label(target) + " \u00b7 " + plural(target.ImageCount, "photo");
    const kept = target.Name || from.Name;
    $("merge-outcome").textContent = "Their faces become one person" + (kept ? " named \u201c" + kept + "\u201d" : "") +
      (target.Name && from.Name && target.Name !== from.Name ? " (\u201c" + from.Name + "\u201d is dropped)" : "") +
      ". Undo brings both back.";
    $("merge-from-faces").replaceChildren();
    $("merge-into-faces").replaceChildren();
    $("merge-dialog").showModal();
    $("merge-cancel").focus();
    try {
      await Promise.all([sample(source, $("merge-from-faces")), sample(open, $("merge-into-faces"))]);
    } catch (error) {
      say(error.message, "bad");
    }
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
      if (source) confirmMerge(source);
    });
    $("person-merge-select").addEventListener("change", () => { $("person-merge").disabled = !$("person-merge-select").value; });
    $("merge-cancel").addEventListener("click", () => $("merge-dialog").close());
    $("merge-confirm").addEventListener("click", () => {
      const source = $("person-merge-select").value;
      const from = who(source);
      $("merge-dialog").close();
      act($("person-merge"), "/visage/v1/people/" + encodeURIComponent(open) + "/merge", { From: source },
        () => "Merged " + from + " into " + who(open) + ".");
    });
    $("photo-close").addEventListener("click", () => $("photo-dialog").close());
    $("people-cluster").addEventListener("click", async () => {
      const button = $("people-cluster");
      button.disabled = true;
      say("Clustering\u2026", "ok");
      try {
        await followTask("/visage/v1/people/cluster/", await call("/visage/v1/people/cluster", {}), $("people-cluster-progress"));
        await loadDatasets();
        await refresh();
        say("Clustered: " + plural(people.length, "person").replace("persons", "people") + " in this dataset.", "ok");
      } catch (error) {
        say(error.message, "bad");
      }
      button.disabled = false;
    });
    const person = () => "/visage/v1/people/" + encodeURIComponent(open);
    $("person-split").addEventListener("click", () => {
      const faces = [...selected];
      selected.clear();
      act($("person-split"), person() + "/split", { Faces: faces },
        (answer) => "Split " + plural(answer.MovedFaces, "face") + " into a new person.")
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
