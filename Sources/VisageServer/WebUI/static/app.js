"use strict";

// Shows the section named in the URL fragment and marks its link as current.
function showSection() {
  const wanted = (location.hash || "#overview").slice(1);
  const sections = document.querySelectorAll("main > section");
  const known = Array.from(sections).some((s) => s.id === wanted);
  const current = known ? wanted : "overview";
  sections.forEach((s) => { s.hidden = s.id !== current; });
  document.querySelectorAll(".nav a").forEach((a) => {
    if (a.dataset.section === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  document.getElementById("nav").classList.remove("open");
}

function formatDuration(seconds) {
  if (seconds < 60) return seconds + " s";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min";
  if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  return Math.floor(seconds / 86400) + " d";
}

async function refreshHealth() {
  const status = document.getElementById("health-status");
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    const health = await response.json();
    status.textContent = health.status === "ok" ? "Running" : "Unavailable: " + health.status;
    status.dataset.state = health.status === "ok" ? "ok" : "bad";
    document.getElementById("health-database").textContent = health.database === "postgres" ? "PostgreSQL" : "SQLite";
    document.getElementById("health-schema").textContent = String(health.schemaVersion);
    document.getElementById("health-uptime").textContent = formatDuration(health.uptimeSeconds);
  } catch (error) {
    status.textContent = "Not reachable";
    status.dataset.state = "bad";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("endpoint").textContent = location.host;
  const toggle = document.querySelector(".menu-toggle");
  toggle.addEventListener("click", () => {
    const nav = document.getElementById("nav");
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  window.addEventListener("hashchange", showSection);
  showSection();
  refreshHealth();
  setInterval(refreshHealth, 10000);
});
