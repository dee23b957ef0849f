// The offline banner and the service worker (which caches the page shell only, never patient data).
const banner = document.getElementById("offline-banner");
function showState() {
  if (banner) banner.hidden = navigator.onLine;
}
window.addEventListener("online", showState);
window.addEventListener("offline", showState);
showState();

const script = document.querySelector("script[data-sw-url]");
if ("serviceWorker" in navigator && script && window.isSecureContext) {
  navigator.serviceWorker.register(script.dataset.swUrl, { scope: "/" }).catch(() => {});
}

// Join buttons light up when the room opens, without a reload.
function refreshJoinButtons() {
  const now = Date.now();
  for (const button of document.querySelectorAll("a.join[data-opens-at]")) {
    const opens = Date.parse(button.dataset.opensAt);
    const ends = Date.parse(button.dataset.endsAt);
    const open = now >= opens && now < ends && button.dataset.href;
    if (open) {
      button.setAttribute("href", button.dataset.href);
      button.removeAttribute("aria-disabled");
      const waiting = document.getElementById(button.dataset.waitingId);
      if (waiting) waiting.hidden = true;
    }
  }
}
refreshJoinButtons();
setInterval(refreshJoinButtons, 15000);
