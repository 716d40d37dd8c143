// The analyst's label form for an account or a campaign: confirmed / dismissed / unsure + a note,
// with the label history (who, when, why). Writes go through api() (CSRF header).

import {api, notify} from "./api.js";
import {clear, fmtTime, h, labelBadge} from "./dom.js";

const CHOICES = [
  ["confirmed", "Confirmed", "part of the operation"],
  ["dismissed", "Dismissed", "not inauthentic (false positive)"],
  ["unsure", "Unsure", "needs more work"],
];

let formSeq = 0;

function sameTarget(row, targetType, platform, targetId) {
  return row.target_type === targetType && String(row.target_id) === String(targetId) &&
    (targetType === "campaign" || (row.platform || null) === (platform || null));
}

/**
 * The label box. `current` is the label the API attached to the page's object (may be null,
 * or carried over from an earlier run for a campaign: then `current.overlap` says how well).
 */
export function labelBox({targetType, platform = null, targetId, current = null, onSaved = null}) {
  formSeq += 1;
  const name = `label-${formSeq}`;
  const status = h("div", {class: "label-current"});
  const history = h("div", {class: "label-history"});
  const radios = CHOICES.map(([value, text, help]) => {
    const input = h("input", {type: "radio", name, value, id: `${name}-${value}`});
    return h("label", {class: `choice choice-${value}`, for: `${name}-${value}`, title: help}, input, text);
  });
  const note = h("textarea", {name: "note", rows: 2, maxlength: 2000, placeholder: "Why? (evidence, source, next step)", class: "note"});
  const save = h("button", {type: "submit", class: "btn btn-primary"}, "Save label");
  const form = h("form", {class: "label-form", "data-target": `${targetType}:${platform || ""}:${targetId}`},
    h("div", {class: "choices", role: "radiogroup", "aria-label": "Label"}, radios), note, h("div", {class: "form-row"}, save));

  const showCurrent = (label) => {
    clear(status);
    if (!label || !label.label) {
      status.append(h("span", {class: "muted"}, "Not labelled yet."));
      return;
    }
    status.append(labelBadge(label), " ",
      h("span", {class: "muted"}, `by ${label.author || "?"} · ${fmtTime(label.created_at)}`));
    if (typeof label.overlap === "number" && label.overlap < 1) {
      status.append(h("div", {class: "muted small"},
        `Carried over from an earlier run: this campaign shares ${Math.round(label.overlap * 100)} % of its members with the labelled one.`));
    }
    if (label.note) status.append(h("p", {class: "label-note", dir: "auto"}, label.note));
    const radio = [...form.querySelectorAll("input[type=radio]")].find((i) => i.value === label.label);
    if (radio) radio.checked = true;
  };

  // The label history of this target: every row the API returns for it, newest first. (The
  // contract's GET /api/labels lists current labels, each with a `history` count; the query names
  // the target so that an API answering with the full history is shown in full.)
  const loadHistory = async () => {
    let rows = [];
    const q = new URLSearchParams({target_type: targetType, target_id: targetId});
    if (platform) q.set("platform", platform);
    try {
      const data = await api(`/api/labels?${q.toString()}`, {quiet: true});
      rows = (data.labels || []).filter((r) => sameTarget(r, targetType, platform, targetId));
    } catch {
      return;
    }
    rows.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    clear(history);
    const total = Math.max(rows.length, ...rows.map((r) => Number(r.history) || 0));
    if (total === 0) return;
    const list = h("ol", {class: "history"});
    for (const r of rows) {
      list.appendChild(h("li", null, labelBadge(r), " ", h("span", {class: "muted"}, `${r.author || "?"} · ${fmtTime(r.created_at)}`),
        r.note ? h("div", {class: "label-note", dir: "auto"}, r.note) : null));
    }
    history.append(h("div", {class: "history-title"}, `History (${total} label${total === 1 ? "" : "s"})`), list);
    if (total > rows.length) {
      history.append(h("p", {class: "muted small"}, `${total - rows.length} earlier label(s) are kept in the case's labels table.`));
    }
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector("input[type=radio]:checked");
    if (!chosen) {
      notify("Choose confirmed, dismissed or unsure first.");
      return;
    }
    save.disabled = true;
    try {
      const res = await api("/api/labels", {method: "POST", body: {target_type: targetType, platform, target_id: targetId,
        label: chosen.value, note: note.value}});
      const label = res && res.label ? res.label : {label: chosen.value, note: note.value};
      showCurrent(label);
      note.value = "";
      notify(`Label saved: ${label.label}.`);
      await loadHistory();
      if (onSaved) onSaved(label);
    } catch {
      // the error bar already says what went wrong
    } finally {
      save.disabled = false;
    }
  });

  showCurrent(current);
  loadHistory();
  return h("div", {class: "label-box"}, status, form, history);
}
