// fleetreg console: the one script. The search box shows results as you type (the same HTML the
// server renders for the page, fetched as a fragment); everything works without it too.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-live-search]");
  const results = document.getElementById("results");
  if (!form || !results) return;
  const input = form.querySelector("input[name=q]");
  let timer = null;
  let latest = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const asked = ++latest;
      const query = new URLSearchParams({ q: input.value, partial: "true" });
      const response = await fetch(`/console?${query}`, { headers: { Accept: "text/html" } });
      if (asked !== latest || !response.ok) return;
      results.innerHTML = await response.text();
      history.replaceState(null, "", `/console?${new URLSearchParams({ q: input.value })}`);
    }, 250);
  });
});
