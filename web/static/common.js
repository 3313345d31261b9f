/* Shared by the manager's pages: JSON requests, command ids, sign-out, a toast. */
"use strict";

function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
  if (!response.ok) {
    const message = (data.error && data.error.message) || response.statusText;
    throw new Error(message);
  }
  return data;
}

function toast(text, bad) {
  const box = document.getElementById("toast");
  if (!box) { return; }
  box.textContent = text;
  box.classList.toggle("bad", Boolean(bad));
  box.classList.add("shown");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("shown"), 4000);
}

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("sign-out");
  if (out) {
    out.addEventListener("click", async () => {
      try { await postJson("/api/logout", {}); } finally { location.href = "/login"; }
    });
  }
});

// An element with a class and text; Chinese with its English beside (lang="en").
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) { node.className = cls; }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function both(zh, en) {
  const span = el("span", "", zh + " ");
  const english = el("span", "", en);
  english.lang = "en";
  span.append(english);
  return span;
}
