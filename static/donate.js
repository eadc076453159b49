// Live "cost after tax reduction" on the donation form. The server computes the same figure
// (see src/domain/tax.rs); without JavaScript the form works just the same.
(function () {
  "use strict";
  var form = document.querySelector(".donate-form");
  var preview = document.getElementById("tax-preview");
  if (!form || !preview) return;
  var rate = parseInt(form.dataset.taxRate, 10) || 0;
  var instalments = parseInt(form.dataset.instalments, 10) || 1;
  var per = form.dataset.per || "";
  var other = document.getElementById("other_amount");

  function cents(text) {
    var t = text.replace(/[\s\u00a0\u202f€]/g, "");
    var m = /^(\d{1,9})(?:[.,](\d{0,2}))?$/.exec(t);
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function euros(c) {
    var whole = Math.floor(c / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    var rest = c % 100;
    return whole + (rest ? "," + (rest < 10 ? "0" : "") + rest : "") + "\u00a0€";
  }
  function chosen() {
    if (other.value.trim() !== "") return cents(other.value);
    var radio = form.querySelector('input[name="amount"]:checked');
    return radio && radio.value !== "other" ? parseInt(radio.value, 10) : null;
  }
  function update() {
    var amount = chosen();
    if (!amount) return;
    var yearly = amount * instalments;
    var cost = Math.floor((yearly - Math.floor(yearly * rate / 100)) / instalments);
    preview.textContent = "Après la réduction d'impôt de " + rate + " %, ce don ne vous coûtera que " + euros(cost) + " " + per + ".";
  }
  form.addEventListener("change", update);
  other.addEventListener("input", function () {
    var radio = form.querySelector('input[name="amount"][value="other"]');
    if (radio && other.value.trim() !== "") radio.checked = true;
    update();
  });
})();
