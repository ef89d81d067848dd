// Make each mail preview frame as tall as the mail it shows (the frame runs no scripts of its own).
(function () {
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = doc.documentElement.scrollHeight + 24 + "px";
      }
    } catch (e) {
      // Not readable (another origin): the frame keeps its fixed height.
    }
  }
  document.querySelectorAll("iframe[data-fit-height]").forEach(function (frame) {
    frame.addEventListener("load", function () { fit(frame); });
    fit(frame);
  });
  window.utskickFitPreview = fit;
})();
