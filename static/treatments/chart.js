// The running total of a session chart: volume per agent (and of foam) over the shown rows,
// with the warning above the clinic's maximum. The server shows the same after each post.
(function () {
  var form = document.getElementById("chart-form");
  if (!form) { return; }
  var agentMax = parseFloat(form.dataset.agentMax), foamMax = parseFloat(form.dataset.foamMax);
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
    var over = foam > foamMax || Object.keys(perAgent).some(function (a) { return perAgent[a] > agentMax; });
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
