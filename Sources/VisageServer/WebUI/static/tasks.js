"use strict";

// The Tasks page: the newest tasks, refreshed every second while the page is shown.
(function () {
  let timer = null;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function row(task) {
    const tr = document.createElement("tr");
    tr.dataset.task = task.TaskId;
    tr.dataset.status = task.Status;
    const name = cell(task.TaskType);
    const id = document.createElement("div");
    id.className = "task-id";
    id.textContent = task.TaskId;
    name.appendChild(id);
    tr.appendChild(name);
    tr.appendChild(cell(task.ProjectName + " / " + task.DatasetName));
    tr.appendChild(cell(task.Status));
    const progress = document.createElement("td");
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = task.Progress;
    progress.appendChild(bar);
    const percent = document.createElement("span");
    percent.className = "percent";
    percent.textContent = " " + task.Progress + "%";
    progress.appendChild(percent);
    tr.appendChild(progress);
    let files = task.FilesDone + " of " + task.FilesTotal;
    if (task.FilesFailed > 0) files += ", " + task.FilesFailed + " failed";
    tr.appendChild(cell(files));
    tr.appendChild(cell(new Date(task.StartTime).toLocaleString()));
    tr.appendChild(cell(task.Message || ""));
    return tr;
  }

  // A 1:1 face comparison: its status, its similarity in percent once done, or why it failed.
  function comparisonRow(task) {
    const tr = document.createElement("tr");
    tr.dataset.task = task.TaskId;
    tr.dataset.status = task.Status;
    const name = cell(task.Origin === "green" ? "Content Moderation (sface-1)" : task.Origin);
    const id = document.createElement("div");
    id.className = "task-id";
    id.textContent = task.TaskId;
    name.appendChild(id);
    tr.appendChild(name);
    tr.appendChild(cell(task.Status));
    tr.appendChild(cell(task.Similarity === undefined ? "" : (task.Similarity * 100).toFixed(2) + "%"));
    tr.appendChild(cell(new Date(task.StartTime).toLocaleString()));
    tr.appendChild(cell(task.Message || ""));
    return tr;
  }

  function show(table, empty, rows, items, make, none) {
    document.getElementById(rows).replaceChildren(...items.map(make));
    document.getElementById(table).hidden = items.length === 0;
    const note = document.getElementById(empty);
    note.hidden = items.length > 0;
    note.textContent = none;
  }

  async function refresh() {
    try {
      const response = await fetch("/visage/v1/tasks", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const body = await response.json();
      show("tasks-table", "tasks-empty", "tasks-rows", body.Tasks, row, "No tasks.");
      show("comparisons-table", "comparisons-empty", "comparisons-rows", body.Comparisons || [], comparisonRow, "No comparisons.");
    } catch (error) {
      const empty = document.getElementById("tasks-empty");
      empty.hidden = false;
      empty.textContent = "Tasks are not available here: " + error.message;
    }
  }

  function follow() {
    const shown = (location.hash || "#overview") === "#tasks";
    if (shown && timer === null) {
      refresh();
      timer = setInterval(refresh, 1000);
    } else if (!shown && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.addEventListener("hashchange", follow);
    follow();
  });
})();
