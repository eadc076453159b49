// Keeps the donation form's "cost after tax reduction" current as the donor chooses, and
// ticks a default suggestion. The server computes the same figures (src/domain/tax.rs) and
// the form works without this script: CSS shows the suggestions of the frequency ticked, each
// with its own cost, and the server reads what was ticked.
(function () {
  "use strict";
  var form = document.querySelector(".donate-form");
  var preview = document.getElementById("tax-preview");
  var other = document.getElementById("other_amount");
  if (!form || !preview || !other) return;
  var data = form.dataset;
  var rate = int(data.taxRate);
  var baseRate = int(data.taxBaseRate);
  var ceiling = data.taxCeiling ? int(data.taxCeiling) : null;
  var min = int(data.min);
  var max = int(data.max);

  function int(text) {
    return parseInt(text, 10) || 0;
  }
  // French input, as the server reads it: "50", "50,00", "1 000", "12.5".
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
  // TaxReduction::reduction: the rate up to the yearly ceiling, the base rate beyond, floored.
  function reduction(yearly) {
    var favoured = ceiling !== null && yearly > ceiling ? ceiling : yearly;
    return Math.floor((favoured * rate + (yearly - favoured) * baseRate) / 100);
  }
  function frequency() {
    return form.querySelector('input[name="frequency"]:checked');
  }
  function ticked(f) {
    return form.querySelector('input[name="amount_' + f.value + '"]:checked');
  }
  // The recap beside the form (laptops): the gift, its cost, what it pays for.
  var recap = {
    gift: document.getElementById("recap-gift"),
    cost: document.getElementById("recap-cost"),
    impact: document.getElementById("recap-impact"),
  };
  function show(element, before, strong, after) {
    if (!element) return;
    element.textContent = before;
    if (strong) {
      var b = document.createElement("strong");
      b.textContent = strong;
      element.appendChild(b);
      element.appendChild(document.createTextNode(after));
    }
  }
  function say(before, strong, after) {
    show(preview, before, strong, after);
  }
  function recapNothing() {
    show(recap.gift, "Choisissez un montant");
    show(recap.cost, "");
    show(recap.impact, "");
  }
  function update() {
    var f = frequency();
    if (!f) return;
    var radio = ticked(f);
    var amount = radio && radio.value !== "other" ? int(radio.value) : null;
    if (amount === null) {
      recapNothing();
      if (other.value.trim() === "") return say(data.rule);
      amount = cents(other.value);
      if (amount === null || amount < min || amount > max) return say(data.range);
    }
    var n = int(f.dataset.instalments) || 1;
    var cost = Math.floor((amount * n - reduction(amount * n)) / n);
    var per = f.dataset.per;
    say(data.costIntro + " ", euros(cost), (per ? " " + per : "") + ".");
    show(recap.gift, "", euros(amount), per ? " " + per : "");
    show(recap.cost, "soit ", euros(cost), " après réduction d\u2019impôt");
    var label = radio && radio.value !== "other" && radio.parentNode.querySelector(".amount__label");
    show(recap.impact, label ? label.textContent : "");
  }

  // A group where nothing is ticked yet gets its default suggestion (the server ticks only
  // what the donor chose, so that without this script a free amount counts at once).
  function tickDefaults() {
    if (other.value.trim() !== "") return;
    form.querySelectorAll(".amounts[data-frequency]").forEach(function (group) {
      if (group.querySelector("input:checked")) return;
      var byDefault = group.querySelector("input[data-default]");
      if (byDefault) byDefault.checked = true;
    });
  }

  var current = frequency();
  // The groups where the donor picked something themselves (not the default ticked above).
  var picked = {};
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "frequency") {
      var before = current && ticked(current);
      var now = ticked(input);
      if (before && before.value === "other" && !picked[input.value]) {
        // A free amount typed for the previous frequency stays the choice, unless the donor
        // picked something else for this one.
        var same = form.querySelector('input[name="amount_' + input.value + '"][value="other"]');
        if (same) same.checked = true;
      } else if (now && now.value === "other" && other.value.trim() === "") {
        // « Autre montant » with nothing typed any more: back to this frequency's default.
        var byDefault = form.querySelector('input[name="amount_' + input.value + '"][data-default]');
        if (byDefault) byDefault.checked = true;
      }
      current = input;
    } else if (input.name.indexOf("amount_") === 0) {
      picked[input.name.slice("amount_".length)] = true;
      // A suggestion picked after typing a free amount: the suggestion it is.
      if (input.value !== "other") other.value = "";
    }
    update();
  });
  other.addEventListener("input", function () {
    var f = frequency();
    var radio = f && form.querySelector('input[name="amount_' + f.value + '"][value="other"]');
    if (radio && other.value.trim() !== "") {
      radio.checked = true;
      picked[f.value] = true;
    }
    update();
  });
  // A suggestion ticked is the gift: a free amount left in its field from another frequency
  // is not sent along (the server would ask which of the two was meant).
  form.addEventListener("submit", function () {
    var f = frequency();
    var radio = f && ticked(f);
    if (radio && radio.value !== "other") other.value = "";
  });
  // Also when the browser restores the fields (back from the checkout page): after this script.
  window.addEventListener("pageshow", function () {
    current = frequency();
    update();
  });
  tickDefaults();
  update();
})();
