// Island of the send page: searches the address book as the user types and offers the hits as
// radio buttons in the send form. Without script, the search form reloads the page with the hits.
const input = document.getElementById("recipient-q");
const list = document.getElementById("recipient-list");
if (input && list) {
  const legend = list.querySelector("legend");
  let timer;
  let latest = 0;
  const render = (hits, query) => {
    const chosen = list.querySelector("input[name=recipient]:checked")?.value;
    list.replaceChildren(legend);
    if (hits.length === 0) {
      const p = document.createElement("p");
      p.className = "muted";
      p.dataset.empty = "";
      p.textContent = query
        ? document.documentElement.lang === "en" ? "Nothing found." : "Niets gevonden."
        : "";
      list.append(p);
      return;
    }
    for (const hit of hits) {
      const div = document.createElement("div");
      div.className = "option";
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "recipient";
      radio.value = hit.ura;
      radio.id = `r-${hit.ura}`;
      radio.required = true;
      radio.checked = hit.ura === chosen;
      const label = document.createElement("label");
      label.htmlFor = radio.id;
      label.textContent = `${hit.name}${hit.city ? `, ${hit.city}` : ""} `;
      const ura = document.createElement("span");
      ura.className = "muted";
      ura.textContent = `(URA ${hit.ura})`;
      label.append(ura);
      div.append(radio, label);
      list.append(div);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = input.value.trim();
      const mine = ++latest;
      if (!query) return render([], "");
      const response = await fetch(`/api/recipients?q=${encodeURIComponent(query)}`, {
        credentials: "same-origin",
      });
      if (!response.ok || mine !== latest) return;
      render(await response.json(), query);
    }, 200);
  });
  // Enter in the search box searches, and must not submit the other form.
  document.getElementById("recipient-search")?.addEventListener("submit", (event) => {
    event.preventDefault();
    input.dispatchEvent(new Event("input"));
  });
  input.dataset.island = "ready"; // tests wait for this before typing
}
