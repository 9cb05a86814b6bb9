"use strict";

// The Tasks page: the newest tasks, refreshed every second while the page is shown.
(function () {
  let timer = null;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  // What each kind of task does, in words.
  const KINDS = {
    BatchIndexFileMeta: "Indexing files", IndexFileMeta: "Indexing a file", BindingScan: "Indexing a bound bucket",
    BindingIndex: "Indexing a bucket change", FaceClustering: "Clustering faces into people",
    FigureClustersMerging: "Merging people", FigureReclustering: "Re-clustering people",
  };

  function row(task) {
    const tr = document.createElement("tr");
    tr.dataset.task = task.TaskId;
    tr.dataset.status = task.Status;
    tr.dataset.origin = task.Origin;
    const name = cell((KINDS[task.TaskType] || task.TaskType) + (task.Origin === "command" ? " (command line)" : ""));
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
    // Tasks that work on people rather than files have no file count to show.
    let files = task.FilesTotal > 0 ? task.FilesDone + " of " + task.FilesTotal : "\u2013";
    if (task.FilesFailed > 0) files += ", " + task.FilesFailed + " failed";
    const filesCell = cell(files);
    if (task.FailedFiles && task.FailedFiles.length) {
      const list = document.createElement("ul");
      list.className = "failed-files";
      list.replaceChildren(...task.FailedFiles.map((f) => {
        const item = document.createElement("li");
        item.textContent = f.URI.split("/").pop() + ": " + f.Error;
        item.title = f.URI;
        return item;
      }));
      filesCell.appendChild(list);
    }
    tr.appendChild(filesCell);
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
