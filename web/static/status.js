/* The resident's status page: follows the ticket over server-sent events. A stream the
   server closed or refused (too many open) is tried again after a while.
   When a few are ahead ("near") and when called, the page says so in large text, vibrates
   (where the browser allows) and, once the resident tapped "turn on alerts" (browsers play
   no sound before a tap), plays a short tone made with the Web Audio API. */
"use strict";

const RETRY_MS = 30000;
const PATTERN = { near: [200, 100, 200], called: [400, 150, 400, 150, 400] };
const NOTES = { near: [660], called: [880, 660, 880] };
let audio = null;

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) { return; }
  audio = audio || new Context();
  if (audio.state === "suspended") { audio.resume(); }
}

function tone(notes) {
  if (!audio) { return; }
  const start = audio.currentTime;
  notes.forEach((freq, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.3, start + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.3 + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.3);
    osc.stop(start + i * 0.3 + 0.25);
  });
}

/* Sound and vibrate once for each alert the ticket reaches (not again on each update). */
function signal(alert, last) {
  if (!alert || alert === last) { return; }
  if (navigator.vibrate) { navigator.vibrate(PATTERN[alert]); }
  tone(NOTES[alert]);
}

document.addEventListener("DOMContentLoaded", () => {
  const card = document.getElementById("status");
  const fields = ["status_zh", "status_en", "counter_zh", "counter_en", "ahead_zh", "ahead_en",
    "wait_zh", "wait_en", "alert_zh", "alert_en"];
  const note = document.getElementById("live-note");
  const big = document.getElementById("big-alert");
  const button = document.getElementById("alerts-on");
  let last = big.dataset.alert;
  button.addEventListener("click", () => {
    unlockAudio();
    button.setAttribute("aria-pressed", "true");
    tone([660]);  // the resident hears what the alert sounds like
  });
  const follow = () => {
    const source = new EventSource(card.dataset.stream);
    source.onmessage = (event) => {
      const view = JSON.parse(event.data);
      for (const field of fields) {
        document.getElementById(field.replace("_", "-")).textContent = view[field];
      }
      card.dataset.status = view.status;
      big.dataset.alert = view.alert;
      signal(view.alert, last);
      last = view.alert;
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
