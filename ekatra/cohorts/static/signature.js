// Signature pads: draw with a finger, pen or mouse on a <canvas data-pad="FIELD">; the drawing goes
// into the hidden input named FIELD as a PNG data URL when the form is sent. Served as a file so
// that the pages' Content-Security-Policy (no inline scripts) allows it.
(function () {
  "use strict";
  function setUp(canvas) {
    var form = canvas.closest("form");
    var field = form.querySelector('input[name="' + canvas.dataset.pad + '"]');
    var context = canvas.getContext("2d");
    var drawing = false, drawn = false, last = null;
    function fit() {
      var ratio = window.devicePixelRatio || 1, box = canvas.getBoundingClientRect();
      canvas.width = Math.round(box.width * ratio);
      canvas.height = Math.round(box.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5; context.lineCap = "round"; context.lineJoin = "round"; context.strokeStyle = "#111";
      drawn = false; field.value = "";
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; last = point(event); canvas.setPointerCapture(event.pointerId); event.preventDefault();
      context.beginPath(); context.arc(last.x, last.y, 1, 0, 2 * Math.PI); context.fill(); drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event);
      context.beginPath(); context.moveTo(last.x, last.y); context.lineTo(next.x, next.y); context.stroke();
      last = next; drawn = true; event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () {
        drawing = false;
        if (drawn) { field.value = canvas.toDataURL("image/png"); }
      });
    });
    var clear = form.querySelector('button[data-clear="' + canvas.dataset.pad + '"]');
    if (clear) {
      clear.hidden = false;
      clear.addEventListener("click", function () { context.clearRect(0, 0, canvas.width, canvas.height); fit(); });
    }
    form.addEventListener("submit", function () { if (drawn) { field.value = canvas.toDataURL("image/png"); } });
    fit();
  }
  document.querySelectorAll("canvas[data-pad]").forEach(setUp);
  document.documentElement.classList.add("js");
})();
