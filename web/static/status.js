/* The resident's status page: follows the ticket over server-sent events. A stream the
   server closed or refused (too many open) is tried again after a while. */
"use strict";

const RETRY_MS = 30000;

document.addEventListener("DOMContentLoaded", () => {
  const card = document.getElementById("status");
  const fields = ["status_zh", "status_en", "counter_zh", "counter_en", "ahead_zh", "ahead_en",
    "wait_zh", "wait_en"];
  const note = document.getElementById("live-note");
  const follow = () => {
    const source = new EventSource(card.dataset.stream);
    source.onmessage = (event) => {
      const view = JSON.parse(event.data);
      for (const field of fields) {
        document.getElementById(field.replace("_", "-")).textContent = view[field];
      }
      card.dataset.status = view.status;
      note.classList.remove("stale");
    };
    source.addEventListener("gone", () => { source.close(); note.classList.add("stale"); });
    source.onerror = () => {
      note.classList.add("stale");
      if (source.readyState === EventSource.CLOSED) { setTimeout(follow, RETRY_MS); }
    };
  };
  follow();
});
