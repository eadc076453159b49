// While a payment is being confirmed, the thank-you page asks the server again every few
// seconds and shows the new state in place, announced to screen readers by the status
// region. Without this script the page says the same and offers a link that reloads it
// (a `<meta http-equiv="refresh">` would reload under the reader's feet: WCAG 2.2.1).
(function () {
  "use strict";
  var status = document.getElementById("thanks-status");
  if (!status || !window.fetch || !window.DOMParser) return;
  var DELAY = 4000;

  function poll(link) {
    window.setTimeout(function () {
      fetch(link.getAttribute("href"), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          var fresh = next.querySelector(".thanks");
          var current = document.querySelector(".thanks");
          if (!fresh || !current) return;
          var nextLink = fresh.querySelector("[data-poll]");
          if (nextLink) {
            // Still being confirmed: keep the page as it is, ask again.
            link.setAttribute("href", nextLink.getAttribute("href"));
            poll(link);
            return;
          }
          current.replaceWith(document.adoptNode(fresh));
          var eyebrow = fresh.querySelector(".eyebrow");
          status.textContent = eyebrow ? eyebrow.textContent : "";
        })
        .catch(function () {
          poll(link);
        });
    }, DELAY);
  }

  var link = document.querySelector(".thanks [data-poll]");
  if (link) poll(link);
})();
