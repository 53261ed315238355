// The running total of a session chart: volume per agent (and of foam) over the shown rows,
// with the warning above an agent's maximum per session (or the foam maximum). The server
// shows the same after each post.
(function () {
  var form = document.getElementById("chart-form");
  if (!form) { return; }
  var maxima = JSON.parse(document.getElementById("session-maxima").textContent);
  var foamMax = parseFloat(form.dataset.foamMax);
  function update() {
    var total = 0, foam = 0, perAgent = {};
    form.querySelectorAll("[data-area-row]").forEach(function (row) {
      if (row.hidden) { return; }
      var volume = parseFloat(row.querySelector("[data-volume]").value) || 0;
      var agent = row.querySelector("[data-agent]").value;
      total += volume;
      perAgent[agent] = (perAgent[agent] || 0) + volume;
      if (row.querySelector("[data-form]").value === "foam") { foam += volume; }
    });
    // In hundredths of a mL, as the server counts: 3.3 + 3.3 + 3.4 is 10, not a hair more.
    function above(volume, most) { return Math.round(volume * 100) > Math.round(most * 100); }
    var over = above(foam, foamMax) || Object.keys(perAgent).some(function (a) {
      return a in maxima && above(perAgent[a], parseFloat(maxima[a]));
    });
    var box = document.getElementById("volume-total");
    box.querySelector("[data-total]").textContent = total.toFixed(2);
    box.querySelector("[data-over]").hidden = !over;
    box.classList.toggle("alert-warning", over);
    box.classList.toggle("alert-light", !over);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("click", function () { window.setTimeout(update, 0); });
  form.addEventListener("keydown", function () { window.setTimeout(update, 0); });
})();
