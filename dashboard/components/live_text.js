// A text field that sends its text to Python while the person types (debounced), not only when they leave it.
// The field is made once and kept across reruns: a rerun never rewrites what is being typed (so no key is lost
// and the caret stays put); Python's text replaces it only when Python set it (a new `rev`).
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".live-text");
  if (!root) return;
  let field = root.__field;
  if (!field) {
    field = document.createElement(data.multiline ? "textarea" : "input");
    if (!data.multiline) field.type = "text";
    field.id = "field";
    field.dir = "auto"; // Arabic text runs right to left, Dutch left to right, each in its own field
    field.spellcheck = true;
    const label = document.createElement("label");
    label.htmlFor = field.id;
    const box = document.createElement("div");
    box.className = "box";
    box.appendChild(field);
    root.append(label, box);
    root.__field = field;
    root.__label = label;
    const live = { timer: null, sent: null, rev: null, composing: false };
    root.__live = live;
    const send = () => {
      clearTimeout(live.timer);
      live.timer = null;
      if (live.composing || field.value === live.sent) return;
      live.sent = field.value;
      live.setStateValue("value", field.value);
    };
    field.addEventListener("input", () => {
      clearTimeout(live.timer);
      live.timer = setTimeout(send, live.debounceMs);
    });
    field.addEventListener("compositionstart", () => { live.composing = true; });
    field.addEventListener("compositionend", () => { live.composing = false; send(); });
    field.addEventListener("blur", send);
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (!data.multiline || event.ctrlKey || event.metaKey)) send();
    });
  }
  const live = root.__live;
  live.setStateValue = setStateValue;
  live.debounceMs = data.debounce_ms;
  root.lang = data.lang;
  root.__label.textContent = data.label;
  field.placeholder = data.placeholder || "";
  if (data.multiline && data.height) field.style.height = `${data.height}px`;
  if (data.rev !== live.rev) { // Python set the text (first draw, a saved draft loaded): show it
    live.rev = data.rev;
    live.sent = data.value;
    if (field.value !== data.value) field.value = data.value;
  }
}
