// The only script: the preview's offer countdown ticks. Every page works without it.
(function () {
  "use strict";
  function left(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var units = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
    var parts = [];
    for (var i = 0; i < units.length && parts.length < 2; i++) {
      if (s >= units[i][0] || (units[i][1] === "s" && parts.length === 0)) {
        parts.push(Math.floor(s / units[i][0]) + " " + units[i][1]);
        s = s % units[i][0];
      }
    }
    return parts.join(" ");
  }
  function tick() {
    var nodes = document.querySelectorAll("[data-expires]");
    for (var i = 0; i < nodes.length; i++) {
      var remaining = Number(nodes[i].getAttribute("data-expires")) - Date.now();
      nodes[i].textContent = remaining > 0 ? "Ends in " + left(remaining) : "Offer ended";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-expires]")) {
      tick();
      setInterval(tick, 1000);
    }
  });
})();
