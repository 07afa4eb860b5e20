// Shipcheck's few lines of script: live countdowns to go-live, copying a secret URL.
// Everything else is htmx.
(function () {
  function countdown(el) {
    const target = Date.parse(el.dataset.countdown);
    if (isNaN(target)) return;
    let ms = target - Date.now();
    const past = ms < 0;
    ms = Math.abs(ms);
    const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24, m = Math.floor(ms / 60000) % 60;
    const text = (d ? d + " d " : "") + h + " h " + m + " min";
    el.textContent = past ? (el.dataset.pastLabel || "") + " " + text : (el.dataset.futureLabel || "") + " " + text;
  }
  function tick() { document.querySelectorAll("[data-countdown]").forEach(countdown); }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
  document.addEventListener("htmx:afterSettle", tick);
  // An item's panel opened from the checklist: bring it into view (below the checklist on a
  // phone) and move the focus to its heading, so keyboard and screen-reader users follow.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "item-panel") return;
    const heading = event.detail.target.querySelector("h2");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.scrollIntoView({ block: "start" });
    heading.focus({ preventScroll: true });
  });
  // A secret URL to copy (the calendar feed's): select it all on focus, and a Copy button
  // where the browser lets a page write to the clipboard.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard) return;
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        const field = document.getElementById(button.dataset.copy);
        if (field) navigator.clipboard.writeText(field.value);
      });
    });
  });
})();
