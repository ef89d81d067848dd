// Mail texts: a button per placeholder beside each subject and text field, inserting it where the
// cursor is. Without JavaScript the list above the form says what to type.
(function () {
  "use strict";
  var list = document.querySelector("[data-placeholders]");
  if (!list) return;
  var names = Array.prototype.map.call(list.querySelectorAll("code"), function (code) { return code.textContent; });
  var fields = document.querySelectorAll("#invitation_subject, #invitation_text, #reminder_subject, #reminder_text");
  Array.prototype.forEach.call(fields, function (field) {
    var group = document.createElement("div");
    group.className = "placeholder-buttons";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", (document.querySelector("label[for='" + field.id + "']") || {}).textContent + ": " + list.getAttribute("data-label"));
    names.forEach(function (name) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary compact";
      button.textContent = name;
      button.addEventListener("click", function () {
        var start = field.selectionStart || 0, end = field.selectionEnd || 0;
        field.value = field.value.slice(0, start) + name + field.value.slice(end);
        field.focus();
        field.setSelectionRange(start + name.length, start + name.length);
      });
      group.appendChild(button);
    });
    field.parentNode.insertBefore(group, field.nextSibling);
  });
})();
