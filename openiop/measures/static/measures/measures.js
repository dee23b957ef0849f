// Show and hide questionnaire items by their enableWhen conditions.
// The server applies the same rules on submit (answers to hidden items are
// ignored), so without this script every item simply shows.

const form = document.querySelector("form.questionnaire");

function valueOf(name) {
  const checked = form.querySelector(`input[name="${name}"]:checked`);
  if (checked) return checked.value;
  const input = form.querySelector(`[name="${name}"]:not([type=radio])`);
  return input && input.value !== "" ? input.value : null;
}

function holds(condition) {
  const value = valueOf(condition.field);
  if (condition.op === "exists") return (value !== null) === Boolean(condition.value);
  if (value === null) return condition.op === "!=";
  const left = Number(value);
  const right = Number(condition.value);
  const numeric = !Number.isNaN(left) && !Number.isNaN(right) && typeof condition.value === "number";
  switch (condition.op) {
    case "=": return String(value) === String(condition.value);
    case "!=": return String(value) !== String(condition.value);
    case ">": return numeric && left > right;
    case "<": return numeric && left < right;
    case ">=": return numeric && left >= right;
    case "<=": return numeric && left <= right;
    default: return true;
  }
}

function update() {
  for (const element of form.querySelectorAll("[data-enable-when]")) {
    const rule = JSON.parse(element.dataset.enableWhen);
    const results = rule.when.map(holds);
    const on = rule.any ? results.some(Boolean) : results.every(Boolean);
    element.hidden = !on;
  }
}

if (form) {
  form.addEventListener("change", update);
  update();
}
