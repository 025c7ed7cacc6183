// Pure helpers of the pose editor (no DOM, no ComfyUI): the keypoint model, controlnet_aux's colours,
// the limbs of pose/edit.py, edits as in pose/editor.py, view transform and hit-testing.
// The frontend imports every .js under WEB_DIRECTORY as an extension; this module has no side effects.

export const NAMES = [
  "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
  "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
  "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel",
  "right_big_toe", "right_small_toe", "right_heel",
];
const K = Object.fromEntries(NAMES.map((n, i) => [n, i]));

// controlnet_aux open_pose/util.py draw_bodypose: 18 point colours (RGB), limbSeq (1-based) with the
// colour of the same index, limbs in 0.6 x colour; feet as pose/render.py (colour of their ankle).
export const COLORS = [
  [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
  [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
  [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
];
const LIMB_SEQ = [
  [2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14],
  [2, 1], [1, 15], [15, 17], [1, 16], [16, 18],
];
const RIGHT_FOOT = [0, 170, 255];
const LEFT_FOOT = [85, 0, 255];
export const SEGMENTS = [
  ...LIMB_SEQ.map(([a, b], i) => [a - 1, b - 1, COLORS[i]]),
  [K.left_ankle, K.left_big_toe, LEFT_FOOT], [K.left_big_toe, K.left_small_toe, LEFT_FOOT],
  [K.left_ankle, K.left_heel, LEFT_FOOT], [K.right_ankle, K.right_big_toe, RIGHT_FOOT],
  [K.right_big_toe, K.right_small_toe, RIGHT_FOOT], [K.right_ankle, K.right_heel, RIGHT_FOOT],
];
export function pointColor(i) {
  if (i < 18) return COLORS[i];
  return i < 21 ? LEFT_FOOT : RIGHT_FOOT;
}

// pose/edit.py LIMBS: name -> [root, points it carries]; tests/test_browser_editor.py checks the copy.
// LIMBS-BEGIN
export const LIMBS = {
  "head": [1, [0, 14, 15, 16, 17]],
  "left_arm": [5, [6, 7]],
  "left_forearm": [6, [7]],
  "left_leg": [11, [12, 13, 18, 19, 20]],
  "left_shank": [12, [13, 18, 19, 20]],
  "left_foot": [13, [18, 19, 20]],
  "right_arm": [2, [3, 4]],
  "right_forearm": [3, [4]],
  "right_leg": [8, [9, 10, 21, 22, 23]],
  "right_shank": [9, [10, 21, 22, 23]],
  "right_foot": [10, [21, 22, 23]]
}
// LIMBS-END
;
/** Bones that drag a limb: [root, first carried point, limb name]. */
export const LIMB_BONES = Object.entries(LIMBS).flatMap(([name, [root, moved]]) =>
  SEGMENTS.filter(([a, b]) => a === root && moved.includes(b)).map(([a, b]) => [a, b, name]),
);

/** One person's 24 points as [[x, y, present]] and its inferred indices. */
export function personPoints(person) {
  const body = person?.pose_keypoints_2d || [];
  const feet = person?.foot_keypoints_2d || [];
  const pts = [];
  for (let i = 0; i < 24; i++) {
    const arr = i < 18 ? body : feet;
    const j = (i < 18 ? i : i - 18) * 3;
    const x = Number(arr[j]), y = Number(arr[j + 1]), c = Number(arr[j + 2]);
    pts.push(Number.isFinite(c) && c > 0 && Number.isFinite(x) && Number.isFinite(y) ? [x, y, true] : [0, 0, false]);
  }
  const inferred = new Set((person?.inferred_keypoints || []).map(Number).filter(Number.isInteger));
  return { pts, inferred };
}

/** Frames (POSE_KEYPOINT) -> [{w, h, people: [{pts, inferred}]}] with the edits (Map "f,p,i" -> [x, y] | null)
 *  applied as pose/editor.py apply_edits does. */
export function applyEdits(frames, edits) {
  const out = (frames || []).map((f) => ({
    w: Number(f.canvas_width) || 1,
    h: Number(f.canvas_height) || 1,
    people: (f.people || []).map(personPoints),
  }));
  for (const [key, xy] of edits || []) {
    const [f, p, i] = key.split(",").map(Number);
    const frame = out[f];
    if (!frame) continue;
    while (frame.people.length <= p) frame.people.push(personPoints(null));
    const person = frame.people[p];
    person.pts[i] = xy ? [xy[0], xy[1], true] : [0, 0, false];
    person.inferred.delete(i);
  }
  return out;
}

/** The widget value (JSON text) -> {input, points: Map, base} or null for none. Never throws. */
export function parseValue(text) {
  if (!text) return null;
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== "object" || !Array.isArray(v.points) || !v.points.length) return null;
    const points = new Map();
    for (const e of v.points) {
      if (!Array.isArray(e) || e.length !== 5) continue;
      const [f, p, i, x, y] = e;
      if (![f, p, i].every(Number.isInteger) || i < 0 || i > 23) continue;
      points.set(`${f},${p},${i}`, x === null ? null : [Number(x), Number(y)]);
    }
    return { input: String(v.input || ""), points, base: Array.isArray(v.base) ? v.base : null };
  } catch {
    return null;
  }
}

/** {input, points, base} -> widget value (JSON text); "" when there are no edits. */
export function formatValue(state) {
  if (!state || !state.points.size) return "";
  const keys = [...state.points.keys()].map((k) => k.split(",").map(Number));
  keys.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const round = (v) => Math.round(v * 100) / 100;
  const points = keys.map(([f, p, i]) => {
    const xy = state.points.get(`${f},${p},${i}`);
    return [f, p, i, xy ? round(xy[0]) : null, xy ? round(xy[1]) : null];
  });
  return JSON.stringify({ version: 1, input: state.input, points, base: state.base });
}

/** View: screen = image * scale + offset. Fit a w x h canvas into a W x H view with a margin. */
export function fitView(w, h, W, H, margin = 0.08) {
  const scale = Math.min((W * (1 - 2 * margin)) / w, (H * (1 - 2 * margin)) / h);
  return { scale, ox: (W - w * scale) / 2, oy: (H - h * scale) / 2 };
}
export const toScreen = (v, x, y) => [x * v.scale + v.ox, y * v.scale + v.oy];
export const toImage = (v, sx, sy) => [(sx - v.ox) / v.scale, (sy - v.oy) / v.scale];
export function zoomAt(v, sx, sy, factor) {
  const scale = Math.min(64, Math.max(0.02, v.scale * factor));
  const f = scale / v.scale;
  return { scale, ox: sx - (sx - v.ox) * f, oy: sy - (sy - v.oy) * f };
}

function segDist(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** What is under screen point (sx, sy) in frame `frame`: {kind: "point", person, index} (points of the
 *  selected person first), {kind: "limb", person, limb}, or null. Radii in screen px. */
export function hitTest(frame, view, sx, sy, selected = 0, radius = 8) {
  if (!frame) return null;
  const order = frame.people.map((_, p) => p).sort((a, b) => (b === selected) - (a === selected));
  for (const p of order) {
    const pts = frame.people[p].pts;
    let best = null;
    for (let i = 0; i < 24; i++) {
      if (!pts[i][2]) continue;
      const [x, y] = toScreen(view, pts[i][0], pts[i][1]);
      const d = Math.hypot(x - sx, y - sy);
      if (d <= radius && (!best || d < best.d)) best = { d, index: i };
    }
    if (best) return { kind: "point", person: p, index: best.index };
  }
  for (const p of order) {
    const pts = frame.people[p].pts;
    for (const [a, b, limb] of LIMB_BONES) {
      if (!pts[a][2] || !pts[b][2]) continue;
      const [ax, ay] = toScreen(view, pts[a][0], pts[a][1]);
      const [bx, by] = toScreen(view, pts[b][0], pts[b][1]);
      if (segDist(sx, sy, ax, ay, bx, by) <= radius * 0.75) return { kind: "limb", person: p, limb };
    }
  }
  return null;
}

/** Rotate the points a limb carries about its root so that image point `from` goes towards `to`
 *  (pose/edit.py rotate_limb). Returns [[index, x, y]] for the moved, present points. */
export function rotateLimb(pts, limb, from, to) {
  const [root, moved] = LIMBS[limb];
  const [rx, ry] = pts[root];
  const a = Math.atan2(to[1] - ry, to[0] - rx) - Math.atan2(from[1] - ry, from[0] - rx);
  const c = Math.cos(a), s = Math.sin(a);
  return moved
    .filter((i) => pts[i][2])
    .map((i) => {
      const dx = pts[i][0] - rx, dy = pts[i][1] - ry;
      return [i, rx + c * dx - s * dy, ry + s * dx + c * dy];
    });
}

/** A standing person (24 points, px) filling about 80 % of a w x h canvas's height, centred. */
export function templatePerson(w, h) {
  const u = (h * 0.8) / 8, cx = w / 2, top = h * 0.1;
  const at = (dx, dy) => [cx + dx * u, top + dy * u];
  const P = {
    nose: at(0, 0.5), neck: at(0, 1.2), right_shoulder: at(-0.9, 1.3), right_elbow: at(-1.1, 2.5),
    right_wrist: at(-1.2, 3.6), left_shoulder: at(0.9, 1.3), left_elbow: at(1.1, 2.5), left_wrist: at(1.2, 3.6),
    right_hip: at(-0.5, 3.9), right_knee: at(-0.5, 5.7), right_ankle: at(-0.5, 7.5), left_hip: at(0.5, 3.9),
    left_knee: at(0.5, 5.7), left_ankle: at(0.5, 7.5), right_eye: at(-0.15, 0.35), left_eye: at(0.15, 0.35),
    right_ear: at(-0.35, 0.45), left_ear: at(0.35, 0.45), left_big_toe: at(0.75, 7.95),
    left_small_toe: at(0.95, 7.9), left_heel: at(0.5, 7.8), right_big_toe: at(-0.75, 7.95),
    right_small_toe: at(-0.95, 7.9), right_heel: at(-0.5, 7.8),
  };
  return NAMES.map((n) => P[n]);
}

/** Where to put a missing point when it is added: next to the joint it hangs from, else the centre. */
export function defaultSpot(pts, index, w, h) {
  const parent = SEGMENTS.find(([a, b]) => b === index && pts[a][2]);
  if (parent) return [pts[parent[0]][0] + 0.04 * w, pts[parent[0]][1] + 0.04 * h];
  const child = SEGMENTS.find(([a, b]) => a === index && pts[b][2]);
  if (child) return [pts[child[1]][0] - 0.04 * w, pts[child[1]][1] - 0.04 * h];
  return [w / 2, h / 2];
}
