// Login: POST the token once; the console answers with an HttpOnly session cookie and keeps the token itself.
const form = document.getElementById("login");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.textContent = "";
  const token = form.elements.token.value;
  const r = await fetch("/ui/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
  form.elements.token.value = "";
  if (r.ok) {
    location.assign("/ui/");
    return;
  }
  const body = await r.json().catch(() => ({}));
  error.textContent = r.status === 401 ? "Login refused: wrong token." : body.message || `Login failed (${r.status})`;
});
