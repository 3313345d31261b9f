/* The sign-in form: posts JSON, then goes where the user was heading. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: form.name.value.trim(), password: form.password.value }),
      credentials: "same-origin",
    });
    if (response.ok) {
      // The server vetted "next" (a path on this site); the parsed URL is checked once more.
      const next = new URL(form.dataset.next || "/live", location.origin);
      location.href = next.origin === location.origin ? next.pathname + next.search : "/live";
      return;
    }
    let message = "登录失败 Sign-in failed";
    try { message = (await response.json()).error.message; } catch (e) { /* keep the default */ }
    error.textContent = message;
    error.hidden = false;
    form.password.value = "";
    form.password.focus();
  });
});
