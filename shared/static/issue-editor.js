// The issue editor: a Markdown toolbar with keyboard shortcuts, autosave of drafts, and a preview
// that follows the text (it shows the autosaved draft). Without JavaScript the form saves as usual.
(function () {
  var form = document.querySelector("form.editor-form");
  var source = document.getElementById("source");
  if (!form || !source) { return; }

  // -- toolbar --------------------------------------------------------------------------------
  var actions = {
    heading: function (text) { return { before: "\n## ", after: "\n", empty: "Rubrik" }; },
    bold: function () { return { before: "**", after: "**", empty: "fet text" }; },
    italic: function () { return { before: "*", after: "*", empty: "kursiv text" }; },
    link: function () { return { before: "[", after: "](https://)", empty: "länktext" }; },
    list: function () { return { before: "\n- ", after: "\n", empty: "punkt" }; },
    image: function () { return { before: "![", after: "](https://)", empty: "beskrivning av bilden" }; },
    table: function () {
      return { before: "\n| Kolumn | Kolumn |\n|---|---|\n| ", after: " | |\n", empty: "text" };
    }
  };
  function apply(name) {
    var action = actions[name]();
    var start = source.selectionStart, end = source.selectionEnd;
    var chosen = source.value.slice(start, end) || action.empty;
    source.setRangeText(action.before + chosen + action.after, start, end, "end");
    var caret = start + action.before.length;
    source.setSelectionRange(caret, caret + chosen.length);
    source.focus();
    source.dispatchEvent(new Event("input", { bubbles: true }));
  }
  var toolbar = form.querySelector(".toolbar");
  if (toolbar) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-md]");
      if (button) { apply(button.dataset.md); }
    });
  }
  var shortcuts = { "b": "bold", "i": "italic", "k": "link" };
  source.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey)) { return; }
    var key = event.key.toLowerCase(), name = null;
    if (event.altKey && key === "2") { name = "heading"; }
    else if (event.altKey && key === "t") { name = "table"; }
    else if (event.shiftKey && (key === "8" || key === "*")) { name = "list"; }
    else if (event.shiftKey && key === "i") { name = "image"; }
    else if (!event.altKey && !event.shiftKey) { name = shortcuts[key] || null; }
    if (name) { event.preventDefault(); apply(name); }
  });

  // -- width of the preview ---------------------------------------------------------------------
  var frame = document.getElementById("editor-preview-frame");
  document.querySelectorAll(".editor-preview input[name=width]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      frame.classList.toggle("mail-preview-phone", radio.value === "phone" && radio.checked);
      frame.classList.toggle("mail-preview-desktop", radio.value === "desktop" && radio.checked);
    });
  });

  // -- autosave and live preview ----------------------------------------------------------------
  var url = form.dataset.autosaveUrl, status = document.getElementById("autosave-status"), timer = null;
  if (!url) { return; }
  function save() {
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        status.textContent = data.saved ? "Utkastet sparades automatiskt " + data.saved_at + "." : data.error;
        if (data.saved && frame) { frame.src = frame.src; }
      })
      .catch(function () { status.textContent = "Kunde inte spara automatiskt. Tryck Spara."; });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(save, 2000); });
})();
