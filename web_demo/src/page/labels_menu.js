// The page's label menu: shown when the bundle's model has a context head (labels.json), hidden otherwise.
// Choosing a label makes Generate and interactive writing use the head (model.context.onnx / tfjs/context.json)
// fed that label; "none" keeps the text path, exactly as for a bundle without labels.

/** Fill the menu from `bundle.labels` (null: hide it, no label can be chosen). */
export function showLabels(select, wrapper, bundle) {
  const names = bundle?.labels?.names ?? [];
  const none = select.options[0];
  select.replaceChildren(none);
  for (const name of names) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name; // untrusted: text only
    select.append(option);
  }
  select.value = "";
  wrapper.hidden = names.length === 0;
}

/** The chosen label, or null for the text path. */
export function chosenLabel(select) {
  return select.value === "" ? null : select.value;
}
