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
// Whole body beyond the 24 points (pose/editor.py EDIT_GROUPS): edit indices 24..44 left hand, 45..65
// right hand (OpenPose's 21 hand points), 66..135 face (OpenPose's 70 face points), as DWPose writes them.
export const HAND_LEFT = 24, HAND_RIGHT = 45, FACE = 66, N_ALL = 136;
export const GROUPS = [
  ["hand_left_keypoints_2d", HAND_LEFT, 21], ["hand_right_keypoints_2d", HAND_RIGHT, 21], ["face_keypoints_2d", FACE, 70],
];
// controlnet_aux open_pose/util.py draw_handpose: these 20 edges, edge k coloured HSV(k / 20, 1, 1), points
// blue (0, 0, 255); draw_facepose: points white.
export const HAND_EDGES = [
  [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11], [11, 12], [0, 13],
  [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20],
];
export const HAND_POINT = [0, 0, 255];
export const FACE_POINT = [255, 255, 255];
/** matplotlib.colors.hsv_to_rgb([h, 1, 1]) * 255 (float, as cv2.line receives it). */
export function hueColor(h) {
  const i = Math.floor(h * 6) % 6, f = h * 6 - Math.floor(h * 6);
  const q = 1 - f, t = f;
  const rgb = [[1, t, 0], [q, 1, 0], [0, 1, t], [0, q, 1], [t, 0, 1], [1, 0, q]][i];
  return rgb.map((v) => v * 255);
}
export const HAND_SEGMENTS = [HAND_LEFT, HAND_RIGHT].flatMap((start) =>
  HAND_EDGES.map(([a, b], k) => [start + a, start + b, hueColor(k / HAND_EDGES.length)]),
);
export function pointColor(i) {
  if (i < 18) return COLORS[i];
  if (i < 24) return i < 21 ? LEFT_FOOT : RIGHT_FOOT;
  return i < FACE ? HAND_POINT : FACE_POINT;
}
/** Which part an edit index belongs to: "body" (0..23), "hand" or "face". */
export const partOf = (i) => (i < 24 ? "body" : i < FACE ? "hand" : "face");

const FINGERS = ["thumb", "index", "middle", "ring", "pinky"];
// OpenPose's face points (doc/02_output.md, face_keypoints): jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
// mouth 48-67, pupils 68-69.
const FACE_PARTS = [[17, "jaw"], [22, "right_brow"], [27, "left_brow"], [36, "nose"], [42, "right_eye"],
  [48, "left_eye"], [68, "mouth"], [69, "right_pupil"], [70, "left_pupil"]];
/** The name of edit index i: NAMES for the body, e.g. "left_index_2" for a finger, "face_37 (right_eye)". */
export function pointName(i) {
  if (i < 24) return NAMES[i];
  if (i < FACE) {
    const side = i < HAND_RIGHT ? "left" : "right";
    const k = i - (i < HAND_RIGHT ? HAND_LEFT : HAND_RIGHT);
    return k === 0 ? `${side}_hand_root` : `${side}_${FINGERS[Math.floor((k - 1) / 4)]}_${((k - 1) % 4) + 1}`;
  }
  const k = i - FACE;
  return `face_${k} (${FACE_PARTS.find(([end]) => k < end)[1]})`;
}

// The chains a joint drag moves rigidly: each point's children (hip -> knee -> ankle -> heel and toes;
// shoulder -> elbow -> wrist -> its hand's root -> each finger joint to its tip; neck -> nose -> eyes, ears
// and the face). tests/browser/test_browser_editor.py drags along them.
export const CHILDREN = (() => {
  const c = {
    1: [0], 0: [14, 15, 16, 17], 2: [3], 3: [4], 4: [HAND_RIGHT], 5: [6], 6: [7], 7: [HAND_LEFT],
    8: [9], 9: [10], 10: [21, 22, 23], 11: [12], 12: [13], 13: [18, 19, 20],
  };
  for (let k = 0; k < 70; k++) c[0].push(FACE + k);
  for (const start of [HAND_LEFT, HAND_RIGHT]) {
    c[start] = [1, 5, 9, 13, 17].map((k) => start + k);
    for (let k = 1; k <= 20; k++) if (k % 4 !== 0) c[start + k] = [start + k + 1];
  }
  return c;
})();

/** Point i and every point below it in its chain (CHILDREN), i first. */
export function chainOf(i) {
  const out = [i];
  for (let k = 0; k < out.length; k++) out.push(...(CHILDREN[out[k]] || []));
  return out;
}

/** Move point i by (dx, dy) px, and unless `single` the points below it, rigidly. Returns [[index, x, y]]
 *  for the moved present points (from their positions in `pts`). */
export function moveChain(pts, i, dx, dy, single = false) {
  return (single ? [i] : chainOf(i)).filter((k) => pts[k][2]).map((k) => [k, pts[k][0] + dx, pts[k][1] + dy]);
}

// pose/edit.py LIMBS: name -> [root, points it carries]; tests/browser/test_browser_editor.py checks the copy.
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

/** One person's N_ALL points (body, feet, hands, face: edit indices) as [[x, y, present]] and its
 *  inferred indices. */
export function personPoints(person) {
  const arrays = [
    [person?.pose_keypoints_2d, 0, 18], [person?.foot_keypoints_2d, 18, 6],
    ...GROUPS.map(([key, start, n]) => [person?.[key], start, n]),
  ];
  const pts = [];
  for (const [values, , n] of arrays) {
    const arr = Array.isArray(values) ? values : [];
    for (let k = 0; k < n; k++) {
      const x = Number(arr[3 * k]), y = Number(arr[3 * k + 1]), c = Number(arr[3 * k + 2]);
      pts.push(Number.isFinite(c) && c > 0 && Number.isFinite(x) && Number.isFinite(y) ? [x, y, true] : [0, 0, false]);
    }
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

/** The widget value (JSON text) -> {input, points: Map, base, background} or null for none. Never throws. */
export function parseValue(text) {
  if (!text) return null;
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== "object" || !Array.isArray(v.points) || !v.points.length) return null;
    const points = new Map();
    for (const e of v.points) {
      if (!Array.isArray(e) || e.length !== 5) continue;
      const [f, p, i, x, y] = e;
      if (![f, p, i].every(Number.isInteger) || i < 0 || i >= N_ALL) continue;
      points.set(`${f},${p},${i}`, x === null ? null : [Number(x), Number(y)]);
    }
    const background = typeof v.background === "string" && v.background.startsWith("data:image/") ? v.background : null;
    return { input: String(v.input || ""), points, base: Array.isArray(v.base) ? v.base : null, background };
  } catch {
    return null;
  }
}

/** {input, points, base, background} -> widget value (JSON text); "" when there are no edits. */
export function formatValue(state) {
  if (!state || !state.points.size) return "";
  const keys = [...state.points.keys()].map((k) => k.split(",").map(Number));
  keys.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const round = (v) => Math.round(v * 100) / 100;
  const points = keys.map(([f, p, i]) => {
    const xy = state.points.get(`${f},${p},${i}`);
    return [f, p, i, xy ? round(xy[0]) : null, xy ? round(xy[1]) : null];
  });
  const value = { version: 1, input: state.input, points, base: state.base };
  if (state.background) value.background = state.background;
  return JSON.stringify(value);
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
  // body and feet first (a wrist before its hand's root), then hands and face (smaller points)
  for (const [from, to, r] of [[0, 24, radius], [24, N_ALL, radius * 0.75]]) {
    for (const p of order) {
      const pts = frame.people[p].pts;
      let best = null;
      for (let i = from; i < to; i++) {
        if (!pts[i][2]) continue;
        const [x, y] = toScreen(view, pts[i][0], pts[i][1]);
        const d = Math.hypot(x - sx, y - sy);
        if (d <= r && (!best || d < best.d)) best = { d, index: i };
      }
      if (best) return { kind: "point", person: p, index: best.index };
    }
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

/** Where "+ person" puts the template (templatePerson's points, N_ALL entries) on a w x h canvas whose
 *  people are `people` ([{pts}]): beside them, inside the canvas where it fits. The free bands of x between
 *  the people's horizontal extents (a gap of 0.08 h from each) are tried right of everybody, left of
 *  everybody, then between; the first where the template fits at full size takes it, next to the person;
 *  else the widest band with the template scaled down to fit it (not below half size, feet kept at the
 *  bottom); else it goes right of everybody, beyond the canvas. */
export function placeTemplate(people, w, h) {
  const base = templatePerson(w, h);
  const xs = base.map((q) => q[0]);
  const width = Math.max(...xs) - Math.min(...xs);
  const gap = 0.08 * h;
  const spans = people
    .map((person) => person.pts.slice(0, 24).filter((q) => q[2]).map((q) => q[0]))
    .filter((v) => v.length)
    .map((v) => [Math.min(...v), Math.max(...v)])
    .sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1] + gap) last[1] = Math.max(last[1], span[1]);
    else merged.push([...span]);
  }
  let place = null;
  if (!merged.length) place = { cx: w / 2, scale: 1 };
  else {
    const n = merged.length;
    const right = [merged[n - 1][1] + gap, w, "right"];
    const left = [0, merged[0][0] - gap, "left"];
    const between = merged.slice(1).map(([a], k) => [merged[k][1] + gap, a - gap, "right"]);
    const bands = [right, left, ...between].filter(([a, b]) => b > a);
    const at = ([a, b, side], scale) => ({ cx: side === "right" ? a + (width * scale) / 2 : b - (width * scale) / 2, scale });
    const full = bands.find(([a, b]) => b - a >= width);
    if (full) place = at(full, 1);
    else {
      const wide = bands.sort((u, v) => v[1] - v[0] - (u[1] - u[0]))[0];
      if (wide && wide[1] - wide[0] >= width / 2) place = at(wide, (wide[1] - wide[0]) / width);
      else place = { cx: merged[n - 1][1] + gap + width / 2, scale: 1 };
    }
  }
  const cx0 = w / 2, bottom = h * 0.9;
  return Array.from({ length: N_ALL }, (_, i) => {
    if (i >= 24) return [0, 0, false];
    const [x, y] = base[i];
    return [place.cx + (x - cx0) * place.scale, bottom + (y - bottom) * place.scale, true];
  });
}

/** Where to put a missing point when it is added: next to the joint it hangs from, else the centre. */
export function defaultSpot(pts, index, w, h) {
  const parent = SEGMENTS.find(([a, b]) => b === index && pts[a][2]);
  if (parent) return [pts[parent[0]][0] + 0.04 * w, pts[parent[0]][1] + 0.04 * h];
  const child = SEGMENTS.find(([a, b]) => a === index && pts[b][2]);
  if (child) return [pts[child[1]][0] - 0.04 * w, pts[child[1]][1] - 0.04 * h];
  return [w / 2, h / 2];
}
