// The warning a minute before the session ends (goodskin.middleware.SessionLimitsMiddleware):
// after the idle limit it offers "Stay logged in" (a request restarts the count); before the
// session's total limit it only warns. When the time is up, the page goes to the login page.
(function () {
  "use strict";
  var body = document.body;
  var box = document.getElementById("session-warning");
  if (!box || !body.dataset.sessionIdle) return;
  var text = document.getElementById("session-warning-text");
  var stay = document.getElementById("session-stay");
  var form = stay.form;
  var warning = Number(body.dataset.sessionWarning) * 1000;
  var timers = [];

  function later(ms, run) { timers.push(window.setTimeout(run, Math.max(0, ms))); }
  function clear() { timers.forEach(window.clearTimeout); timers = []; }
  function toLogin() { window.location.assign(body.dataset.login); }

  function plan(idle, left) {
    clear();
    box.classList.add("d-none");
    var endsIdle = idle < left;
    var ends = Math.min(idle, left) * 1000;
    later(ends - warning, function () {
      text.textContent = endsIdle ? text.dataset.idleText : text.dataset.endText;
      stay.classList.toggle("d-none", !endsIdle);
      box.classList.remove("d-none");
      if (endsIdle) stay.focus();
    });
    later(ends + 1000, toLogin);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (limits) { plan(limits.idle, limits.left); })
      .catch(toLogin);
  });

  plan(Number(body.dataset.sessionIdle), Number(body.dataset.sessionLeft));
})();
