// inbox-ocr web UI: the field a reviewer is on lights up on the page (and the other way round).
// Optional: every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  const light = (doc, field, on) => {
    document.querySelectorAll(`rect.field[data-doc="${doc}"][data-field="${field}"]`)
      .forEach((r) => r.classList.toggle("active", on));
  };
  document.querySelectorAll("input[data-field]").forEach((input) => {
    input.addEventListener("focus", () => light(input.dataset.doc, input.dataset.field, true));
    input.addEventListener("blur", () => light(input.dataset.doc, input.dataset.field, false));
  });
  document.querySelectorAll("rect.field").forEach((rect) => {
    rect.addEventListener("click", () => {
      const input = document.querySelector(`input[data-doc="${rect.dataset.doc}"][data-field="${rect.dataset.field}"]`);
      if (input) input.focus();
    });
  });
});
