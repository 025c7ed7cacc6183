// Pose Editor widget (node PoseEditor, widget type POSE_EDITS): a DOM widget whose value is the edits'
// JSON (see pose/editor.py). Paths come from import.meta.url; widgets are found by name; pose text is
// only ever set as textContent, never as HTML.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  HAND_SEGMENTS, N_ALL, NAMES, SEGMENTS, applyEdits, defaultSpot, fitView, formatValue, hitTest, moveChain,
  parseValue, placeTemplate, pointColor, pointName, rotateLimb, toImage, toScreen, zoomAt,
} from "./pose_editor/core.js";

const NODE_TYPE = "PoseEditor";
const BG_MAX_SIDE = 384; // px, the longer side of the background copy kept in the widget value
const BG_MAX_CHARS = 100000; // its data URL stays below this (JPEG, quality lowered, then size)
const lastInput = new Map(); // workflow + node id -> the node's last UI output (its input), kept across undo

function inputKey(node) {
  const path = app.extensionManager?.workflow?.activeWorkflow?.path ?? "";
  return `${path}#${node.id}`;
}

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = new URL("./pose_editor/editor.css", import.meta.url).href;
document.head.appendChild(css);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function checkState() {
  app.extensionManager?.workflow?.activeWorkflow?.changeTracker?.checkState?.();
}

class PoseEditorWidget {
  constructor(node, name) {
    this.node = node;
    this.text = "";
    this._input = null;
    this.frame = 0;
    this.person = 0;
    this.point = null; // selected keypoint index
    this.view = null;
    this.autoView = true; // fit the canvas to the widget until the user zooms or pans
    this.drag = null;
    this.bg = null;
    this.bgKey = null;
    this.bgCopy = null; // {key, url}: the live background as a small JPEG data URL, made once per background
    this.savedBg = null; // {url, img}: the copy saved in the widget value, shown dimmed until a run
    this.hover = null; // {person, index} under the mouse
    this.shift = false; // Shift held: a drag moves one point
    this.drawnLabels = []; // [{text, x, y}] of the last draw (tests read it)
    this.canvas = el("canvas", { class: "re-pose-canvas", tabindex: "0" });
    this.banner = el("div", { class: "re-pose-banner" });
    this.status = el("div", { class: "re-pose-status" });
    this.personSel = el("select", { title: "Select a person", onchange: () => this.selectPerson(+this.personSel.value) });
    this.frameSel = el("select", { title: "Frame", onchange: () => { this.frame = +this.frameSel.value; this.refresh(true); } });
    this.namesBox = el("input", { type: "checkbox", class: "re-pose-names", onchange: () => this.draw() });
    this.addSel = el("select", { title: "Add a missing point of the selected person", onchange: () => this.addPoint() });
    const button = (text, title, fn) => el("button", { type: "button", title, text, onclick: fn });
    this.toolbar = el(
      "div", { class: "re-pose-toolbar" },
      this.frameSel, this.personSel,
      button("+ person", "Add a standing person", () => this.addPerson()),
      this.addSel,
      button("Delete", "Delete the selected point (Del): body, foot, hand or face point", () => this.deletePoint()),
      button("Fit", "Fit the canvas in view (wheel: zoom, drag the background: pan)", () => this.refresh(true)),
      button("Reset", "Discard all edits: back to the input", () => this.commit("")),
      el("label", { title: "Show every point's name (else the hovered point's)" }, this.namesBox, "names"),
    );
    this.element = el("div", { class: "re-pose-editor" }, this.toolbar, this.banner, this.canvas, this.status);

    this.widget = node.addDOMWidget(name, "POSE_EDITS", this.element, {
      getValue: () => this.text,
      setValue: (v) => { this.text = typeof v === "string" ? v : ""; this.refresh(false); },
      getMinHeight: () => 380,
      hideOnZoom: false,
    });
    this.widget.editor = this; // for tests and other extensions: read-only use
    this.bindEvents();
    new ResizeObserver(() => this.draw()).observe(this.canvas);
    this.refresh(true);
  }

  // --- state -------------------------------------------------------------------------------------
  /** The node's last UI output: {input (key), frames, backgrounds, status}; survives undo (node re-created). */
  get input() { return this._input || lastInput.get(inputKey(this.node)) || null; }

  get edits() { return parseValue(this.text); }

  /** What the editor shows: {frames, stale, editable}. */
  model() {
    const edits = this.edits;
    const cur = this.input;
    if (edits && cur && cur.input !== edits.input) {
      return { frames: applyEdits(cur.frames, null), stale: true, editable: false, edits };
    }
    const base = edits ? edits.base || (cur && cur.frames) : cur && cur.frames;
    if (!base) return { frames: null, stale: false, editable: false, edits };
    return { frames: applyEdits(base, edits && edits.points), stale: false, editable: true, edits };
  }

  setInput(message) {
    this._input = message;
    lastInput.set(inputKey(this.node), message);
    this.refresh(false);
  }

  /** Replace the widget value (an edit, reset, keep, discard) and let the change tracker see it. */
  commit(text) {
    this.text = text;
    this.widget.callback?.(text);
    this.refresh(false);
    this.node.setDirtyCanvas?.(true, true);
    checkState();
  }

  /** Apply [[index, x, y | null]] for the selected person of the shown frame. */
  edit(changes, { live = false } = {}) {
    const m = this.model();
    if (!m.editable) return;
    const edits = m.edits || { input: this.input.input, points: new Map(), base: this.input.frames };
    edits.background = this.backgroundCopy() || edits.background || null;
    for (const [i, x, y] of changes) {
      edits.points.set(`${this.frame},${this.person},${i}`, x === null ? null : [x, y]);
    }
    const text = formatValue(edits);
    if (live) {
      this.text = text;
      if (this.drag) this.drag.changed = true;
      this.draw();
    } else {
      this.commit(text);
    }
  }

  selectPerson(p) {
    this.person = p;
    this.point = null;
    this.refresh(false);
  }

  addPerson() {
    const m = this.model();
    if (!m.editable) return;
    const f = m.frames[this.frame];
    this.person = f.people.length;
    this.point = null;
    this.edit(placeTemplate(f.people, f.w, f.h).flatMap(([x, y, on], i) => (on ? [[i, x, y]] : [])));
  }

  addPoint() {
    const i = +this.addSel.value;
    this.addSel.value = "";
    const m = this.model();
    if (!m.editable || !Number.isInteger(i)) return;
    const f = m.frames[this.frame];
    const pts = f.people[this.person]?.pts || Array.from({ length: N_ALL }, () => [0, 0, false]);
    const [x, y] = defaultSpot(pts, i, f.w, f.h);
    this.point = i;
    this.edit([[i, x, y]]);
  }

  deletePoint() {
    if (this.point === null) return;
    const i = this.point;
    this.point = null;
    this.edit([[i, null, null]]);
  }

  // --- view --------------------------------------------------------------------------------------
  /** Local canvas coordinates of a mouse event (the widget may be CSS-scaled with the graph). */
  local(e) {
    const r = this.canvas.getBoundingClientRect();
    const k = this.canvas.clientWidth / (r.width || 1);
    return [(e.clientX - r.left) * k, (e.clientY - r.top) * k];
  }

  /** Client (page) coordinates of keypoint `index` of `person` in the shown frame, or null. */
  clientPoint(person, index) {
    const f = this.model().frames?.[this.frame];
    const pt = f?.people[person]?.pts[index];
    return pt && pt[2] ? this.clientOf(pt[0], pt[1]) : null;
  }

  /** Client (page) coordinates of image point (x, y) px. */
  clientOf(x, y) {
    if (!this.view) return null;
    const [sx, sy] = toScreen(this.view, x, y);
    const r = this.canvas.getBoundingClientRect();
    const k = r.width / (this.canvas.clientWidth || 1);
    return [r.left + sx * k, r.top + sy * k];
  }

  /** Image px per client px at the current view and graph zoom. */
  imagePxPerClientPx() {
    const r = this.canvas.getBoundingClientRect();
    return this.canvas.clientWidth / (r.width || 1) / this.view.scale;
  }

  refresh(refit) {
    const m = this.model();
    const frames = m.frames || [];
    if (this.frame >= frames.length) this.frame = 0;
    const people = frames[this.frame]?.people || [];
    if (this.person >= people.length) this.person = Math.max(0, people.length - 1);
    // selectors (text only)
    this.frameSel.replaceChildren(...frames.map((_, i) => el("option", { value: String(i), text: `frame ${i + 1}` })));
    this.frameSel.value = String(this.frame);
    this.frameSel.hidden = frames.length < 2;
    this.personSel.replaceChildren(...people.map((_, i) => el("option", { value: String(i), text: `person ${i + 1}` })));
    this.personSel.value = String(this.person);
    const body = (people[this.person]?.pts || []).slice(0, 24);
    const missing = body.map((p, i) => (p[2] ? null : i)).filter((i) => i !== null);
    this.addSel.replaceChildren(
      el("option", { value: "", text: missing.length ? "add point…" : "no missing point" }),
      ...missing.map((i) => el("option", { value: String(i), text: NAMES[i] })),
    );
    // stale edits: say so, offer keep / discard
    this.banner.replaceChildren();
    this.banner.hidden = !m.stale;
    if (m.stale) {
      const n = m.edits.points.size;
      this.banner.append(
        el("span", { text: `${n} edited point(s) were made on another input pose: NOT applied. ` }),
        el("button", { type: "button", text: "Keep edits for this input", onclick: () => this.keepEdits() }),
        el("button", { type: "button", text: "Discard edits", onclick: () => this.commit("") }),
      );
    }
    if (refit) this.autoView = true;
    this.loadBackground();
    this.draw();
  }

  keepEdits() {
    const edits = this.edits;
    if (!edits || !this.input) return;
    this.commit(formatValue({ input: this.input.input, points: edits.points, base: this.input.frames }));
  }

  loadBackground() {
    const m = this.model();
    // the copy saved with the edits: shown (dimmed) while no run has sent the live background
    const url = !m.stale ? m.edits?.background || null : null;
    if ((this.savedBg?.url || null) !== url) {
      this.savedBg = url ? { url, img: null } : null;
      if (url) {
        const img = new Image();
        img.onload = () => { if (this.savedBg?.url === url) { this.savedBg.img = img; this.draw(); } };
        img.src = url;
      }
    }
    const bgs = !m.stale && this.input && (!m.edits || m.edits.input === this.input.input) ? this.input.backgrounds || [] : [];
    const b = bgs[Math.min(this.frame, bgs.length - 1)];
    const key = b ? `${b.type}/${b.subfolder}/${b.filename}` : null;
    if (key === this.bgKey) return;
    this.bgKey = key;
    this.bg = null;
    if (!b) return;
    const params = new URLSearchParams({ filename: b.filename, subfolder: b.subfolder || "", type: b.type || "temp" });
    const img = new Image();
    img.onload = () => { if (this.bgKey === key) { this.bg = img; this.draw(); } };
    img.src = api.apiURL(`/view?${params}`);
  }

  /** The live background as a JPEG data URL of at most BG_MAX_SIDE px and BG_MAX_CHARS characters, or
   *  null while there is none (made once per background). */
  backgroundCopy() {
    if (!this.bg) return null;
    if (this.bgCopy?.key === this.bgKey) return this.bgCopy.url;
    const img = this.bg;
    let side = BG_MAX_SIDE, quality = 0.75, url = null;
    for (let k = 0; k < 12; k++) {
      const scale = Math.min(1, side / Math.max(img.naturalWidth, img.naturalHeight));
      const c = document.createElement("canvas");
      c.width = Math.max(1, Math.round(img.naturalWidth * scale));
      c.height = Math.max(1, Math.round(img.naturalHeight * scale));
      c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
      url = c.toDataURL("image/jpeg", quality);
      if (url.length < BG_MAX_CHARS) break;
      url = null;
      if (quality > 0.45) quality -= 0.15;
      else side = Math.round(side * 0.75);
    }
    this.bgCopy = { key: this.bgKey, url };
    return url;
  }

  draw() {
    const c = this.canvas;
    const W = Math.max(1, Math.round(c.clientWidth));
    const H = Math.max(1, Math.round(c.clientHeight));
    if (c.width !== W || c.height !== H) { c.width = W; c.height = H; }
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#202020";
    ctx.fillRect(0, 0, W, H);
    this.drawnLabels = [];
    const m = this.model();
    const f = m.frames?.[this.frame];
    if (!f) {
      this.status.textContent = "Queue the workflow to load this node's input pose and background.";
      return;
    }
    if (this.autoView || !this.view) this.view = fitView(f.w, f.h, W, H);
    const v = this.view;
    const [x0, y0] = toScreen(v, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(x0, y0, f.w * v.scale, f.h * v.scale);
    const saved = !this.bg && this.savedBg?.img ? this.savedBg.img : null;
    if (this.bg) ctx.drawImage(this.bg, x0, y0, f.w * v.scale, f.h * v.scale);
    else if (saved) {
      ctx.globalAlpha = 0.5; // the copy saved with the workflow, dimmed until a run sends the background
      ctx.drawImage(saved, x0, y0, f.w * v.scale, f.h * v.scale);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = "#888";
    ctx.setLineDash([4, 4]);
    ctx.strokeRect(x0, y0, f.w * v.scale, f.h * v.scale);
    ctx.setLineDash([]);
    const stick = Math.max(2, 8 * v.scale);
    const radius = Math.max(3, 4 * v.scale);
    const small = Math.max(1.5, 2 * v.scale);
    const line = (a, b, col, width) => {
      ctx.strokeStyle = `rgb(${col.map((x) => Math.round(x)).join(",")})`;
      ctx.lineWidth = width;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(...toScreen(v, a[0], a[1]));
      ctx.lineTo(...toScreen(v, b[0], b[1]));
      ctx.stroke();
    };
    f.people.forEach((person, p) => {
      ctx.globalAlpha = p === this.person ? 1 : 0.45;
      const pts = person.pts;
      for (const [a, b, col] of SEGMENTS) {
        if (pts[a][2] && pts[b][2]) line(pts[a], pts[b], col.map((x) => x * 0.6), stick);
      }
      // hands as controlnet_aux's draw_handpose (edges in HSV colours, thinner than limbs)
      for (const [a, b, col] of HAND_SEGMENTS) {
        if (pts[a][2] && pts[b][2]) line(pts[a], pts[b], col, Math.max(1, 2 * v.scale));
      }
      pts.forEach((pt, i) => {
        if (!pt[2]) return;
        const [sx, sy] = toScreen(v, pt[0], pt[1]);
        const col = `rgb(${pointColor(i).join(",")})`;
        ctx.beginPath();
        ctx.arc(sx, sy, i < 24 ? radius : small, 0, 2 * Math.PI);
        if (person.inferred.has(i)) {
          // inferred: hollow, dashed ring
          ctx.fillStyle = "rgba(0,0,0,0.6)";
          ctx.fill();
          ctx.setLineDash([3, 2]);
          ctx.strokeStyle = col;
          ctx.lineWidth = 2;
          ctx.stroke();
          ctx.setLineDash([]);
        } else {
          ctx.fillStyle = col;
          ctx.fill();
        }
        if (p === this.person && i === this.point) {
          ctx.beginPath();
          ctx.arc(sx, sy, (i < 24 ? radius : small) + 4, 0, 2 * Math.PI);
          ctx.strokeStyle = "#fff";
          ctx.lineWidth = 2;
          ctx.stroke();
        }
      });
    });
    ctx.globalAlpha = 1;
    this.drawLabels(ctx, f);
    const pt = this.point !== null ? f.people[this.person]?.pts[this.point] : null;
    const what = pt && pt[2]
      ? `${pointName(this.point)} (${pt[0].toFixed(1)}, ${pt[1].toFixed(1)}) px${f.people[this.person].inferred.has(this.point) ? ", inferred" : ""}`
      : "drag a point or a limb; wheel: zoom; drag the background: pan";
    const edited = m.edits ? m.edits.points.size : 0;
    const bg = saved ? " · background: copy saved with the workflow (dimmed until the next run)" : "";
    // two lines of fixed height (editor.css): a longer text never resizes the canvas under the mouse
    this.status.replaceChildren(
      el("div", { text: `${f.w}×${f.h} px · ${f.people.length} person(s) · ${edited} edited point(s) · ${what}` }),
      el("div", { text: `${this.modeText()}${bg}` }),
    );
  }

  /** The drag mode, as the status line says it. */
  modeText() {
    const single = this.drag?.kind === "point" ? this.drag.single : this.shift;
    return single
      ? "mode: one point (Shift held)"
      : "mode: joint + the points below it (hold Shift: one point)";
  }

  /** Names next to points: the hovered one, or every present point with "names" ticked. */
  drawLabels(ctx, f) {
    const v = this.view;
    const todo = [];
    if (this.namesBox.checked) {
      f.people.forEach((person, p) => person.pts.forEach((pt, i) => { if (pt[2]) todo.push([p, i]); }));
    } else if (this.hover && f.people[this.hover.person]?.pts[this.hover.index]?.[2]) {
      todo.push([this.hover.person, this.hover.index]);
    }
    ctx.font = "11px sans-serif";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    for (const [p, i] of todo) {
      const pt = f.people[p].pts[i];
      const [sx, sy] = toScreen(v, pt[0], pt[1]);
      const text = pointName(i);
      const x = sx + (i < 24 ? 8 : 5), y = sy - (i < 24 ? 8 : 5);
      ctx.strokeStyle = "rgba(0,0,0,0.85)";
      ctx.strokeText(text, x, y);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, x, y);
      this.drawnLabels.push({ text, x, y, person: p, index: i });
    }
  }

  // --- input -------------------------------------------------------------------------------------
  bindEvents() {
    const c = this.canvas;
    const stop = (e) => { e.stopPropagation(); };
    c.addEventListener("pointerdown", (e) => {
      stop(e);
      e.preventDefault();
      c.focus();
      c.setPointerCapture(e.pointerId);
      const [sx, sy] = this.local(e);
      const m = this.model();
      const f = m.frames?.[this.frame];
      const hit = e.button === 0 && m.editable && this.view ? hitTest(f, this.view, sx, sy, this.person) : null;
      if (hit) {
        if (hit.person !== this.person) this.selectPerson(hit.person);
        const pts = this.model().frames[this.frame].people[this.person].pts;
        if (hit.kind === "point") {
          this.point = hit.index;
          // the point and, unless Shift is held, the points below it in its chain, moved rigidly
          this.drag = { kind: "point", index: hit.index, single: e.shiftKey, start: [sx, sy], pts: pts.map((q) => q.slice()) };
        } else {
          this.drag = { kind: "limb", limb: hit.limb, pts: pts.map((q) => q.slice()), from: toImage(this.view, sx, sy) };
        }
      } else if (this.view) {
        this.drag = { kind: "pan", start: [sx, sy], view: { ...this.view } };
      }
      this.draw();
    });
    c.addEventListener("pointermove", (e) => {
      const [sx, sy] = this.local(e);
      if (!this.drag) {
        // hover: the point's name next to it
        const m = this.model();
        const f = m.frames?.[this.frame];
        const hit = f && this.view ? hitTest(f, this.view, sx, sy, this.person) : null;
        const hover = hit?.kind === "point" ? { person: hit.person, index: hit.index } : null;
        if (e.shiftKey !== this.shift || hover?.person !== this.hover?.person || hover?.index !== this.hover?.index) {
          this.shift = e.shiftKey;
          this.hover = hover;
          this.draw();
        }
        return;
      }
      stop(e);
      this.dragTo(sx, sy, true);
    });
    c.addEventListener("pointerleave", () => {
      if (this.hover && !this.drag) { this.hover = null; this.draw(); }
    });
    const shiftKey = (e) => {
      if (e.key === "Shift" && this.shift !== (e.type === "keydown")) { this.shift = e.type === "keydown"; this.draw(); }
    };
    window.addEventListener("keydown", shiftKey);
    window.addEventListener("keyup", shiftKey);
    const onRemove = this.widget.onRemove;
    this.widget.onRemove = function () {
      window.removeEventListener("keydown", shiftKey);
      window.removeEventListener("keyup", shiftKey);
      return onRemove?.apply(this, arguments);
    };
    const end = (e) => {
      if (!this.drag) return;
      stop(e);
      const [sx, sy] = this.local(e);
      const kind = this.drag.kind;
      this.dragTo(sx, sy, false);
      this.drag = null;
      if (kind === "pan") this.draw();
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("wheel", (e) => {
      stop(e);
      e.preventDefault();
      if (!this.view) return;
      const [sx, sy] = this.local(e);
      this.view = zoomAt(this.view, sx, sy, Math.exp(-e.deltaY * 0.0015));
      this.autoView = false;
      this.draw();
    }, { passive: false });
    c.addEventListener("keydown", (e) => {
      if ((e.key === "Delete" || e.key === "Backspace") && this.point !== null) {
        e.preventDefault();
        stop(e);
        this.deletePoint();
      }
    });
    c.addEventListener("contextmenu", (e) => { e.preventDefault(); stop(e); });
  }

  dragTo(sx, sy, live) {
    const d = this.drag;
    if (d.kind === "pan") {
      this.autoView = false;
      this.view = { ...d.view, ox: d.view.ox + sx - d.start[0], oy: d.view.oy + sy - d.start[1] };
      this.draw();
    } else if (d.kind === "point") {
      const s = this.view.scale;
      const moved = sx !== d.start[0] || sy !== d.start[1];
      if (!moved && !live) return d.changed ? this.commit(this.text) : this.draw(); // a click only selects
      this.edit(moveChain(d.pts, d.index, (sx - d.start[0]) / s, (sy - d.start[1]) / s, d.single), { live });
    } else if (d.kind === "limb") {
      const to = toImage(this.view, sx, sy);
      if (!live && to[0] === d.from[0] && to[1] === d.from[1]) return d.changed ? this.commit(this.text) : this.draw();
      this.edit(rotateLimb(d.pts, d.limb, d.from, to), { live });
    }
  }
}

app.registerExtension({
  name: "repaint_extend.PoseEditor",
  getCustomWidgets() {
    return {
      POSE_EDITS(node, inputName) {
        const editor = new PoseEditorWidget(node, inputName);
        return { widget: editor.widget };
      },
    };
  },
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name !== NODE_TYPE) return;
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      onExecuted?.apply(this, arguments);
      const m = message?.pose_editor?.[0];
      const widget = this.widgets?.find((w) => w.type === "POSE_EDITS");
      if (m && widget?.editor) widget.editor.setInput(m);
    };
    const onNodeCreated = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const r = onNodeCreated?.apply(this, arguments);
      this.setSize?.([Math.max(this.size[0], 420), Math.max(this.size[1], 520)]);
      return r;
    };
  },
});
