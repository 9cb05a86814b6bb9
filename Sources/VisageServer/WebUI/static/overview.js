"use strict";

// The Overview page's library: what the server holds, per dataset and in all.
(function () {
  const $ = (id) => document.getElementById(id);

  function bytes(n) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit === 0 ? String(value) : value.toFixed(1)) + " " + units[unit];
  }

  async function refresh() {
    if ((location.hash || "#overview") !== "#overview") return;
    let overview;
    try {
      const response = await fetch("/visage/v1/overview", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      overview = await response.json();
    } catch (error) {
      $("overview-datasets").textContent = "not available here";
      return;
    }
    const totals = overview.Totals;
    $("overview-datasets").textContent = String(totals.Datasets);
    $("overview-files").textContent = String(totals.Files);
    $("overview-faces").textContent = String(totals.Faces);
    $("overview-people").textContent = String(totals.People);
    $("overview-unsorted").textContent = String(totals.UnsortedFaces);
    $("overview-tasks").textContent = String(overview.TasksRunning);
    $("overview-storage").textContent = bytes(overview.Storage.Bytes) + " in " + overview.Storage.Objects + " objects";
    const accounts = new Set(overview.Datasets.map((d) => d.AccountId)).size;
    $("overview-rows").replaceChildren(...overview.Datasets.map((d) => {
      const row = document.createElement("tr");
      row.dataset.dataset = [d.AccountId, d.ProjectName, d.DatasetName].join("/");
      const name = (accounts > 1 ? d.AccountId + ": " : "") + d.ProjectName + " / " + d.DatasetName;
      for (const text of [name, d.Files, d.Faces, d.People, d.UnsortedFaces]) {
        const cell = document.createElement("td");
        cell.textContent = String(text);
        row.append(cell);
      }
      return row;
    }));
    $("overview-table").hidden = overview.Datasets.length === 0;
    $("overview-none").hidden = overview.Datasets.length > 0;
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.addEventListener("hashchange", refresh);
    refresh();
    setInterval(refresh, 10000);
  });
})();
