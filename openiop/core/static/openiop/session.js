// Automatic log-off warning and live notices for signed-in pages.
//
// The server ends an idle session on its own (IdleLogoutMiddleware); this
// script only warns a minute before and offers "Stay signed in". Before it
// warns it asks the server how long is left, so activity in another tab
// counts too. The status poll itself does not count as activity.

const body = document.body;
const idleSeconds = Number(body.dataset.idleSeconds);
const warningSeconds = Number(body.dataset.warningSeconds);
const dialog = document.getElementById("idle-warning");
const countdown = document.getElementById("idle-countdown");
const stay = document.getElementById("idle-stay");
const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
let timer = null;
let ticker = null;

async function signOut() {
  // End the session on the server for certain (not just by timing), then
  // show the sign-in page with the reason.
  try {
    await fetch(body.dataset.logoutUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfInput ? csrfInput.value : "", "Content-Type": "application/x-www-form-urlencoded" },
      body: "reason=idle",
      credentials: "same-origin",
      redirect: "manual",
    });
  } finally {
    window.location.assign(body.dataset.loginUrl);
  }
}

function schedule(secondsLeft) {
  clearTimeout(timer);
  timer = setTimeout(check, Math.max(0, secondsLeft - warningSeconds) * 1000);
}

// Seconds until the server ends the session; null when it already has.
async function secondsLeftOnServer(fallback) {
  try {
    const response = await fetch(body.dataset.sessionUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 401) return null;
    return (await response.json()).seconds_left;
  } catch (error) {
    return fallback; // offline: go by this page's own clock; the server decides anyway.
  }
}

async function check() {
  const secondsLeft = await secondsLeftOnServer(warningSeconds);
  if (secondsLeft === null) return signOut();
  if (secondsLeft > warningSeconds + 1) return schedule(secondsLeft);
  warn(secondsLeft);
}

// At the end of the countdown, ask once more: the person may have been busy
// in another tab, and then this tab must not sign them out.
async function countdownEnded() {
  const secondsLeft = await secondsLeftOnServer(0);
  if (secondsLeft !== null && secondsLeft > 1) {
    dialog.close();
    return schedule(secondsLeft);
  }
  signOut();
}

function warn(secondsLeft) {
  let left = Math.max(0, Math.round(secondsLeft));
  countdown.textContent = String(left);
  if (!dialog.open) dialog.showModal();
  clearInterval(ticker);
  ticker = setInterval(() => {
    left -= 1;
    countdown.textContent = String(Math.max(0, left));
    if (left <= 0) {
      clearInterval(ticker);
      countdownEnded();
    }
  }, 1000);
}

stay.addEventListener("click", async () => {
  clearInterval(ticker);
  dialog.close();
  const response = await fetch(body.dataset.keepaliveUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrfInput ? csrfInput.value : "", Accept: "application/json" },
    credentials: "same-origin",
  });
  if (response.status === 401) return signOut();
  schedule((await response.json()).seconds_left);
});

if (idleSeconds > 0 && dialog) schedule(idleSeconds);

// Live notices (e.g. a break-glass alert for the program director).
function connectNotices(attempt = 0) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/notifications/`);
  socket.addEventListener("message", (event) => {
    const notice = JSON.parse(event.data);
    const item = document.createElement("div");
    item.className = "notice";
    item.textContent = notice.text;
    document.getElementById("live-notices").append(item);
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || attempt > 5) return;
    setTimeout(() => connectNotices(attempt + 1), 2000 * (attempt + 1));
  });
}
if ("WebSocket" in window) connectNotices();
