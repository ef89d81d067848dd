// The survey builder: a preview that follows the form as the evaluator types, and drag and drop of
// questions (across pages too), options and statements. Without JavaScript the "Förhandsgranska"
// button shows the same preview and the move buttons, which stay, do the moving.
(function () {
  "use strict";
  var form = document.querySelector("form.builder");
  if (!form) { return; }
  var status = document.getElementById("builder-status");

  // -- live preview -------------------------------------------------------------------------------
  // The form is sent as it stands (nothing is saved) and the answer replaces the panel's body. The
  // panel is no live region: the preview is there to look at, not to be read out at each keystroke.
  var body = document.getElementById("preview-body"), timer = null, sent = 0;
  function refresh() {
    var mine = ++sent;
    fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && mine === sent) { body.innerHTML = html; } })
      .catch(function () { /* the button still shows the preview */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 500); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);

  // -- drag and drop --------------------------------------------------------------------------------
  // Each box carries its hidden order field, so moving the box is all the server needs to see.
  var dragged = null, from = null, fromIndex = 0;
  function say(text) { status.textContent = ""; setTimeout(function () { status.textContent = text; }, 50); }
  function itemsOf(list) {
    return Array.prototype.filter.call(list.children, function (child) { return child.hasAttribute("data-sort-item"); });
  }
  function groupOf(list) { return list.dataset.sortGroup; }
  function clearMarks() {
    form.querySelectorAll(".drop-before, .drop-after").forEach(function (item) {
      item.classList.remove("drop-before", "drop-after");
    });
  }
  function renumber() {
    form.querySelectorAll(".builder-questions").forEach(function (list) {
      itemsOf(list).forEach(function (item, n) {
        var number = item.querySelector("[data-number]");
        if (number) { number.textContent = list.dataset.sortWord + " " + (n + 1); }
      });
    });
  }
  // Where a drop at this point would put the box: the list, and the box to go before (null: last).
  function target(event) {
    var list = event.target.closest("[data-sort-group]");
    if (list && groupOf(list) !== groupOf(from)) { list = null; }
    if (!list && groupOf(from) === "questions") {
      var page = event.target.closest(".builder-page");
      list = page && page.querySelector(".builder-questions");
    }
    if (!list) { return null; }
    var item = event.target.closest("[data-sort-item]");
    while (item && item.parentNode !== list) { item = item.parentNode.closest("[data-sort-item]"); }
    if (!item || item === dragged) { return { list: list, before: item === dragged ? dragged : null, item: item }; }
    var box = item.getBoundingClientRect(), after = event.clientY > box.top + box.height / 2;
    return { list: list, before: after ? item.nextElementSibling : item, item: item, after: after };
  }
  function handleFor(item) {
    var handle = document.createElement("span");
    handle.className = "drag-handle";
    handle.setAttribute("aria-hidden", "true");  // keyboards and screen readers use the move buttons
    handle.title = form.dataset.drag;
    handle.textContent = "\u2630";
    // Only the handle starts a drag: a draggable box would keep text in its fields from being selected.
    handle.addEventListener("pointerenter", function () { item.draggable = true; });
    handle.addEventListener("pointerleave", function () { if (dragged !== item) { item.draggable = false; } });
    var legend = item.querySelector(":scope > legend");
    if (legend) { legend.insertBefore(handle, legend.firstChild); } else { item.insertBefore(handle, item.firstChild); }
    item.addEventListener("dragstart", function (event) {
      if (dragged) { return; }  // an option inside a dragged question: the question moves
      event.stopPropagation();
      dragged = item; from = item.parentNode; fromIndex = itemsOf(from).indexOf(item);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "");
      item.classList.add("dragging");
    });
    item.addEventListener("dragend", function () {
      item.draggable = false; item.classList.remove("dragging"); clearMarks(); dragged = null;
    });
  }
  form.querySelectorAll("[data-sort-group] > [data-sort-item]").forEach(handleFor);
  form.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    var place = target(event);
    if (!place) { return; }
    event.preventDefault();
    clearMarks();
    if (place.item && place.item !== dragged) { place.item.classList.add(place.after ? "drop-after" : "drop-before"); }
  });
  form.addEventListener("drop", function (event) {
    if (!dragged) { return; }
    var place = target(event);
    if (!place) { return; }
    event.preventDefault();
    clearMarks();
    if (place.before === dragged) { return; }
    if (place.list !== from && itemsOf(from).length === 1) { say(form.dataset.notEmpty); return; }
    place.list.insertBefore(dragged, place.before);
    renumber();
    var to = itemsOf(place.list).indexOf(dragged) + 1;
    var message = (place.list === from ? form.dataset.moved : form.dataset.movedPage)
      .replace("{what}", from.dataset.sortWord).replace("{from}", fromIndex + 1)
      .replace("{to}", to).replace("{page}", place.list.dataset.page);
    say(message);
    later();
  });
})();
