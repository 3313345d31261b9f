/* The manager's live hall: renders a snapshot, then its changes, pushed over server-sent events,
   and sends the manager's actions as JSON commands. No framework: the DOM, built with
   textContent only (never innerHTML), so nothing from the hall is ever parsed as markup. */
"use strict";

const MAY_ACT = document.body.dataset.mayAct === "true";
const COUNTER_STATUS = {
  open: ["开放", "Open"], paused: ["暂停", "Paused"], closed: ["关闭", "Closed"],
  offline: ["离线", "Offline"],
};
const TICKET_STATUS = {
  pending_print: ["待打印", "Printing"], waiting: ["等候", "Waiting"],
  called: ["已呼叫", "Called"], serving: ["办理中", "Serving"],
};
const ALERT_KIND = {
  long_wait: ["等候过长", "Long wait"], paused_too_long: ["暂停过久", "Paused too long"],
  long_service: ["办理过久", "Long service"],
  device_offline: ["设备离线", "Device offline"], printer: ["打印机", "Printer"],
  bad_rating: ["差评", "Bad rating"], help_requested: ["求助", "Help requested"],
};
const DEVICE_STATE = {
  online: ["在线", "online"], offline: ["离线", "offline"], stopped: ["已停止", "stopped"],
  never: ["未上线", "never came today"],
};
const DEVICE_GROUP = {
  kiosk: ["取号机", "Kiosks"], caller: ["呼叫器", "Callers, by window"],
  display: ["显示屏", "Displays"], other: ["其他", "Others"],
};
const PAUSE_REASON = {
  lunch: ["午休", "lunch"], meeting: ["开会", "meeting"], system_down: ["系统故障", "system down"],
  break: ["短暂离开", "break"], other: ["其他", "other"],
};
const CHIME_KEY = "lobby.live.chime";

let state = null;
let skew = 0;
let openCounter = null;
let movingTicket = null;
let confirmed = null;
let following = null;
const drawn = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) { continue; }
    if (key === "class") { node.className = value; } else { node.setAttribute(key, value); }
  }
  for (const child of children) {
    if (child === null || child === undefined) { continue; }
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function bi(pair) {
  return el("span", {}, pair[0] + " ", el("span", { lang: "en", class: "en" }, pair[1]));
}

function fmtMin(value) {
  return value === null || value === undefined ? "–" : String(Math.round(value));
}

function serverNow() { return Date.now() / 1000 + skew; }

function elapsed(since) {
  const s = Math.max(0, Math.floor(serverNow() - since));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/* Replace a section's children only when its data changed (keeps focus and scroll). */
function draw(key, data, container, build) {
  const json = JSON.stringify(data);
  if (drawn[key] === json) { return; }
  drawn[key] = json;
  container.replaceChildren(...build(data));
}

// ---------------------------------------------------------------- sections
function counterCard(c) {
  const status = c.offline ? "offline" : c.status;
  const ticketState = c.ticket_status ? TICKET_STATUS[c.ticket_status] || [c.ticket_status, ""] : null;
  const showTimer = c.since_ts && (c.number || c.status === "paused");
  return el("button", { type: "button", class: `counter-card st-${status}`, "data-counter": c.counter },
  el("span", { class: "card-head" }, el("span", { class: "card-name" }, c.name),
    el("span", { class: `badge st-${status}` }, bi(COUNTER_STATUS[status]))),
  el("span", { class: "card-number" }, c.number || "—"),
  el("span", { class: "card-state" },
    c.status === "paused" ? pauseText(c) : (ticketState ? bi(ticketState) : bi(["空闲", "Idle"])),
    showTimer ? el("span", { class: "timer", "data-since": String(c.since_ts) }, elapsed(c.since_ts)) : null),
  el("span", { class: "card-clerk" }, c.clerk ? `${c.clerk.name} ${c.clerk.staff_no}` : "未签到 No clerk"),
  el("span", { class: "card-foot" },
    el("span", {}, c.services.includes("*") ? "全部 All" : c.services.join(" ")),
    el("span", {}, `办结 ${c.served}`)));
}

function pauseText(c) {
  const reason = PAUSE_REASON[c.pause_reason];
  return el("span", { class: "pause-reason" }, bi(reason ? ["暂停·" + reason[0], "paused: " + reason[1]] : ["暂停中", "Paused"]));
}

function serviceTile(s) {
  const over = s.longest_wait_min > state.hall.wait_target_min;
  const intake = s.intake_open ? ["取号开放", "Intake open"] : ["停止取号", "Intake stopped"];
  const control = MAY_ACT ? el("button", {
    type: "button", role: "switch", class: "switch", "aria-checked": String(s.intake_open),
    "data-intake": s.service, "data-open": s.intake_open ? "false" : "true",
    "aria-label": `取号 Intake ${s.service} ${s.name_en}`,
  }, el("span", { class: "knob" }), bi(intake)) : el("span", { class: "pill " + (s.intake_open ? "ok" : "bad") }, bi(intake));
  return el("li", { class: "service-tile" + (s.intake_open ? "" : " stopped") + (over ? " over" : ""),
    "data-service": s.service },
  el("span", { class: "tile-head" }, el("span", { class: "svc-id" }, s.service),
    el("span", { class: "tile-name" }, s.name, el("span", { class: "en block", lang: "en" }, s.name_en))),
  el("span", { class: "tile-waiting" }, el("span", { class: "big-num" }, String(s.waiting)), bi(["等候", "waiting"])),
  el("span", { class: "tile-times" + (over ? " over" : "") },
    `最长 ${fmtMin(s.longest_wait_min)} · 预计 ${fmtMin(s.estimated_wait_min)}`,
    el("span", { class: "en block", lang: "en" }, `longest ${fmtMin(s.longest_wait_min)} · est. ${fmtMin(s.estimated_wait_min)}`)),
  el("span", { class: "tile-issued" }, s.daily_quota ? `已取 ${s.issued_today}/${s.daily_quota}` : `已取 ${s.issued_today}`,
    el("span", { class: "en", lang: "en" }, " issued")),
  control);
}

function ticketRow(t) {
  const actions = [];
  if (MAY_ACT) {
    if (t.status === "waiting") {
      actions.push(el("button", { type: "button", class: "button small ghost", "data-move": t.ticket,
        "aria-label": `改业务 Move ${t.number}` }, "改业务 Move"));
      actions.push(el("button", { type: "button", class: "button small ghost", "data-reprint": t.ticket,
        "aria-label": `重打 Reprint ${t.number}` }, "重打 Reprint"));
    }
    actions.push(el("button", { type: "button", class: "button small danger-ghost", "data-cancel": t.ticket,
      "data-number": t.number, "aria-label": `取消 Cancel ${t.number}` }, "取消 Cancel"));
  }
  const status = TICKET_STATUS[t.status] || [t.status, ""];
  return el("tr", { "data-number": t.number },
    el("th", { scope: "row" }, t.number, t.channel === "green" ? el("span", { class: "pill green" }, "绿 Green") : null,
      t.channel === "appointment" ? el("span", { class: "pill" }, "约 Appt") : null),
    el("td", {}, t.service),
    el("td", {}, bi(status), t.counter ? ` → ${t.counter}` : ""),
    el("td", {}, t.issued),
    el("td", { class: "num" }, fmtMin(t.estimated_wait_min)),
    el("td", { class: "acts row-actions" }, ...actions));
}

function alertItem(a) {
  const kind = ALERT_KIND[a.kind] || [a.kind, ""];
  const time = new Intl.DateTimeFormat("zh-CN", { timeZone: state.hall.timezone, hour: "2-digit",
    minute: "2-digit", hour12: false }).format(new Date(a.at));
  const handle = MAY_ACT ? el("button", { type: "button", class: "button small ghost",
    "data-follow-kind": a.kind, "data-follow-subject": a.subject }, "处理 ", el("span", { lang: "en" }, "Follow up")) : null;
  return el("li", { class: `alert kind-${a.kind}` }, el("span", { class: "alert-kind" }, bi(kind)),
    alertText(a.message), el("span", { class: "alert-time" }, time), handle);
}

/* An alert's message is Chinese first, then " / " and the English: the Chinese large. */
function alertText(message) {
  const cut = message.indexOf(" / ");
  if (cut < 0) { return el("span", { class: "alert-text" }, el("span", { class: "alert-zh" }, message)); }
  return el("span", { class: "alert-text" }, el("span", { class: "alert-zh" }, message.slice(0, cut)),
    el("span", { class: "alert-en", lang: "en" }, message.slice(cut + 3)));
}

// ---------------------------------------------------------------- chime
/* A short two-note tone from the Web Audio API when a new alert arrives, if the manager
   turned the chime on (remembered in localStorage). No audio files: halls have no Internet. */
let audio = null;
let alertsSeen = null;

function chimeOn() { return localStorage.getItem(CHIME_KEY) === "on"; }

function showChime() {
  const button = document.getElementById("chime");
  button.setAttribute("aria-checked", String(chimeOn()));
}

function audioContext() {
  if (!audio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    audio = new Context();
  }
  if (audio.state === "suspended") { audio.resume(); }
  return audio;
}

function chime() {
  const context = audioContext();
  if (!context) { return; }
  const start = context.currentTime;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.25, start + i * 0.22);
    gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.22 + 0.2);
    osc.connect(gain).connect(context.destination);
    osc.start(start + i * 0.22);
    osc.stop(start + i * 0.22 + 0.2);
  }
}

function alertKey(a) { return `${a.kind}|${a.subject}|${a.at}`; }

/* Chime once for alerts not seen before (none for those on the board at first sight). */
function noticeAlerts(alerts) {
  const keys = new Set(alerts.map(alertKey));
  const fresh = alertsSeen !== null && [...keys].some((k) => !alertsSeen.has(k));
  alertsSeen = new Set([...(alertsSeen || []), ...keys]);
  if (fresh && chimeOn()) { chime(); }
}

/* A chip per device; a window's callers by its number, with the device's id where the
   window has more than one (its hardware caller and the clerk's screen). */
function deviceChip(d, shared) {
  const trouble = d.state === "offline" || !d.ok;
  const label = DEVICE_STATE[d.state] || [d.state, d.state];
  const extra = d.printer && d.printer !== "ok" ? ` · ${d.printer}` : "";
  const byWindow = d.group === "caller" && d.counter;
  const name = byWindow ? `${d.counter}号 ${shared.has(d.counter) ? d.id + " " : ""}` : `${d.id} `;
  return el("li", { class: "chip" + (trouble ? " bad" : d.state === "online" ? " ok" : d.state === "never" ? " never" : ""),
    "data-device": d.id, title: d.id }, name, bi(label), extra);
}

/* The expected devices by group: kiosks, callers by window, displays, others. */
function deviceGroups(devices) {
  return Object.entries(DEVICE_GROUP).map(([group, label]) => {
    const members = devices.filter((d) => d.group === group);
    if (!members.length) { return null; }
    const online = members.filter((d) => d.state === "online").length;
    const counters = members.map((d) => d.counter).filter(Boolean);
    const shared = new Set(counters.filter((c, i) => counters.indexOf(c) !== i));
    return el("div", { class: "device-group", "data-group": group },
      el("h3", {}, bi(label), el("span", { class: "count" }, `${online}/${members.length}`)),
      el("ul", { class: "chips" }, ...members.map((d) => deviceChip(d, shared))));
  }).filter(Boolean);
}

/* A time of the hall's day: HH:MM (with seconds if asked), with the date if another day. */
function hallTime(iso, seconds) {
  const at = new Date(iso);
  const time = new Intl.DateTimeFormat("zh-CN", { timeZone: state.hall.timezone, hour: "2-digit",
    minute: "2-digit", second: seconds ? "2-digit" : undefined, hour12: false }).format(at);
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: state.hall.timezone }).format(at);
  return day === state.hall.date ? time : `${day.slice(5)} ${time}`;
}

/* The city bridge: connected or not since when, or never seen (web/upstream.py). */
function bridgeLine(up) {
  const line = document.getElementById("bridge");
  if (up.bridge === "never") {
    line.className = "upstream-line never";
    line.replaceChildren(bi(["城市链路：未见（未设桥接，或从未连上）",
      "city bridge: never seen (not set up, or never connected)"]));
    return;
  }
  const connected = up.bridge === "connected";
  const since = hallTime(up.since, false);
  const [zh, en] = connected ? ["已连接", "connected"] : ["已断开", "disconnected"];
  line.className = "upstream-line " + (connected ? "ok" : "bad");
  line.replaceChildren(bi(up.since_at_latest
    ? [`城市链路：${zh}，至迟 ${since} 起`, `city bridge: ${en} since ${since} or earlier`]
    : [`城市链路：${zh}，${since} 起`, `city bridge: ${en} since ${since}`]));
}

/* The summaries: the last one the bridge carried up, and the latest if it is still waiting. */
function summaryLine(up) {
  const line = document.getElementById("upstream-summary");
  const sent = up.sent_at ? hallTime(up.sent_at, true) : null;
  line.className = "upstream-line" + (up.waiting && up.bridge === "disconnected" ? " bad" : "");
  if (!up.summary_at) {
    line.replaceChildren(bi(["上报：尚无摘要", "upstream: no summary yet"]));
  } else if (!up.waiting) {
    line.replaceChildren(bi([`最近上报摘要 ${sent}`, `last summary sent ${sent}`]));
  } else {
    const latest = hallTime(up.summary_at, true);
    line.replaceChildren(bi(sent
      ? [`最近摘要 ${latest} 待上报；上次上报 ${sent}`,
        `latest summary ${latest} not sent yet; last sent ${sent}`]
      : [`最近摘要 ${latest} 待上报`, `latest summary ${latest} not sent yet`]));
  }
}

function render(changedTickets) {
  const hall = state.hall;
  document.getElementById("notice-text").textContent = hall.notice || "（无 none）";
  document.getElementById("day").textContent = hall.date + (hall.ended ? " · 已结束 ended" : "");
  document.getElementById("target").textContent = `${hall.wait_target_min}`;
  document.getElementById("hall-offline").hidden = hall.online;
  draw("alerts", state.alerts, document.getElementById("alerts"), (alerts) =>
    alerts.length ? alerts.map(alertItem) : [el("li", { class: "alert none" }, bi(["一切正常", "All clear"]))]);
  document.getElementById("alert-count").textContent = String(state.alerts.length);
  noticeAlerts(state.alerts);
  draw("counters", state.counters, document.getElementById("counters"), (cs) => cs.map(counterCard));
  const open = state.counters.filter((c) => c.status === "open").length;
  document.getElementById("counter-summary").textContent = `${open}/${state.counters.length} 开放 open`;
  draw("services", [state.services, hall.wait_target_min], document.getElementById("services"),
    ([ss]) => ss.map(serviceTile));
  drawTickets(changedTickets);
  draw("devices", state.devices, document.getElementById("devices"), deviceGroups);
  bridgeLine(hall.upstream);
  summaryLine(hall.upstream);
  const online = state.devices.filter((d) => d.state === "online").length;
  document.getElementById("device-count").textContent = `${online}/${state.devices.length}`;
  if (openCounter) { fillCounterDialog(); }
}

/* The ticket list: one row per open ticket, rebuilt only for the tickets that changed
   (``changed``: their ids; null: all), then put in order (waiting first) under the filter. */
const rows = new Map();
const TICKET_ORDER = { waiting: 0, pending_print: 1, called: 2, serving: 3 };

function drawTickets(changed) {
  if (changed === null) { rows.clear(); }
  for (const id of changed === null ? state.tickets.keys() : changed) {
    const t = state.tickets.get(id);
    if (t) { rows.set(id, ticketRow(t)); } else { rows.delete(id); }
  }
  const filter = document.getElementById("ticket-filter").value.trim().toUpperCase();
  const shown = [...state.tickets.values()].filter((t) => !filter || t.number.includes(filter))
    .sort((a, b) => TICKET_ORDER[a.status] - TICKET_ORDER[b.status]);
  const body = document.getElementById("tickets");
  if (!shown.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6" }, bi(["没有号", "No tickets"]))));
  } else {
    let cursor = body.firstChild;
    for (const t of shown) {
      const row = rows.get(t.ticket);
      if (row === cursor) { cursor = cursor.nextSibling; } else { body.insertBefore(row, cursor); }
    }
    while (cursor) { const next = cursor.nextSibling; cursor.remove(); cursor = next; }
  }
  document.getElementById("ticket-count").textContent = String(state.tickets.size);
}

function tick() {
  if (!state) { return; }
  const clock = new Intl.DateTimeFormat("zh-CN", { timeZone: state.hall.timezone, hour: "2-digit",
    minute: "2-digit", second: "2-digit", hour12: false });
  document.getElementById("clock").textContent = clock.format(new Date(serverNow() * 1000));
  for (const timer of document.querySelectorAll("[data-since]")) {
    timer.textContent = elapsed(Number(timer.dataset.since));
  }
}

// ---------------------------------------------------------------- live connection
/* The stream sends a snapshot, then deltas numbered one past the last: the counters,
   services and tickets that changed (by id), the tickets gone, new estimated waits, and the
   hall header, alerts and devices when they changed. A gap in the numbers: reconnect, which
   brings a new snapshot. */
let seq = null;
let source = null;

function byId(list, key, changed) {
  const index = new Map(changed.map((row) => [row[key], row]));
  return list.map((row) => index.get(row[key]) || row);
}

function applySnapshot(message) {
  state = { hall: message.hall, counters: message.counters, services: message.services,
    tickets: new Map(message.tickets.map((t) => [t.ticket, t])), alerts: message.alerts,
    devices: message.devices };
  return null;
}

function applyDelta(message) {
  const changed = [];
  if (message.hall) { state.hall = message.hall; }
  if (message.counters) { state.counters = byId(state.counters, "counter", message.counters); }
  if (message.services) { state.services = byId(state.services, "service", message.services); }
  for (const t of message.tickets || []) { state.tickets.set(t.ticket, t); changed.push(t.ticket); }
  for (const id of message.gone || []) { state.tickets.delete(id); changed.push(id); }
  for (const [id, wait] of Object.entries(message.waits || {})) {
    const t = state.tickets.get(id);
    if (t) { state.tickets.set(id, { ...t, estimated_wait_min: wait }); changed.push(id); }
  }
  if (message.alerts) { state.alerts = message.alerts; }
  if (message.devices) { state.devices = message.devices; }
  return changed;
}

function receive(message) {
  if (message.type !== "snapshot" && (state === null || message.seq !== seq + 1)) {
    connect();  // a gap: start again from a snapshot
    return;
  }
  const changed = message.type === "snapshot" ? applySnapshot(message) : applyDelta(message);
  seq = message.seq;
  skew = message.now_ts - Date.now() / 1000;
  render(changed);
  tick();
}

function setConnected(up) {
  const conn = document.getElementById("conn");
  conn.classList.toggle("up", up);
  conn.replaceChildren(bi(up ? ["实时", "live"] : ["重新连接中", "reconnecting"]));
}

function connect() {
  if (source) { source.close(); }
  seq = null;
  state = null;
  const current = source = new EventSource("/api/live/events");
  current.onmessage = (event) => { receive(JSON.parse(event.data)); setConnected(true); };
  current.addEventListener("gone", () => { current.close(); location.href = "/login"; });
  current.onerror = async () => {
    setConnected(false);
    if (current.readyState !== EventSource.CLOSED) { return; }
    const me = await fetch("/api/me", { credentials: "same-origin" }).catch(() => null);
    if (me && me.status === 401) { location.href = "/login?next=/live"; return; }
    setTimeout(() => { if (source === current) { connect(); } }, 3000);
  };
}

// ---------------------------------------------------------------- actions
function dialogError(dialog, message) {
  const box = dialog.querySelector(".dialog-error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function act(name, body, dialog, done) {
  if (dialog) { dialogError(dialog, ""); }
  try {
    const reply = await postJson(`/api/commands/${name}`, body);
    if (done) { done(reply); }
    return reply;
  } catch (error) {
    if (dialog && dialog.open) { dialogError(dialog, error.message); } else { toast(error.message, true); }
    return null;
  }
}

function counterById(id) { return state.counters.find((c) => c.counter === id); }

function fillCounterDialog() {
  const c = counterById(openCounter);
  const dialog = document.getElementById("counter-dialog");
  document.getElementById("counter-title").textContent = `${c.name} ${c.name_en}`;
  const status = c.offline ? "offline" : c.status;
  document.getElementById("counter-detail").textContent =
    `${COUNTER_STATUS[status].join(" ")} · ${c.clerk ? c.clerk.name + " " + c.clerk.staff_no : "未签到 No clerk"}` +
    (c.number ? ` · ${c.number}` : "");
  for (const button of dialog.querySelectorAll("[data-counter-action]")) {
    const target = { open_counter: "open", pause: "paused", close_counter: "closed" }[button.dataset.counterAction];
    button.classList.toggle("current", target === c.status);
    button.setAttribute("aria-pressed", String(target === c.status));
  }
}

function openCounterDialog(id) {
  openCounter = id;
  const c = counterById(id);
  const dialog = document.getElementById("counter-dialog");
  const all = c.services.includes("*");
  document.getElementById("serve-all").checked = all;
  document.getElementById("serve-list").replaceChildren(...state.services.map((s) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", value: s.service,
      checked: all || c.services.includes(s.service) ? "checked" : null, disabled: all ? "disabled" : null }),
    ` ${s.service} ${s.name}`)));
  dialogError(dialog, "");
  fillCounterDialog();
  dialog.showModal();
}

function serviceChoices(container, name) {
  const first = state.services.find((s) => s.intake_open);
  container.replaceChildren(...state.services.map((s) => el("label", { class: "choice" },
    el("input", { type: "radio", name, value: s.service, checked: s === first ? "checked" : null,
      disabled: s.intake_open ? null : "disabled" }),
    el("span", { class: "svc-id" }, s.service),
    el("span", { class: "choice-name" }, s.name, el("span", { class: "en block", lang: "en" }, s.name_en)),
    el("span", { class: "choice-side" }, s.intake_open ? `${s.waiting} 等候 waiting` : "停止取号 Stopped"))));
}

function issueResult(reply) {
  const t = reply.result.ticket;
  const box = document.getElementById("issue-result");
  box.replaceChildren(
    el("p", { class: "issued-number" }, t.number),
    el("p", {}, `前面 ${t.ahead} 人 · ${t.ahead} ahead · 约 ${fmtMin(t.estimated_wait_min)} 分钟 min`),
    el("p", {}, el("a", { class: "button primary", href: `/tickets/${t.ticket}/print` }, "打印号票 Print ticket")));
  box.hidden = false;
  document.getElementById("issue-go").disabled = true;
  toast(`已取号 Issued ${t.number}`);
}

function confirmThen(title, text, action) {
  confirmed = action;
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  const dialog = document.getElementById("confirm-dialog");
  dialogError(dialog, "");
  dialog.showModal();
}

function onClick(event) {
  const target = event.target.closest("button");
  if (!target || !state) { return; }
  const d = target.dataset;
  if (d.counter) { openCounterDialog(d.counter); return; }
  if (!MAY_ACT) { return; }
  if (d.counterAction) {
    const dialog = document.getElementById("counter-dialog");
    act(d.counterAction, { counter: openCounter }, dialog, () => { dialog.close(); toast("已更新 Updated"); });
  } else if (d.intake) {
    act("set_intake", { service: d.intake, open: d.open === "true" }, null,
      () => toast(`${d.intake}: ${d.open === "true" ? "恢复取号 intake resumed" : "停止取号 intake stopped"}`));
  } else if (d.move) {
    movingTicket = d.move;
    const ticket = state.tickets.get(d.move);
    document.getElementById("move-title").textContent = `改业务 Move ${ticket ? ticket.number : ""}`;
    document.getElementById("move-service").replaceChildren(...state.services.map((s) =>
      el("option", { value: s.service }, `${s.service} ${s.name} ${s.name_en}`)));
    dialogError(document.getElementById("move-dialog"), "");
    document.getElementById("move-dialog").showModal();
  } else if (d.followKind) {
    following = { kind: d.followKind, subject: d.followSubject };
    document.getElementById("follow-text").textContent =
      target.closest("li").querySelector(".alert-text").textContent;
    document.getElementById("follow-note").value = "";
    dialogError(document.getElementById("follow-dialog"), "");
    document.getElementById("follow-dialog").showModal();
  } else if (d.reprint) {
    act("reprint", { ticket: d.reprint }, null, () => { location.href = `/tickets/${d.reprint}/print`; });
  } else if (d.cancel) {
    confirmThen(`取消 ${d.number}? Cancel ${d.number}?`, "居民需要重新取号。The resident would need a new ticket.",
      () => act("cancel", { ticket: d.cancel }, document.getElementById("confirm-dialog"), () => {
        document.getElementById("confirm-dialog").close(); toast(`已取消 Cancelled ${d.number}`);
      }));
  }
}

function wireDialogs() {
  document.getElementById("serve-all").addEventListener("change", (event) => {
    for (const box of document.querySelectorAll("#serve-list input")) {
      box.disabled = event.target.checked;
      if (event.target.checked) { box.checked = true; }
    }
  });
  document.getElementById("save-services").addEventListener("click", () => {
    const dialog = document.getElementById("counter-dialog");
    const all = document.getElementById("serve-all").checked;
    const chosen = [...document.querySelectorAll("#serve-list input:checked")].map((b) => b.value);
    if (!all && !chosen.length) { dialogError(dialog, "至少选一项业务 Choose at least one service"); return; }
    act("set_counter_services", { counter: openCounter, services: all ? ["*"] : chosen }, dialog,
      () => { dialog.close(); toast("业务已保存 Services saved"); });
  });
  document.getElementById("counter-dialog").addEventListener("close", () => { openCounter = null; });
  document.getElementById("issue-open").addEventListener("click", () => {
    serviceChoices(document.getElementById("issue-services"), "issue-service");
    document.getElementById("issue-green").checked = false;
    document.getElementById("issue-result").hidden = true;
    document.getElementById("issue-go").disabled = false;
    dialogError(document.getElementById("issue-dialog"), "");
    document.getElementById("issue-dialog").showModal();
  });
  document.getElementById("issue-form").addEventListener("change", () => {
    document.getElementById("issue-go").disabled = false;
    document.getElementById("issue-result").hidden = true;
  });
  document.getElementById("issue-go").addEventListener("click", () => {
    const chosen = document.querySelector("#issue-services input:checked");
    const dialog = document.getElementById("issue-dialog");
    if (!chosen) { dialogError(dialog, "请选择业务 Choose a service"); return; }
    act("issue", { service: chosen.value, green: document.getElementById("issue-green").checked },
      dialog, issueResult);
  });
  document.getElementById("edit-notice").addEventListener("click", () => {
    document.getElementById("notice-input").value = state ? state.hall.notice : "";
    dialogError(document.getElementById("notice-dialog"), "");
    document.getElementById("notice-dialog").showModal();
  });
  document.getElementById("notice-save").addEventListener("click", () => {
    const dialog = document.getElementById("notice-dialog");
    act("set_notice", { text: document.getElementById("notice-input").value.trim() }, dialog,
      () => { dialog.close(); toast("通知已发布 Notice published"); });
  });
  document.getElementById("move-go").addEventListener("click", () => {
    const dialog = document.getElementById("move-dialog");
    act("move", { ticket: movingTicket, to_service: document.getElementById("move-service").value },
      dialog, () => { dialog.close(); toast("已改业务 Moved"); });
  });
  document.getElementById("end-day").addEventListener("click", () => confirmThen(
    "结束营业？End the day?", "所有未办结的号将被取消，所有窗口关闭。Every open ticket is cancelled and every counter closed.",
    () => act("end_day", {}, document.getElementById("confirm-dialog"), () => {
      document.getElementById("confirm-dialog").close(); toast("今日营业已结束 The day has ended");
    })));
  document.getElementById("confirm-go").addEventListener("click", () => { if (confirmed) { confirmed(); } });
  document.getElementById("follow-go").addEventListener("click", () => {
    const dialog = document.getElementById("follow-dialog");
    act("follow_up", { ...following, note: document.getElementById("follow-note").value.trim() },
      dialog, () => { dialog.close(); toast("已处理 Followed up"); });
  });
}

const WHATIF_LABEL = { now: ["维持现状", "As now"], "+1": ["加开 1 个", "Open 1 more"],
  "+2": ["加开 2 个", "Open 2 more"], "-1": ["减少 1 个", "Close 1"] };

async function estimateWhatIf() {
  const button = document.getElementById("whatif-go");
  const note = document.getElementById("whatif-note");
  button.disabled = true;
  note.textContent = "正在估算… Estimating…";
  try {
    const response = await fetch("/api/whatif", { credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { throw new Error((body.error && body.error.message) || `HTTP ${response.status}`); }
    const rows = document.getElementById("whatif-rows");
    rows.replaceChildren(...body.outlooks.map((o) => el("tr", {},
      el("th", { scope: "row" }, bi(WHATIF_LABEL[o.label] || [o.label, o.label]),
        o.changed.length ? el("span", { class: "small" }, " (" + o.changed.join(", ") + ")") : null),
      el("td", {}, String(o.counters_open)),
      el("td", {}, fmtMin(o.mean_wait_min) + " min"),
      el("td", {}, fmtMin(o.p90_wait_min) + " min"),
      el("td", {}, Math.round(o.share_within_10_min * 100) + "%"),
      el("td", {}, o.last_call || "–"))));
    document.getElementById("whatif-table").hidden = false;
    note.textContent = `按 ${body.at.slice(11, 16)} 的状态估算 · Estimated from the hall at ${body.at.slice(11, 16)}`;
  } catch (error) {
    note.textContent = `估算失败 Could not estimate: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("whatif-go").addEventListener("click", estimateWhatIf);
  showChime();
  document.getElementById("chime").addEventListener("click", () => {
    localStorage.setItem(CHIME_KEY, chimeOn() ? "off" : "on");
    showChime();
    if (chimeOn()) { chime(); }  // a tap: lets the browser play, and the manager hear it
  });
  document.addEventListener("click", onClick);
  document.getElementById("ticket-filter").addEventListener("input", () => { if (state) { drawTickets([]); } });
  wireDialogs();
  setInterval(tick, 1000);
  connect();
});
