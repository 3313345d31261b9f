/* The appointments page: book one of today's slots for a resident; today's bookings. */
"use strict";

const REFRESH_MS = 15000; // statuses move with time: booked, late, missed
const STATUS = {
  booked: ["已预约", "Booked"],
  checked_in: ["已签到", "Checked in"],
  late: ["迟到", "Late"],
  missed: ["未到", "Missed"],
};
const TICKET = {
  pending_print: "待打印", waiting: "等候中", called: "已呼叫", serving: "办理中",
  done: "已办结", no_show: "过号", cancelled: "已取消", void: "作废",
};
let picture = null;

function service(id) {
  return picture.services.find((s) => s.id === id);
}

function renderServices() {
  const select = document.getElementById("service");
  const chosen = select.value;
  select.replaceChildren(...picture.services.map((s) => {
    const option = el("option", "", `${s.id} ${s.name} ${s.name_en}`);
    option.value = s.id;
    return option;
  }));
  if (chosen && service(chosen)) { select.value = chosen; }
}

function renderSlots() {
  const spec = service(document.getElementById("service").value);
  const grid = document.getElementById("slots");
  const checked = grid.querySelector("input:checked");
  const keep = checked ? checked.value : null;
  const open = spec.slots.filter((s) => s.bookable || s.free === 0);
  const rule = spec.capacity === null ? `每 ${spec.slot_min} 分钟，不限人数 · every ${spec.slot_min} min, no limit`
    : `每 ${spec.slot_min} 分钟 ${spec.capacity} 人 · ${spec.capacity} per ${spec.slot_min} min`;
  document.getElementById("slot-rule").textContent = rule;
  grid.replaceChildren(...open.map((s) => {
    const label = el("label", s.bookable ? "slot" : "slot full");
    const input = el("input");
    input.type = "radio";
    input.name = "slot";
    input.value = s.start;
    input.disabled = !s.bookable;
    input.checked = s.bookable && s.start === keep;
    const left = s.free === null ? both("不限", "open") : s.free === 0 ? both("已满", "full")
      : both(`余 ${s.free}`, "left");
    left.className = "left";
    label.append(input, el("span", "", s.start), left);
    return label;
  }));
  document.getElementById("no-slots").hidden = open.some((s) => s.bookable);
}

function renderBookings() {
  const rows = picture.appointments.map((a) => {
    const tr = el("tr");
    const [zh, en] = STATUS[a.status];
    const state = el("td");
    const badge = both(zh, en);
    badge.className = `appt st-${a.status}`;
    state.append(badge);
    const ticket = a.ticket ? `${a.ticket} ${TICKET[a.ticket_status] || ""}` : "—";
    tr.append(el("td", "", a.slot), el("td", "", `${a.service} ${a.service_name}`), state,
      el("td", "", ticket));
    return tr;
  });
  document.getElementById("bookings").replaceChildren(...rows);
  document.getElementById("booking-count").textContent = String(rows.length);
  document.getElementById("no-bookings").hidden = rows.length > 0;
  const counts = Object.entries(STATUS).filter(([key]) => picture.counts[key])
    .map(([key, [zh, en]]) => `${zh} ${en} ${picture.counts[key]}`);
  document.getElementById("status-counts").textContent = counts.join(" · ");
}

async function load() {
  const response = await fetch("/api/appointments", { credentials: "same-origin" });
  if (response.status === 401) { location.href = "/login?next=/appointments"; return; }
  if (!response.ok) { return; }
  picture = await response.json();
  document.getElementById("day").textContent = picture.day;
  document.getElementById("clock").textContent = picture.now;
  renderServices();
  renderSlots();
  renderBookings();
}

async function book(event) {
  event.preventDefault();
  const error = document.getElementById("book-error");
  const number = document.getElementById("id-number");
  const slot = document.querySelector("#slots input:checked");
  error.hidden = true;
  if (!slot) {
    error.textContent = "请选择时段 Choose a time slot";
    error.hidden = false;
    return;
  }
  const button = document.getElementById("book");
  const wait = document.getElementById("book-wait");
  button.disabled = true;
  wait.hidden = false;
  try {
    const done = await postJson("/api/appointments", {
      service: document.getElementById("service").value, slot: slot.value, id_number: number.value,
    });
    number.value = "";
    toast(`已预约 Booked: ${done.service} ${done.slot}`);
    await load();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
    wait.hidden = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("service").addEventListener("change", renderSlots);
  document.getElementById("book-form").addEventListener("submit", book);
  load();
  setInterval(load, REFRESH_MS);
});
