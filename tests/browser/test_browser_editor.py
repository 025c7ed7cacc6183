"""The Pose Editor widget in the real ComfyUI front end (comfyui-frontend-package), driven by real mouse and
keyboard events in Chromium (playwright, Debian's /usr/bin/chromium), against a loopback ``main.py --cpu``.

One server and one browser page serve every test here (module fixtures: playwright's sync API keeps an
asyncio loop running while it is open, so it must close before other modules call ``asyncio.run``); each
test loads its own workflow into the page. A screenshot per test goes to the test's temporary folder.
"""

import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
LEFT_ANKLE, LEFT_KNEE = 13, 12


def _pose_file(shift=0.0, extra=None):
    """A standing person on a 512 x 512 canvas whose legs were inferred (as Complete Legs leaves them)."""
    from repaint_extend.pose import dump_pose_keypoint_json, new_frame, person_from_points

    pts = np.zeros((24, 3))
    spots = {0: (256, 60), 1: (256, 110), 2: (216, 115), 5: (296, 115), 8: (236, 250), 11: (276, 250)}
    spots.update({9: (236, 340), 10: (236, 430), 12: (276, 340), 13: (276, 430)})
    spots.update({18: (290, 450), 20: (272, 440), 21: (222, 450), 23: (240, 440)})
    for i, (x, y) in spots.items():
        pts[i] = (x + shift, y, 1)
    person = person_from_points(pts, inferred=[9, 10, 12, 13, 18, 20, 21, 23])
    person.update(extra or {})
    frame = new_frame(512, 512, [person])
    frame.update(extra or {})
    return dump_pose_keypoint_json([frame])


LEFT_WRIST, LEFT_HEEL, LEFT_BIG_TOE, LEFT_SMALL_TOE = 7, 20, 18, 19
HAND_LEFT, HAND_RIGHT, FACE = 24, 45, 66  # edit indices of the hands' and the face's first points


def _whole_body_file():
    """A standing person with every body and foot point, both hands (21 points each, fanned out from the
    wrists) and a face (70 points around the nose), as controlnet_aux's DWPose writes them (pixels)."""
    from repaint_extend.pose import dump_pose_keypoint_json, new_frame, person_from_points

    spots = {
        0: (256, 70), 1: (256, 110), 2: (216, 115), 3: (200, 165), 4: (196, 215), 5: (296, 115),
        6: (316, 165), 7: (326, 215), 8: (236, 250), 9: (236, 340), 10: (236, 430), 11: (276, 250),
        12: (276, 340), 13: (276, 430), 14: (248, 64), 15: (264, 64), 16: (240, 68), 17: (272, 68),
        18: (296, 452), 19: (306, 448), 20: (272, 440), 21: (216, 452), 22: (206, 448), 23: (240, 440),
    }  # fmt: skip
    pts = np.zeros((24, 3))
    for i, (x, y) in spots.items():
        pts[i] = (x, y, 1)
    person = person_from_points(pts)

    def hand(wx, wy, side):
        out = [wx, wy, 1.0]
        for finger in range(5):
            for joint in range(1, 5):
                out += [wx + side * (finger - 2) * 7 + side * joint, wy + 8 * joint, 1.0]
        return out

    person["hand_left_keypoints_2d"] = hand(*spots[7], 1)
    person["hand_right_keypoints_2d"] = hand(*spots[4], -1)
    angles = np.linspace(0, 2 * np.pi, 70, endpoint=False)
    person["face_keypoints_2d"] = [
        v for a in angles for v in (256 + 22 * np.cos(a), 62 + 26 * np.sin(a), 1.0)
    ]
    return dump_pose_keypoint_json([new_frame(512, 512, [person])])


@pytest.fixture(scope="module")
def editor_server(comfy, tmp_path_factory):
    """A ComfyUI server with the pack; input pose files A, B (shifted) and one with markup in its strings."""
    import skimage

    work = tmp_path_factory.mktemp("browser")
    for name in ("input", "user/default"):
        (work / name).mkdir(parents=True, exist_ok=True)
    (work / "user/default/comfy.settings.json").write_text(json.dumps({"Comfy.TutorialCompleted": True}))
    Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB").save(
        work / "input/camera.png"
    )
    (work / "input/pose_a.json").write_text(_pose_file())
    (work / "input/pose_b.json").write_text(_pose_file(shift=20))
    (work / "input/pose_whole.json").write_text(_whole_body_file())
    markup = '<img src="x" onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    (work / "input/pose_markup.json").write_text(_pose_file(extra={"name": markup, "person_id": markup}))
    with comfy.serve(work, ready_node="PoseEditor") as base:
        yield base, work


@pytest.fixture(scope="module")
def page(editor_server):
    from playwright.sync_api import sync_playwright

    base, _ = editor_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.errors, pg.pack_console_errors = [], []
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))

        def on_console(msg):
            where = (msg.location or {}).get("url", "")
            if msg.type == "error" and ("pose_editor" in where or "pose_editor" in msg.text):
                pg.pack_console_errors.append(msg.text)

        pg.on("console", on_console)
        pg.goto(base)
        pg.wait_for_function(
            "window.app && window.app.graph && window.comfyAPI && window.comfyAPI.api", timeout=60000
        )
        pg.wait_for_function(
            "window.app.extensionManager && [...(window.app.extensions||[])].some(e => e.name === 'repaint_extend.PoseEditor')",
            timeout=30000,
        )
        yield pg
        browser.close()


@pytest.fixture
def ui(page, editor_server, comfy, tmp_path, request):
    """Per test: no page error and no console error from the pack; a screenshot in tmp_path."""
    page.errors.clear()
    page.pack_console_errors.clear()
    driver = Driver(page, editor_server[0], comfy)
    driver.shots = tmp_path
    yield driver
    page.screenshot(path=str(tmp_path / f"{request.node.name}.png"))
    assert page.errors == [], page.errors
    assert page.pack_console_errors == [], page.pack_console_errors


class Driver:
    """Loads a workflow, finds the editor by node type (never by widget index), drags, queues."""

    def __init__(self, page, base, comfy):
        self.page, self.base, self.comfy = page, base, comfy

    def load(self, pose_file="pose_a.json"):
        from comfy_execution.graph_utils import GraphBuilder

        from runner.workflow_format import api_to_ui

        g = GraphBuilder(prefix="")
        photo = g.node("LoadImage", image="camera.png")
        pose = g.node("PoseLoadJSON", file=pose_file, coordinates="pixels")
        editor = g.node("PoseEditor", width=512, height=512, edits="", pose=pose.out(0), image=photo.out(0))
        render = g.node("PoseRender", pose=editor.out(0), body=True, feet=True, hands=False, face=False)
        g.node("SaveImage", images=render.out(0), filename_prefix="render")
        g.node("PoseSaveJSON", pose=editor.out(0), filename_prefix="edited")
        workflow = api_to_ui(g.finalize())
        self.page.evaluate("wf => window.app.loadGraphData(wf)", workflow)
        self.place()
        return workflow

    def place(self):
        """Editor node at scale 1 with its widget at a fixed spot on screen, the other nodes out of its way."""
        self.page.evaluate(
            """() => {
              const app = window.app;
              const node = app.graph.nodes.find(n => n.type === 'PoseEditor');
              for (const n of app.graph.nodes) if (n !== node) n.pos = [node.pos[0] + 700, 40 + 150 * n.id];
              node.size = [560, 660];
              app.canvas.ds.scale = 1;
              app.canvas.ds.offset = [120 - node.pos[0], 160 - node.pos[1]];
              app.canvas.setDirty(true, true);
            }"""
        )
        # line the widget up by its real position on screen (Nodes 2.0 lays out in DOM): shift the view until
        # the widget sits at (140, 180) in two checks in a row, each after two drawn frames
        self.page.wait_for_function(
            """async () => {
              const app = window.app;
              const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
              for (let still = 0, i = 0; i < 40; i++) {
                await frames();
                const el = document.querySelector('.re-pose-editor');
                if (!el) continue;
                const r = el.getBoundingClientRect();
                if (Math.abs(140 - r.left) < 0.5 && Math.abs(180 - r.top) < 0.5) {
                  if (++still === 2) return true;
                  continue;
                }
                still = 0;
                app.canvas.ds.offset[0] += (140 - r.left) / app.canvas.ds.scale;
                app.canvas.ds.offset[1] += (180 - r.top) / app.canvas.ds.scale;
                app.canvas.setDirty(true, true);
              }
              return false;
            }""",
            timeout=30000,
        )

    def editor(self, expression):
        return self.page.evaluate(
            "expr => { const node = window.app.graph.nodes.find(n => n.type === 'PoseEditor');"
            " const ed = node.widgets.find(w => w.type === 'POSE_EDITS').editor;"
            " return new Function('ed', 'node', 'return ' + expr)(ed, node); }",
            expression,
        )

    def value(self):
        return self.editor("ed.widget.value")

    EDITOR = "window.app.graph.nodes.find(n => n.type === 'PoseEditor').widgets.find(w => w.type === 'POSE_EDITS').editor"

    def queue(self):
        """Queue the workflow as the UI does; wait for its history entry and for the editor to get the run's
        ``executed`` message (a new input object: ComfyUI sends one for a cached node too)."""
        before = set(self.comfy.request_json(f"{self.base}/history"))
        self.page.evaluate(f"() => {{ window.__reInputBefore = {self.EDITOR}.input; }}")
        self.page.evaluate("window.app.queuePrompt(0, 1)")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            new = {
                k: v for k, v in self.comfy.request_json(f"{self.base}/history").items() if k not in before
            }
            done = [v for v in new.values() if v["status"].get("completed") is not None]
            if done:
                entry = done[0]
                assert entry["status"]["status_str"] == "success", entry["status"]
                self.page.wait_for_function(
                    f"() => {{ const ed = {self.EDITOR}; return ed.input && ed.input !== window.__reInputBefore; }}",
                    timeout=30000,
                )
                return entry
            time.sleep(0.1)
        raise TimeoutError("the prompt did not finish")

    @staticmethod
    def pose(entry):
        for output in entry["outputs"].values():
            if "openpose_json" in output:
                return json.loads(output["openpose_json"][0])
        raise KeyError("no PoseSaveJSON output")

    def drag(self, person, index, dx, dy):
        x, y = self.editor(f"ed.clientPoint({person}, {index})")
        m = self.page.mouse
        m.move(x, y)
        m.down()
        m.move(x + dx / 2, y + dy / 2, steps=4)
        m.move(x + dx, y + dy, steps=4)
        m.up()
        self.page.wait_for_timeout(100)

    def drag_px(self, index, dx, dy, shift=False, person=0):
        """Drag point ``index`` by (dx, dy) image px with the mouse (Shift held if asked); waits for the
        widget value to change."""
        k = self.editor("ed.imagePxPerClientPx()")
        before = self.value()
        if shift:
            self.page.keyboard.down("Shift")
        try:
            self.drag(person, index, dx / k, dy / k)
        finally:
            if shift:
                self.page.keyboard.up("Shift")
        self.page.wait_for_function(f"v => {self.EDITOR}.widget.value !== v", arg=before, timeout=10000)

    def zoom_at(self, person, index, notches):
        """Wheel-zoom the editor in at a point (``notches`` wheel steps of 100) until its view changed."""
        x, y = self.editor(f"ed.clientPoint({person}, {index})")
        scale = self.editor("ed.view.scale")
        self.page.mouse.move(x, y)
        for _ in range(notches):
            self.page.mouse.wheel(0, -100)
        self.page.wait_for_function(f"s => {self.EDITOR}.view.scale > s * 1.5", arg=scale, timeout=10000)


def _group(frames, key, person=0):
    return np.reshape(frames[0]["people"][person][key], (-1, 3))


def _point(frames, index, person=0):
    return frames[0]["people"][person]["pose_keypoints_2d" if index < 18 else "foot_keypoints_2d"][
        (index % 18 if index >= 18 else index) * 3 :
    ][:3]


def test_editor_shows_input_and_a_drag_moves_the_ankle(ui, editor_server):
    ui.load()
    assert "Queue the workflow" in ui.editor("ed.status.textContent")
    first = ui.queue()
    assert ui.editor("ed.status.textContent").startswith("512×512 px · 1 person(s) · 0 edited")
    ui.page.wait_for_function(
        "() => window.app.graph.nodes.find(n => n.type==='PoseEditor').widgets.find(w => w.type==='POSE_EDITS').editor.bg"
    )
    # background drawn (the photo's texture at its top-left corner), detected points filled in their
    # controlnet_aux colour (nose: red), inferred ones hollow (left knee: dark centre)
    # the background is the photo: screen pixels at image points match camera.png's grey levels
    shot = np.asarray(Image.open(io.BytesIO(ui.page.screenshot())).convert("L")).astype(int)
    photo = np.asarray(Image.open(editor_server[1] / "input/camera.png").convert("L")).astype(int)
    for x, y in [(60, 60), (150, 350), (450, 470), (330, 200)]:
        cx, cy = ui.editor(f"ed.clientOf({x}, {y})")
        assert abs(shot[round(cy), round(cx)] - photo[y, x]) <= 30, (x, y)
    # points in controlnet_aux's colours: detected ones filled (nose: red), inferred ones hollow (left
    # knee: a dark centre)
    shot = np.asarray(Image.open(io.BytesIO(ui.page.screenshot())).convert("RGB")).astype(int)
    nx, ny = ui.editor("ed.clientPoint(0, 0)")
    kx, ky = ui.editor(f"ed.clientPoint(0, {LEFT_KNEE})")
    assert abs(shot[round(ny), round(nx)] - [255, 0, 0]).max() <= 40
    assert shot[round(ky), round(kx)].max() < 128
    before = _point(ui.pose(first), LEFT_ANKLE)
    k = ui.editor("ed.imagePxPerClientPx()")
    ui.drag(0, LEFT_ANKLE, 40, 30)
    after_pose = ui.pose(ui.queue())
    after = _point(after_pose, LEFT_ANKLE)
    assert after[0] - before[0] == pytest.approx(40 * k, abs=0.02)
    assert after[1] - before[1] == pytest.approx(30 * k, abs=0.02)
    assert LEFT_ANKLE not in after_pose[0]["people"][0]["inferred_keypoints"]
    assert LEFT_KNEE in after_pose[0]["people"][0]["inferred_keypoints"]


def test_ctrl_z_restores_and_the_edit_survives_save_and_reload(ui):
    ui.load()
    ui.queue()
    ui.drag(0, LEFT_ANKLE, 0, 50)
    edited = ui.value()
    assert json.loads(edited)["points"][0][:3] == [0, 0, LEFT_ANKLE]
    ui.drag(0, LEFT_KNEE, 30, 0)
    assert ui.value() != edited
    ui.page.locator(".re-pose-canvas").first.focus()
    ui.page.keyboard.press("Control+z")
    ui.page.wait_for_function(
        "v => window.app.graph.nodes.find(n => n.type==='PoseEditor').widgets.find(w => w.type==='POSE_EDITS').value === v",
        arg=edited,
        timeout=10000,
    )
    saved = ui.page.evaluate("() => JSON.parse(JSON.stringify(window.app.graph.serialize()))")
    ui.page.evaluate("() => window.app.graph.clear()")
    ui.page.evaluate("wf => window.app.loadGraphData(wf)", saved)
    ui.place()
    assert ui.value() == edited
    # the ankle and the heel and big toe it carries (the pose has no left small toe), before any run
    assert "3 edited point" in ui.editor("ed.status.textContent")
    out = ui.pose(ui.queue())
    assert _point(out, LEFT_ANKLE)[1] > 430 and _point(out, LEFT_KNEE)[:2] == [276, 340]


def test_a_joint_dragged_beyond_the_image_keeps_its_coordinates_through_pose_render(ui, editor_server):
    ui.load()
    ui.queue()
    # zoom out around the editor's centre so that space left of and below the image is on screen
    box = ui.page.locator(".re-pose-canvas").first.bounding_box()
    ui.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    ui.page.mouse.wheel(0, 400)
    ui.page.wait_for_timeout(200)
    k = ui.editor("ed.imagePxPerClientPx()")
    x, _ = ui.editor(f"ed.clientPoint(0, {LEFT_ANKLE})")
    left = ui.editor(f"ed.clientPoint(0, {LEFT_ANKLE})")[0] - ui.editor("ed.clientPoint(0, 0)")[0]
    ui.drag(0, LEFT_ANKLE, -(276 + 40) / k - left * 0 + 0, 60 / k)  # to x = -40 px, 60 px lower
    ui.drag(0, 21, 0, 120 / k)  # right big toe below the image
    entry = ui.queue()
    out = ui.pose(entry)
    ankle = _point(out, LEFT_ANKLE)
    assert ankle[0] == pytest.approx(-40, abs=0.05) and ankle[2] == 1
    assert _point(out, 21)[1] == pytest.approx(570, abs=0.05)  # beyond the 512 px canvas
    # Pose Render draws the shank up to the left border: limb colour at x = 0 near the line's crossing
    render = [o for o in entry["outputs"].values() if "images" in o][0]["images"][0]
    hint = np.asarray(Image.open(editor_server[1] / "output" / render["subfolder"] / render["filename"]))
    knee_y, ankle_y = 340, ankle[1]
    cross = knee_y + (ankle_y - knee_y) * (276 / (276 + 40))
    band = hint[int(cross) - 6 : int(cross) + 7, 0]
    assert band.max() > 0, "the shank does not reach the left border"


def test_changing_the_input_pose_does_not_apply_old_edits(ui):
    ui.load("pose_a.json")
    ui.queue()
    ui.drag(0, LEFT_ANKLE, 40, 0)
    assert ui.pose(ui.queue())[0]["people"][0]["pose_keypoints_2d"][LEFT_ANKLE * 3] != 276
    ui.page.evaluate(
        "() => { const n = window.app.graph.nodes.find(n => n.type==='PoseLoadJSON');"
        " const w = n.widgets.find(w => w.name==='file'); w.value = 'pose_b.json'; w.callback?.(w.value); }"
    )
    out = ui.pose(ui.queue())
    assert _point(out, LEFT_ANKLE)[:2] == [296, 430]  # pose B as it came in
    assert 13 in out[0]["people"][0]["inferred_keypoints"]
    banner = ui.editor("ed.banner.hidden ? '' : ed.banner.textContent")
    assert "NOT applied" in banner
    ui.page.get_by_text("Keep edits for this input").click()
    out = ui.pose(ui.queue())
    assert _point(out, LEFT_ANKLE)[0] != 296  # applied once the user said so


def test_markup_in_a_pose_file_executes_nothing(ui):
    ui.load("pose_markup.json")
    ui.queue()
    ui.drag(0, LEFT_ANKLE, 10, 10)
    ui.queue()
    assert ui.page.evaluate("() => window.__pwned === undefined")
    assert ui.page.locator('img[src="x"]').count() == 0
    assert "window.__pwned" not in ui.page.evaluate("() => document.documentElement.innerHTML")


def test_the_same_drag_with_nodes_2_0(ui):
    setting = "([k, v]) => window.app.extensionManager.setting.set(k, v)"
    ui.page.evaluate(setting, ["Comfy.VueNodes.AutoScaleLayout", False])
    ui.page.evaluate(setting, ["Comfy.VueNodes.Enabled", True])
    try:
        ui.load()
        first = ui.queue()
        ui.page.wait_for_timeout(500)
        assert ui.page.locator(".re-pose-canvas").count() == 1
        # the editor sits inside the node's Vue (DOM) element, not over the classic canvas
        assert ui.page.locator("[data-node-id] .re-pose-editor").count() == 1
        before = _point(ui.pose(first), LEFT_ANKLE)
        k = ui.editor("ed.imagePxPerClientPx()")
        ui.drag(0, LEFT_ANKLE, 30, 40)
        after_pose = ui.pose(ui.queue())
        after = _point(after_pose, LEFT_ANKLE)
        assert after[0] - before[0] == pytest.approx(30 * k, abs=0.02)
        assert after[1] - before[1] == pytest.approx(40 * k, abs=0.02)
        assert LEFT_ANKLE not in after_pose[0]["people"][0]["inferred_keypoints"]
        ui.page.screenshot(path=str(ui.shots / "nodes_2_0.png"))
    finally:
        ui.page.evaluate(setting, ["Comfy.VueNodes.Enabled", False])


def test_the_js_limbs_are_pose_edit_limbs():
    """web/pose_editor/core.js carries a copy of pose/edit.py's LIMBS (the browser has no Python)."""
    from repaint_extend.pose import LIMBS

    text = (ROOT / "web/pose_editor/core.js").read_text()
    block = re.search(r"// LIMBS-BEGIN\nexport const LIMBS = (\{.*?\})\n// LIMBS-END", text, re.S).group(1)
    assert {k: [r, list(m)] for k, (r, m) in LIMBS.items()} == json.loads(block)


def test_limb_drag_delete_add_point_and_person(ui):
    ui.load()
    before = ui.pose(ui.queue())
    # grab the left shank (knee -> ankle bone) and swing it: ankle and left foot turn about the knee
    (kx, ky), (ax, ay) = (
        ui.editor(f"ed.clientPoint(0, {LEFT_KNEE})"),
        ui.editor(f"ed.clientPoint(0, {LEFT_ANKLE})"),
    )
    m = ui.page.mouse
    m.move(kx + (ax - kx) * 0.6, ky + (ay - ky) * 0.6)
    m.down()
    m.move(kx + (ax - kx) * 0.6 + 40, ky + (ay - ky) * 0.6, steps=6)
    m.up()
    # select the left heel and delete it with the keyboard; add the missing left small toe
    ui.drag(0, 20, 0, 0)
    ui.page.keyboard.press("Delete")
    ui.page.locator(".re-pose-toolbar select").nth(2).select_option(label="left_small_toe")
    ui.page.get_by_role("button", name="+ person").click()
    after = ui.pose(ui.queue())
    knee, ankle, toe = (np.array(_point(after, i)[:2]) for i in (LEFT_KNEE, LEFT_ANKLE, 18))
    assert knee.tolist() == _point(before, LEFT_KNEE)[:2]  # the root stays
    old_ankle, old_toe = (np.array(_point(before, i)[:2]) for i in (LEFT_ANKLE, 18))
    assert np.linalg.norm(ankle - knee) == pytest.approx(np.linalg.norm(old_ankle - knee), abs=0.05)
    assert ankle[0] > old_ankle[0] + 10  # swung to the right, as the mouse went
    assert np.linalg.norm(toe - ankle) == pytest.approx(np.linalg.norm(old_toe - old_ankle), abs=0.05)
    assert _point(after, 20)[2] == 0 and _point(after, 19)[2] == 1
    assert len(after[0]["people"]) == 2 and all(
        c == 1 for c in after[0]["people"][1]["pose_keypoints_2d"][2::3]
    )


def test_dragging_the_left_ankle_moves_its_foot_and_shift_drag_moves_the_ankle_alone(ui):
    """the ankle carries heel, big toe and small toe by the same 40 px; with Shift only the
    ankle moves. The status line names the mode, Shift held included."""
    ui.load("pose_whole.json")
    first = ui.pose(ui.queue())
    assert "mode: joint + the points below it" in ui.editor("ed.status.textContent")
    foot = (LEFT_ANKLE, LEFT_HEEL, LEFT_BIG_TOE, LEFT_SMALL_TOE)
    ui.drag_px(LEFT_ANKLE, 40, 0)
    moved = ui.pose(ui.queue())
    for i in foot:
        dx, dy = np.subtract(_point(moved, i)[:2], _point(first, i)[:2])
        assert dx == pytest.approx(40, abs=0.02) and dy == pytest.approx(0, abs=0.02), i
    assert _point(moved, LEFT_KNEE) == _point(first, LEFT_KNEE)  # above the ankle: stays
    ui.page.locator(".re-pose-canvas").first.hover()
    ui.page.keyboard.down("Shift")
    try:
        ui.page.wait_for_function(f"() => {ui.EDITOR}.status.textContent.includes('mode: one point')")
    finally:
        ui.page.keyboard.up("Shift")
    ui.drag_px(LEFT_ANKLE, 0, 30, shift=True)
    alone = ui.pose(ui.queue())
    assert _point(alone, LEFT_ANKLE)[1] == pytest.approx(_point(moved, LEFT_ANKLE)[1] + 30, abs=0.02)
    assert [_point(alone, i) for i in foot[1:]] == [_point(moved, i) for i in foot[1:]]


def test_the_hovered_point_shows_its_name_and_names_shows_every_name(ui):
    ui.load()
    ui.queue()
    assert ui.editor("ed.drawnLabels.length") == 0
    x, y = ui.editor(f"ed.clientPoint(0, {LEFT_KNEE})")

    def right_of_the_point():
        shot = np.asarray(Image.open(io.BytesIO(ui.page.screenshot())).convert("RGB")).astype(int)
        return shot[round(y) - 16 : round(y), round(x) + 8 : round(x) + 60]

    before = right_of_the_point()
    ui.page.mouse.move(x, y)
    ui.page.wait_for_function(f"() => {ui.EDITOR}.drawnLabels.length === 1")
    assert ui.editor("ed.drawnLabels[0].text") == "left_knee"
    after = right_of_the_point()  # the name, drawn next to the point: white letters, black outline
    assert (np.abs(after - before).max(axis=2) > 80).sum() > 60 and (after.min(axis=2) > 200).sum() > 10
    ui.page.mouse.move(x - 150, y)  # off every point: the name goes
    ui.page.wait_for_function(f"() => {ui.EDITOR}.drawnLabels.length === 0")
    ui.page.locator(".re-pose-names").check()
    shown = ui.editor("ed.model().frames[0].people[0].pts.filter(p => p[2]).length")
    ui.page.wait_for_function(f"n => {ui.EDITOR}.drawnLabels.length === n", arg=shown)
    assert {"nose", "left_heel", "right_big_toe"} <= set(ui.editor("ed.drawnLabels.map(l => l.text)"))
    ui.page.locator(".re-pose-names").uncheck()


def test_a_saved_workflow_shows_its_background_before_any_run(ui, editor_server):
    """The edits carry a JPEG copy of the background (< 100 KB); a fresh page that opens the saved workflow
    draws it, dimmed, before anything runs; the next run's background replaces it."""
    ui.load()
    ui.queue()
    ui.page.wait_for_function(f"() => {ui.EDITOR}.bg")
    ui.drag_px(LEFT_KNEE, 10, 0)
    value = json.loads(ui.value())
    assert value["background"].startswith("data:image/jpeg;base64,") and len(value["background"]) < 100_000
    saved = ui.page.evaluate("() => JSON.parse(JSON.stringify(window.app.graph.serialize()))")
    ui.page.reload()  # a new session: nothing of the last run is left in the page
    ui.page.wait_for_function("window.app && window.app.graph && window.app.extensionManager", timeout=60000)
    ui.page.wait_for_function(
        "[...(window.app.extensions||[])].some(e => e.name === 'repaint_extend.PoseEditor')", timeout=30000
    )
    ui.page.evaluate("wf => window.app.loadGraphData(wf)", saved)
    ui.place()
    ui.page.wait_for_function(f"() => {{ const ed = {ui.EDITOR}; return ed.savedBg && ed.savedBg.img; }}")
    assert ui.editor("ed.bg") is None and ui.editor("ed.input") is None
    assert "background: copy saved with the workflow" in ui.editor("ed.status.textContent")
    # drawn dimmed (alpha 0.5 over black): screen grey = half the photo's, give or take JPEG and scaling
    shot = np.asarray(Image.open(io.BytesIO(ui.page.screenshot())).convert("L")).astype(float)
    photo = np.asarray(Image.open(editor_server[1] / "input/camera.png").convert("L")).astype(float)
    spots = [(60, 60), (150, 350), (450, 470), (330, 200), (100, 480)]
    for x, y in spots:
        cx, cy = ui.editor(f"ed.clientOf({x}, {y})")
        assert abs(shot[round(cy), round(cx)] - photo[y, x] / 2) <= 20, (x, y)
    ui.queue()
    ui.page.wait_for_function(f"() => {ui.EDITOR}.bg")
    assert "copy saved" not in ui.editor("ed.status.textContent")


def test_add_person_goes_beside_the_person_inside_the_canvas(ui):
    ui.load()
    ui.queue()
    ui.page.get_by_role("button", name="+ person").click()
    out = ui.pose(ui.queue())
    first, added = (np.reshape(p["pose_keypoints_2d"], (-1, 3)) for p in out[0]["people"])
    first = first[first[:, 2] > 0]
    assert len(out[0]["people"]) == 2 and (added[:, 2] == 1).all()
    assert (added[:, :2] >= 0).all() and (added[:, 0] <= 512).all() and (added[:, 1] <= 512).all()
    assert added[:, 0].min() > first[:, 0].max() or added[:, 0].max() < first[:, 0].min()  # side by side


def test_hands_and_face_are_drawn_kept_and_a_hand_moves_with_its_wrist(ui):
    """hands and face in controlnet_aux's colours (hand points blue, face points white); dragging
    the left wrist moves its 21 hand points with it; a finger point moves alone at zoom (Shift) and a face
    point and a hand point are deleted one by one; everything else comes out as it went in."""
    ui.load("pose_whole.json")
    first = ui.pose(ui.queue())
    shot = np.asarray(Image.open(io.BytesIO(ui.page.screenshot())).convert("RGB")).astype(int)
    fx, fy = ui.editor(f"ed.clientPoint(0, {FACE + 20})")
    hx, hy = ui.editor(f"ed.clientPoint(0, {HAND_RIGHT + 8})")  # a fingertip: no edge drawn over it
    assert (shot[round(fy), round(fx)] >= 200).all()
    assert abs(shot[round(hy), round(hx)] - [0, 0, 255]).max() <= 60
    ui.drag_px(LEFT_WRIST, 30, 20)
    moved = ui.pose(ui.queue())
    left0, left1 = _group(first, "hand_left_keypoints_2d"), _group(moved, "hand_left_keypoints_2d")
    assert np.allclose(left1[:, :2] - left0[:, :2], [30, 20], atol=0.02) and (left1[:, 2] == 1).all()
    for key in ("hand_right_keypoints_2d", "face_keypoints_2d"):
        assert np.array_equal(_group(moved, key), _group(first, key))
    # at zoom, one finger joint (left index finger, 2nd point) moves alone with Shift
    ui.zoom_at(0, HAND_LEFT + 6, 6)
    ui.drag_px(HAND_LEFT + 6, -5, 3, shift=True)
    # a face point and a hand point go, selected by a click, deleted with the Del key
    for index in (HAND_LEFT + 20, FACE + 10):
        ui.page.get_by_role("button", name="Fit", exact=True).click()
        ui.zoom_at(0, index, 6)
        x, y = ui.editor(f"ed.clientPoint(0, {index})")
        ui.page.mouse.click(x, y)
        ui.page.wait_for_function(f"i => {ui.EDITOR}.point === i", arg=index)
        ui.page.keyboard.press("Delete")
        ui.page.wait_for_function(
            f"i => {ui.EDITOR}.model().frames[0].people[0].pts[i][2] === false", arg=index
        )
    final = ui.pose(ui.queue())
    left2 = _group(final, "hand_left_keypoints_2d")
    assert np.allclose(left2[6, :2] - left1[6, :2], [-5, 3], atol=0.05)
    assert left2[20].tolist() == [0, 0, 0]
    assert np.array_equal(np.delete(left2, [6, 20], 0), np.delete(left1, [6, 20], 0))
    face = _group(final, "face_keypoints_2d")
    assert face[10].tolist() == [0, 0, 0] and np.array_equal(
        np.delete(face, 10, 0), np.delete(_group(first, "face_keypoints_2d"), 10, 0)
    )


def test_the_demo_workflow_runs_from_the_template_menu_on_an_uploaded_photo(ui, editor_server, tmp_path):
    """as a newcomer with no checkpoint: Templates (side bar) -> this pack -> extend_legs_demo,
    upload a photo through Load Image's upload button, press Run. The whole graph runs in ComfyUI (pose,
    pad, Pose Editor, Outpaint (Tiled) on the embedded demo model); the saved image is taller than the
    photo and holds the photo's pixels exactly."""
    import skimage

    from runner.host import PACK_LINK_NAME

    base, work = editor_server
    photo = tmp_path / "my_photo.png"
    side = 192  # a small photo keeps the test short: about 130 model calls instead of 734 at 512 px
    camera = Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB")
    camera.resize((side, side), Image.Resampling.LANCZOS).save(photo)
    page = ui.page
    page.evaluate("() => window.app.graph.clear()")
    page.get_by_role("button", name="Templates", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(PACK_LINK_NAME, exact=True).click()
    dialog.get_by_text("extend_legs_demo", exact=True).first.click()
    page.wait_for_function("() => window.app.graph.nodes.some(n => n.type === 'LoadADMPixelModel')")
    dialog.wait_for(state="detached")
    types = page.evaluate("() => window.app.graph.nodes.map(n => n.type)")
    assert {"LoadImage", "PoseEditor", "OutpaintTiled", "SaveImage"} <= set(types)
    assert not {"CheckpointLoaderSimple", "ControlNetLoader"} & set(types)
    # Load Image's upload button: centre the node, click the button's row, pick the file; the front end may
    # still move the view after loading a template, so the spot is measured again until a click opens the
    # file chooser (each try waits for the chooser, at most 5 s)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(6):
        spot = page.evaluate(
            """async () => {
              const app = window.app, node = app.graph.nodes.find(n => n.type === 'LoadImage');
              const w = node.widgets.find(w => w.type === 'button' || w.name === 'upload');
              app.canvas.ds.scale = 1;
              app.canvas.ds.offset = [400 - node.pos[0], 200 - node.pos[1]];
              app.canvas.setDirty(true, true);
              // two drawn frames: the widgets are laid out where the canvas draws them
              await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
              const r = app.canvas.canvas.getBoundingClientRect();
              const [x, y] = app.canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + w.y + 10]);
              return [r.left + x, r.top + y];
            }"""
        )
        try:
            with page.expect_file_chooser(timeout=5000) as chooser:
                page.mouse.click(*spot)
            break
        except PlaywrightTimeout:
            assert attempt < 5, "Load Image's upload button opened no file chooser"
    chooser.value.set_files(str(photo))
    page.wait_for_function(
        "() => window.app.graph.nodes.find(n => n.type === 'LoadImage').widgets[0].value === 'my_photo.png'"
    )
    # the demo scales photos to 512 px on the longer side; at the photo's own size it passes them exact
    page.evaluate(
        """side => { const n = window.app.graph.nodes.find(n => n.type === 'ImageScaleToMaxDimension');
          const w = n.widgets.find(w => w.name === 'largest_size'); w.value = side; w.callback?.(side); }""",
        side,
    )
    before = set(ui.comfy.request_json(f"{base}/history"))
    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.monotonic() + 400
    entry = None
    while entry is None and time.monotonic() < deadline:
        new = [v for k, v in ui.comfy.request_json(f"{base}/history").items() if k not in before]
        entry = next((v for v in new if v["status"].get("completed") is not None), None)
        time.sleep(0.5)
    assert entry is not None, "the demo workflow did not finish"
    assert entry["status"]["status_str"] == "success", entry["status"]
    saved = [
        image
        for output in entry["outputs"].values()
        for image in output.get("images", [])
        if image["filename"].startswith("extend_legs_demo_0")
    ]
    (image,) = saved
    final = np.asarray(Image.open(work / "output" / image["subfolder"] / image["filename"]).convert("RGB"))
    original = np.asarray(Image.open(photo))
    h, w = original.shape[:2]
    assert final.shape[0] > h  # legs below the photo
    # the photo's pixels, exact, somewhere in the padded image (auto padding may also widen it)
    spots = [
        (y, x)
        for y in range(final.shape[0] - h + 1)
        for x in range(final.shape[1] - w + 1)
        if np.array_equal(final[y : y + h, x : x + w], original)
    ]
    assert len(spots) == 1, spots
    ((y, x),) = spots
    assert final[y + h :].std() > 1  # something was generated below it
    # the editor shows the run's pose on the padded photo
    status = ui.editor("ed.status.textContent")
    assert status.startswith(f"{final.shape[1]}×{final.shape[0]} px · 1 person(s)"), status
