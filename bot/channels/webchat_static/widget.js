/* Frontdoor widget for a partner's website: one button that opens the chat in a new tab,
   with the crisis line beside it. It stores nothing in the browser and loads nothing else. */
(function () {
  "use strict";
  var chat = "{{CHAT_URL}}";
  var box = document.createElement("div");
  box.setAttribute("role", "complementary");
  box.setAttribute("aria-label", "Support chat");
  box.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483647;background:#004b87;color:#fff;padding:.6rem .9rem;border-radius:.4rem;font:16px/1.4 system-ui,sans-serif;max-width:18rem";
  var link = document.createElement("a");
  link.href = chat;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.textContent = "Open the support chat";
  link.style.cssText = "color:#fff;font-weight:700";
  var tel = document.createElement("a");
  tel.href = "tel:+443001312789";
  tel.textContent = "0300 131 2789";
  tel.style.cssText = "color:#fff";
  box.appendChild(link);
  box.appendChild(document.createElement("br"));
  box.appendChild(document.createTextNode("Crisis line, any time: "));
  box.appendChild(tel);
  box.appendChild(document.createTextNode(". In danger now: 999."));
  (document.body || document.documentElement).appendChild(box);
})();
