/* Keyboard shortcuts of the counter page (issue 17 §2): N call next, R recall, S served,
   X no-show, T transfer (moves to the list of services; Enter there sends it). Each
   key sends the form marked data-key, exactly as its button does: the page works the
   same without this script. Keys typed into a field are left alone. */
(function () {
  "use strict";
  var sent = false;

  function send(form) {
    if (sent) { return; }  /* one action per page: a held key must not call twice */
    sent = true;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "SELECT" && event.key === "Enter" && target.form &&
        target.form.getAttribute("data-key") && target.value) {
      event.preventDefault();
      send(target.form);
      return;
    }
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" ||
        (target && target.isContentEditable)) { return; }
    /* The key's place (KeyN) first, so that an Azerbaijani or Russian layout works
       as well; else the character typed. */
    var key = /^Key[A-Z]$/.test(event.code || "") ? event.code.slice(3)
      : (event.key || "").toUpperCase();
    if (!/^[A-Z]$/.test(key)) { return; }
    var form = document.querySelector('form[data-key="' + key + '"]');
    if (!form) { return; }
    event.preventDefault();
    var select = form.querySelector("select");
    if (select) { select.focus(); } else { send(form); }
  });

  document.addEventListener("submit", function () { sent = true; });
  window.addEventListener("pageshow", function () { sent = false; });
}());
