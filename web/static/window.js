/* The clerk's screen: a soft caller in the browser (keys N R S D X T P O, as on the buttons). */
"use strict";

const COUNTER = document.body.dataset.counter;
const API = `/api/window/${encodeURIComponent(COUNTER)}`;
const KEYS = { n: "call_next", r: "recall", s: "start", d: "done", x: "no_show", t: "transfer", p: "pause", o: "sign_out" };
const CHANNEL = { normal: ["普通", "Normal"], green: ["绿色通道", "Green"], appointment: ["预约", "Appointment"] };
const STATUS = {
  open: ["开放", "Open"], paused: ["暂停", "Paused"], closed: ["关闭", "Closed"],
  called: ["已呼叫", "Called"], serving: ["办理中", "Serving"],
};
const STEP = {
  ticket_issued: ["取号", "Issued"], ticket_printed: ["已打印", "Printed"], ticket_called: ["呼叫", "Called"],
  ticket_recalled: ["重呼", "Recalled"], service_started: ["开始办理", "Started"],
  ticket_transferred: ["转移", "Transferred"], ticket_done: ["办结", "Done"], ticket_no_show: ["过号", "No-show"],
};
const REASONS = [["lunch", "午休", "Lunch"], ["meeting", "开会", "Meeting"], ["system_down", "系统故障", "System down"],
  ["break", "短暂离开", "Break"], ["other", "其他", "Other"]];
const DONE = {
  call_next: "已叫号 Called", recall: "已重呼 Recalled", start: "开始办理 Started", done: "已办结 Done",
  no_show: "已过号 No-show", transfer: "已转移 Transferred", pause: "已暂停 Paused", resume: "已恢复 Resumed",
};
let shown = null;
let stream = null;
let busy = false;
let mode = null; // null, "transfer", "pause" or "confirm-no-show"
let historyKey = "";

async function send(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}), credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) {
    if (response.status === 401) { signedOut(data.error && data.error.message); }
    throw new Error((data.error && data.error.message) || response.statusText);
  }
  return data;
}

function say(text, bad) {
  const line = document.getElementById("outcome");
  line.textContent = text;
  line.classList.toggle("bad", Boolean(bad));
}

// ------------------------------------------------------------ signing in and out
function signedOut(why) {
  if (stream) { stream.close(); stream = null; }
  shown = null;
  document.getElementById("desk").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("sign-in").hidden = false;
  const error = document.getElementById("sign-in-error");
  error.textContent = why || "";
  error.hidden = !why;
  document.getElementById("staff-no").focus();
}

async function signIn(event) {
  event.preventDefault();
  const error = document.getElementById("sign-in-error");
  const pin = document.getElementById("pin");
  const button = document.getElementById("sign-in-button");
  error.hidden = true;
  button.disabled = true;
  try {
    await send(`${API}/sign_in`, { staff_no: document.getElementById("staff-no").value.trim(), pin: pin.value });
    pin.value = "";
    await start();
  } catch (e) {
    pin.value = "";
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const response = await fetch(API, { credentials: "same-origin" });
  if (response.status === 401) {
    const data = await response.json().catch(() => ({}));
    signedOut(data.error && data.error.code === "signed_out" ? data.error.message : "");
    return;
  }
  if (!response.ok) { say(`${response.status} ${response.statusText}`, true); return; }
  document.getElementById("sign-in").hidden = true;
  document.getElementById("desk").hidden = false;
  document.getElementById("who").hidden = false;
  render(await response.json());
  follow();
}

function follow() {
  if (stream) { stream.close(); }
  stream = new EventSource(`${API}/events`);
  stream.onmessage = (event) => render(JSON.parse(event.data));
  stream.addEventListener("gone", () => { signedOut("已签退 Signed out"); });
  stream.onerror = () => { // the browser gives up on a refused stream: look again soon
    if (stream && stream.readyState === EventSource.CLOSED) { stream = null; setTimeout(start, 5000); }
  };
}

// ------------------------------------------------------------ drawing
function render(picture) {
  const first = !shown;
  shown = picture;
  if (first) { buildChoosers(); }
  document.getElementById("clock").textContent = picture.now;
  const online = document.getElementById("online");
  online.textContent = picture.online ? "在线 online" : "大厅离线 hall offline";
  online.className = `pill ${picture.online ? "st-open" : "st-closed"}`;
  const clerk = picture.clerk;
  document.getElementById("clerk").textContent = clerk ? `${clerk.name} ${clerk.staff_no}` : "";
  const [szh, sen] = STATUS[picture.status] || [picture.status, ""];
  const status = document.getElementById("status");
  status.replaceChildren(both(szh, sen));
  status.className = `pill st-${picture.status}`;
  renderHand(picture.ticket);
  renderWaiting(picture);
  const pause = document.getElementById("pause-key");
  const paused = picture.status === "paused";
  pause.dataset.cmd = paused ? "resume" : "pause";
  const english = el("span", "", paused ? "Resume" : "Pause");
  english.lang = "en";
  pause.replaceChildren(paused ? "恢复 " : "暂停 ", english, " ", el("kbd", "", "P"));
}

function renderHand(ticket) {
  document.getElementById("hand-number").textContent = ticket ? ticket.number : "—";
  const line = document.getElementById("hand-service");
  if (!ticket) {
    line.textContent = "空闲 Idle";
    document.getElementById("history").replaceChildren();
    historyKey = "";
    return;
  }
  const [zh, en] = STATUS[ticket.status] || [ticket.status, ""];
  const recalls = ticket.recalls ? ` · 重呼 ${ticket.recalls} 次 recalled ${ticket.recalls}×` : "";
  line.textContent = `${ticket.service} ${ticket.service_name} ${ticket.service_name_en} · ${zh} ${en} ${ticket.minutes} 分钟 min${recalls}`;
  const key = `${ticket.id}/${ticket.status}/${ticket.recalls}`;
  if (key !== historyKey) {
    historyKey = key;
    loadHistory();
  }
}

async function loadHistory() {
  const response = await fetch(`${API}/history`, { credentials: "same-origin" });
  if (!response.ok) { return; }
  const data = await response.json();
  const items = data.history.map((step) => {
    const [zh, en] = STEP[step.kind] || [step.kind, ""];
    const where = step.kind === "ticket_transferred"
      ? ` → ${step.counter ? `窗口 ${step.counter} window` : `${step.service}`}`
      : step.counter ? ` · 窗口 ${step.counter}` : "";
    const li = el("li", `step k-${step.kind}`);
    li.append(el("time", "", step.at), " ", both(zh, en), where);
    return li;
  });
  document.getElementById("history").replaceChildren(...items);
}

function renderWaiting(picture) {
  const rows = picture.waiting.map((t) => {
    const tr = el("tr", t.channel === "normal" ? "" : `ch-${t.channel}`);
    const [zh, en] = CHANNEL[t.channel] || [t.channel, ""];
    const channel = el("td");
    channel.append(both(zh, en));
    if (t.reserved) { channel.append(" · ", both("转给本窗口", "for this window")); }
    tr.append(el("td", "big-number", t.number), el("td", "", t.service), el("td", "num", `${t.waited_min} 分`), channel);
    return tr;
  });
  document.getElementById("waiting").replaceChildren(...rows);
  document.getElementById("waiting-count").textContent = String(picture.waiting_count);
  document.getElementById("nobody").hidden = picture.waiting_count > 0;
  document.getElementById("services").textContent = picture.services
    .map((s) => `${s.id} ${s.name} ${s.waiting}`).join(" · ");
}

// ------------------------------------------------------------ acting
async function act(name, fields) {
  if (busy) { say("上一个操作还在进行 The last key is still being sent", true); return; }
  busy = true;
  document.body.classList.add("busy");
  try {
    await send(`${API}/commands/${name}`, { id: newId(), ...(fields || {}) });
    if (name === "sign_out") { signedOut("已签退 Signed out"); return; }
    const fresh = await fetch(API, { credentials: "same-origin" });
    if (fresh.ok) { render(await fresh.json()); }
    say(DONE[name] || name);
  } catch (e) {
    say(e.message, true);
  } finally {
    busy = false;
    document.body.classList.remove("busy");
  }
}

function choose(which) {
  mode = which;
  document.getElementById("transfer-panel").hidden = which !== "transfer";
  document.getElementById("pause-panel").hidden = which !== "pause";
  if (which === "confirm-no-show") { say("再按 X 确认过号 Press X again to mark a no-show"); }
}

function press(name) {
  if (!shown) { return; }
  if (name === "no_show") {
    if (mode === "confirm-no-show") { choose(null); act("no_show"); } else { choose("confirm-no-show"); }
    return;
  }
  if (name === "transfer") { choose(mode === "transfer" ? null : "transfer"); return; }
  if (name === "pause") { choose(mode === "pause" ? null : "pause"); return; }
  choose(null);
  act(name);
}

function buildChoosers() {
  const transfer = document.getElementById("transfer-choices");
  const front = el("button", "button choice", "");
  front.type = "button";
  front.append(both("排回队首", "Back to the queue front"), " ", el("kbd", "", "0"));
  front.addEventListener("click", () => { choose(null); act("transfer", {}); });
  transfer.replaceChildren(front, ...shown.transfer_to.map((s) => {
    const button = el("button", "button choice");
    button.type = "button";
    button.dataset.service = s.id;
    const english = el("span", "", s.name_en);
    english.lang = "en";
    button.append(`${s.id} ${s.name} `, english, " ", el("kbd", "", s.id));
    button.addEventListener("click", () => { choose(null); act("transfer", { to_service: s.id }); });
    return button;
  }));
  const pause = document.getElementById("pause-choices");
  pause.replaceChildren(...REASONS.map(([reason, zh, en], i) => {
    const button = el("button", "button choice");
    button.type = "button";
    button.append(both(zh, en), " ", el("kbd", "", String(i + 1)));
    button.addEventListener("click", () => { choose(null); act("pause", { reason }); });
    return button;
  }));
}

function onKey(event) {
  if (!shown || event.ctrlKey || event.metaKey || event.altKey) { return; }
  if (event.target instanceof HTMLInputElement) { return; }
  const key = event.key.toLowerCase();
  if (key === "escape") { choose(null); say(""); return; }
  if (mode === "transfer") {
    const target = shown.transfer_to.find((s) => s.id.toLowerCase() === key);
    if (key === "0") { choose(null); act("transfer", {}); } else if (target) { choose(null); act("transfer", { to_service: target.id }); }
    event.preventDefault();
    return;
  }
  if (mode === "pause" && /^[1-5]$/.test(key)) {
    choose(null);
    act("pause", { reason: REASONS[Number(key) - 1][0] });
    event.preventDefault();
    return;
  }
  const name = KEYS[key];
  if (!name) { return; }
  event.preventDefault();
  if (name === "pause" && shown.status === "paused") { choose(null); act("resume"); return; }
  if (mode === "confirm-no-show" && name !== "no_show") { choose(null); }
  press(name);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  document.getElementById("window-sign-out").addEventListener("click", () => act("sign_out"));
  document.querySelectorAll(".keys [data-cmd]").forEach((button) => {
    button.addEventListener("click", () => {
      const name = button.dataset.cmd;
      if (name === "resume") { act("resume"); } else { press(name); }
    });
  });
  document.addEventListener("keydown", onKey);
  start();
});
