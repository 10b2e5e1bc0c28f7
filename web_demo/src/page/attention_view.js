// The attention matrix: one row per generated token, one column per window position (oldest left, the token
// just before on the right); each cell is the token the model read there, coloured by how much attention it got.
// Tokens are untrusted model text: they reach the DOM through textContent only.

import { META_TOKEN } from "../contract/tokens.js";
import { colourAt, scaled } from "./colour.js";
import { tokenLabel, tokenWords } from "./token_names.js";

/** How a token is drawn: padding (no token yet) as a dot; invisible tokens named (token_names.js). */
export function visible(token) {
  if (token === null || token === undefined) return "·";
  if (token === "") return "∅";
  return tokenLabel(token);
}

export function describe(token) {
  if (token === null || token === undefined) return "padding (no token yet)";
  if (token === META_TOKEN) return "<s> (start of text)";
  return tokenWords(token);
}

export class AttentionMatrix {
  /**
   * @param grid   element that holds the rows (focusable: arrow keys move between cells)
   * @param readout element whose text reads the cell under the pointer or the keyboard cursor
   * @param onRow  called with (step record) when a row is pointed at or focused
   */
  constructor(grid, readout, onRow) {
    this.grid = grid;
    this.readout = readout;
    this.onRow = onRow;
    this.log = true;
    this.records = [];
    this.cursor = null; // [row, column] of the keyboard cursor
    grid.addEventListener("mouseover", (event) => {
      const cell = event.target.closest?.(".cell, .row-label");
      if (cell) this.point(Number(cell.parentElement.dataset.row), cell.classList.contains("cell") ? Number(cell.dataset.col) : null);
    });
    grid.addEventListener("keydown", (event) => this.key(event));
    grid.addEventListener("focus", () => {
      if (!this.cursor && this.records.length) this.moveTo(this.records.length - 1, this.records[0].attention.length - 1);
    });
  }

  reset(caption) {
    this.records = [];
    this.cursor = null;
    this.grid.replaceChildren();
    this.grid.setAttribute("aria-label", caption);
    this.readout.textContent = "Point at a cell (or focus the matrix and use the arrow keys) to read its weight.";
  }

  /** Append one generated token's row: {token, window: [L tokens|null], attention: Float32Array(L), ...}. */
  add(record) {
    const r = this.records.length;
    this.records.push(record);
    const row = document.createElement("div");
    row.className = "matrix-row";
    row.dataset.row = String(r);
    const label = document.createElement("span");
    label.className = "row-label";
    label.textContent = visible(record.token);
    row.append(label);
    record.attention.forEach((w, k) => {
      const cell = document.createElement("span");
      cell.className = record.window[k] === null ? "cell pad" : "cell";
      cell.dataset.col = String(k);
      cell.dataset.weight = String(w);
      cell.textContent = visible(record.window[k]);
      this.paint(cell, w);
      row.append(cell);
    });
    this.grid.append(row);
  }

  paint(cell, w) {
    const { css, dark } = colourAt(scaled(w, this.log));
    cell.style.backgroundColor = css;
    cell.classList.toggle("on-dark", dark);
  }

  setLog(log) {
    this.log = log;
    for (const cell of this.grid.querySelectorAll(".cell")) this.paint(cell, Number(cell.dataset.weight));
  }

  /** Read row r (and column k, if given) aloud in the readout; tell the page which step it is. */
  point(r, k) {
    const record = this.records[r];
    if (!record) return;
    const L = record.attention.length;
    if (k === null) {
      let best = 0;
      for (let i = 1; i < L; i++) if (record.attention[i] > record.attention[best]) best = i;
      k = best;
    }
    const w = record.attention[k];
    this.readout.textContent =
      `Token ${r + 1}, ${describe(record.token)}: ${(w * 100).toFixed(w < 0.001 ? 4 : 1)} % of its attention ` +
      `(${w.toPrecision(4)}) on ${describe(record.window[k])} at position ${k - L} of its window.`;
    this.onRow?.(record, r);
  }

  highlight(r, k) {
    this.grid.querySelector(".cell.cursor")?.classList.remove("cursor");
    this.grid.querySelector(".matrix-row.active")?.classList.remove("active");
    const row = this.grid.children[r];
    row?.classList.add("active");
    const cell = k === null ? null : row?.querySelector(`.cell[data-col="${k}"]`);
    cell?.classList.add("cursor");
    if (row) this.reveal(cell ?? row);
  }

  /** Scroll the matrix (never the page) so that `element` is in view. */
  reveal(element) {
    const box = this.grid.getBoundingClientRect();
    const at = element.getBoundingClientRect();
    if (at.top < box.top) this.grid.scrollTop -= box.top - at.top;
    else if (at.bottom > box.bottom) this.grid.scrollTop += at.bottom - box.bottom;
    if (at.left < box.left) this.grid.scrollLeft -= box.left - at.left;
    else if (at.right > box.right) this.grid.scrollLeft += at.right - box.right;
  }

  moveTo(r, k) {
    this.cursor = [r, k];
    this.highlight(r, k);
    this.point(r, k);
  }

  key(event) {
    if (!this.records.length) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key] ?? (event.key === "Home" ? "home" : event.key === "End" ? "end" : null);
    if (!move) return;
    event.preventDefault();
    const L = this.records[0].attention.length;
    let [r, k] = this.cursor ?? [0, L - 1];
    if (move === "home") r = 0;
    else if (move === "end") r = this.records.length - 1;
    else {
      r = Math.min(Math.max(r + move[0], 0), this.records.length - 1);
      k = Math.min(Math.max(k + move[1], 0), L - 1);
    }
    this.moveTo(r, k);
  }
}
