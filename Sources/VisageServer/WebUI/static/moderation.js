"use strict";

// The Moderation page: images waiting for human review with the machine's labels, Approve and
// Reject per label (also by keyboard), and the history of completed reviews.
(function () {
  let timer = null;
  let selected = null; // {review, category} of the label the keys act on
  let shownPending = null; // the queue as last drawn, to redraw only when it changed

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function labelRows() {
    return Array.from(document.querySelectorAll("#moderation-queue tr.review-label"));
  }

  function select(row) {
    labelRows().forEach((r) => r.classList.toggle("selected", r === row));
    selected = row ? { review: row.dataset.review, category: row.dataset.category } : null;
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  async function decide(review, category, verdict) {
    const status = document.getElementById("moderation-status-" + review);
    const response = await fetch("/visage/v1/moderation/reviews/" + encodeURIComponent(review) + "/decisions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Category: category, Verdict: verdict }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      if (status) status.textContent = (body.error && body.error.message) || "The decision was not saved.";
      return;
    }
    await load();
  }

  function reviewCard(review) {
    const card = element("article", "card review");
    card.dataset.review = review.Id;
    const frame = element("div", "review-image");
    const image = element("img");
    image.src = "/visage/v1/moderation/reviews/" + encodeURIComponent(review.Id) + "/image";
    image.alt = "The image of review " + review.Name;
    frame.appendChild(image);
    card.appendChild(frame);
    const body = element("div", "review-body");
    body.appendChild(element("h3", null, review.Name));
    body.appendChild(element("p", "muted", "Account " + review.AccountId + " · started " + new Date(review.Created).toLocaleString()));
    const table = element("table", "faces");
    const head = element("thead");
    const headRow = element("tr");
    ["Label", "Confidence", "Decision", ""].forEach((t) => headRow.appendChild(element("th", null, t)));
    head.appendChild(headRow);
    table.appendChild(head);
    const rows = element("tbody");
    review.Labels.forEach((label) => {
      const tr = element("tr", "review-label");
      tr.dataset.review = review.Id;
      tr.dataset.category = label.Category;
      tr.dataset.verdict = label.Verdict || "";
      const name = element("td", null, label.Name);
      if (label.ParentName) name.appendChild(element("div", "task-id", label.ParentName));
      tr.appendChild(name);
      tr.appendChild(element("td", null, label.Confidence.toFixed(1) + "%"));
      tr.appendChild(element("td", "verdict", label.Verdict === "approve" ? "Approved" : label.Verdict === "reject" ? "Rejected" : "–"));
      const actions = element("td", "actions");
      [["approve", "Approve"], ["reject", "Reject"]].forEach(([verdict, text]) => {
        const button = element("button", verdict === "reject" ? "secondary" : null, text);
        button.type = "button";
        button.dataset.verdict = verdict;
        button.addEventListener("click", () => { select(tr); decide(review.Id, label.Category, verdict); });
        actions.appendChild(button);
      });
      tr.appendChild(actions);
      tr.addEventListener("click", () => select(tr));
      rows.appendChild(tr);
    });
    table.appendChild(rows);
    body.appendChild(table);
    const status = element("p", "status");
    status.id = "moderation-status-" + review.Id;
    status.setAttribute("role", "status");
    body.appendChild(status);
    card.appendChild(body);
    return card;
  }

  function historyRow(review) {
    const tr = element("tr");
    tr.dataset.review = review.Id;
    const name = element("td", null, review.Name);
    name.appendChild(element("div", "task-id", review.AccountId));
    tr.appendChild(name);
    tr.appendChild(element("td", null, new Date(review.Completed).toLocaleString()));
    const decisions = element("td");
    const list = element("ul", "history");
    review.Decisions.forEach((d) => {
      list.appendChild(element("li", null, (d.Verdict === "approve" ? "Approved " : "Rejected ") + d.Name + " · "
        + new Date(d.DecidedAt).toLocaleString() + " · " + d.Reviewer));
    });
    decisions.appendChild(list);
    tr.appendChild(decisions);
    return tr;
  }

  async function load() {
    const [pending, completed] = await Promise.all(["pending", "completed"].map((status) =>
      fetch("/visage/v1/moderation/reviews?status=" + status, { cache: "no-store" }).then((r) => r.json())));
    const text = JSON.stringify(pending.Reviews);
    if (text !== shownPending) {
      shownPending = text;
      const keep = selected;
      document.getElementById("moderation-queue").replaceChildren(...pending.Reviews.map(reviewCard));
      const rows = labelRows();
      const again = keep && rows.find((r) => r.dataset.review === keep.review && r.dataset.category === keep.category);
      select(again || rows.find((r) => !r.dataset.verdict) || rows[0] || null);
    }
    document.getElementById("moderation-empty").hidden = pending.Reviews.length > 0;
    const history = document.getElementById("moderation-history-rows");
    history.replaceChildren(...completed.Reviews.map(historyRow));
    document.getElementById("moderation-history").hidden = completed.Reviews.length === 0;
    document.getElementById("moderation-history-empty").hidden = completed.Reviews.length > 0;
  }

  function shown() {
    return !document.getElementById("moderation").hidden;
  }

  document.addEventListener("keydown", (event) => {
    if (!shown() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement && document.activeElement.tagName)) return;
    const rows = labelRows();
    const index = selected ? rows.findIndex((r) => r.dataset.review === selected.review && r.dataset.category === selected.category) : -1;
    if (event.key === "j" && rows.length) select(rows[Math.min(rows.length - 1, index + 1)]);
    else if (event.key === "k" && rows.length) select(rows[Math.max(0, index - 1)]);
    else if ((event.key === "a" || event.key === "r") && selected) decide(selected.review, selected.category, event.key === "a" ? "approve" : "reject");
    else return;
    event.preventDefault();
  });

  function watch() {
    if (shown()) {
      load().catch(() => {});
      if (!timer) timer = setInterval(() => { if (shown()) load().catch(() => {}); }, 3000);
    } else if (timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.addEventListener("hashchange", watch);
    watch();
  });
})();
