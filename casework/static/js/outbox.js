// The outbox page: what waits on this phone, and what the server refused, with its reason.
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("outbox-list");
  const text = list.dataset;

  function advice(status) {
    if (status === 409) return text.adviceConflict;
    if (status === 422) return text.adviceRule;
    return text.adviceOther;
  }

  async function render() {
    const actions = (await window.caseworkOutbox.all()).sort((a, b) => a.id - b.id);
    list.replaceChildren();
    if (actions.length === 0) {
      const empty = document.createElement("p");
      empty.textContent = text.empty;
      list.append(empty);
      return;
    }
    const items = document.createElement("ul");
    items.className = "list-group";
    for (const action of actions) {
      const item = document.createElement("li");
      item.className = `list-group-item${action.state === "refused" ? " list-group-item-danger" : ""}`;
      item.dataset.state = action.state;
      const title = document.createElement("p");
      title.className = "fw-semibold mb-1";
      title.textContent = `${action.label} · ${new Date(action.created).toLocaleString()}`;
      const state = document.createElement("p");
      state.className = "mb-1";
      state.textContent = action.state === "refused" ? text.refused : text.waiting;
      item.append(title, state);
      if (action.state === "refused") {
        const reason = document.createElement("p");
        reason.className = "mb-1 outbox-reason";
        reason.textContent = action.reason || "";
        const what = document.createElement("p");
        what.className = "mb-2";
        what.textContent = advice(action.status);
        const open = document.createElement("a");
        open.href = action.page;
        open.className = "btn btn-outline-primary me-2";
        open.textContent = text.open;
        const discard = document.createElement("button");
        discard.type = "button";
        discard.className = "btn btn-outline-danger";
        discard.textContent = text.discard;
        discard.addEventListener("click", async () => {
          await window.caseworkOutbox.remove(action.id);
          render();
        });
        item.append(reason, what, open, discard);
      }
      items.append(item);
    }
    list.append(items);
  }

  document.querySelector("[data-send-now]").addEventListener("click", async () => {
    await window.caseworkFlush();
    render();
  });
  document.addEventListener("casework:outbox", render);
  render();
});
