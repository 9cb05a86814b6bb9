"""Camera frame sequences for the liveness tests, made from the still photos of testdata.

Spoofs: a photo printed (or shown on a phone) and held in front of the camera, flat, moved,
scaled, rotated and tilted in perspective as a hand moves it: every frame is the same picture
under one homography.

Genuine: a textured 3-D head. The photo's 68 landmarks (from the server's own engine) are
lifted onto a generic head shape (an ellipsoid with the nose, brows and chin of the mean face
that HeadPose uses, densified over a triangle mesh with forehead and a ring around the face),
textured with the photo, and rendered in perspective turning as a challenge asks, in front of a
static background. Its nose and cheeks move against the face outline as a real head's do.
"""
import io
import json
import subprocess

import cv2
import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480


def landmarks_of(binary, path):
    """The 68 landmarks of the largest face of a photo, from `visage detect --raw`."""
    out = subprocess.run([str(binary), "detect", "--raw", str(path)], capture_output=True, check=True, timeout=120).stdout
    faces = json.loads(out.decode().strip().splitlines()[-1])["Faces"]
    face = max(faces, key=lambda f: f["Boundary"]["Width"] * f["Boundary"]["Height"])
    return np.array(face["Landmarks"], dtype=np.float64)


def load_rgb(path):
    return np.array(Image.open(path).convert("RGB"))


def framed_still(photo, landmarks, face_height=190):
    """The photo scaled so its face is `face_height` pixels high, cut to a camera frame around
    the face: what a printed or on-screen photo shows. Returns the frame and its landmarks."""
    top, bottom = landmarks[19, 1], landmarks[8, 1]
    scale = face_height / max(1.0, bottom - top)
    resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    points = landmarks * scale
    cx, cy = points[27:36, 0].mean(), points[27:36, 1].mean()
    canvas = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    ox, oy = int(round(WIDTH / 2 - cx)), int(round(HEIGHT / 2 - cy))
    h, w = resized.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(WIDTH, ox + w), min(HEIGHT, oy + h)
    canvas[y0:y1, x0:x1] = resized[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return canvas, points + [ox, oy]


def room(seed=1):
    """A static, textured background: a wall with a little structure."""
    rng = np.random.default_rng(seed)
    base = np.full((HEIGHT, WIDTH, 3), (176, 170, 160), np.float64)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (HEIGHT, WIDTH)), (0, 0), 9)
    base += noise[..., None]
    cv2.rectangle(base, (20, 300), (150, 470), (90, 80, 70), -1)
    cv2.rectangle(base, (520, 40), (620, 200), (60, 90, 120), -1)
    return np.clip(base, 0, 255).astype(np.uint8)


def plane_homography(yaw=0.0, pitch=0.0, roll=0.0, scale=1.0, shift=(0.0, 0.0), focal=900.0):
    """The homography a flat picture undergoes when turned by yaw/pitch/roll (degrees) about its
    centre, brought nearer (scale) and moved (pixels), seen by a pinhole camera."""
    ry, rp, rr = np.radians([yaw, pitch, roll])
    Ry = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(rp), -np.sin(rp)], [0, np.sin(rp), np.cos(rp)]])
    Rz = np.array([[np.cos(rr), -np.sin(rr), 0], [np.sin(rr), np.cos(rr), 0], [0, 0, 1]])
    R = Rz @ Rx @ Ry
    corners = np.array([[0, 0], [WIDTH, 0], [WIDTH, HEIGHT], [0, HEIGHT]], np.float64)
    moved = []
    for x, y in corners:
        p = R @ np.array([x - WIDTH / 2, y - HEIGHT / 2, 0.0]) * scale
        z = focal + p[2]
        moved.append([WIDTH / 2 + shift[0] + focal * p[0] / z, HEIGHT / 2 + shift[1] + focal * p[1] / z])
    return cv2.getPerspectiveTransform(corners.astype(np.float32), np.array(moved, np.float32))


SPOOF_MOTIONS = {
    # name: per-frame (yaw, pitch, roll, scale, dx, dy) as t goes from 0 to 1
    "flat": lambda t: (0, 0, 0, 1, 0, 0),
    "moved": lambda t: (0, 0, 0, 1, 60 * np.sin(2 * np.pi * t), 25 * t),
    "scaled": lambda t: (0, 0, 0, 0.8 + 0.4 * t, 0, 0),
    "rotated": lambda t: (0, 0, 25 * np.sin(2 * np.pi * t), 1, 0, 0),
    "tilted-yaw": lambda t: (40 * np.sin(np.pi * t), 0, 0, 1, 0, 0),
    "tilted-pitch": lambda t: (0, 35 * np.sin(np.pi * t), 0, 1, 0, 0),
    "handheld": lambda t: (30 * t, -15 * t, 10 * np.sin(3 * t), 0.9 + 0.2 * t, 30 * np.sin(4 * t), -20 * t),
}


def spoof_frames(still, motion, count=10, screen=False, seed=2):
    """A still picture held up to the camera and moved; `screen` adds a phone's dark bezel."""
    picture = still.copy()
    if screen:
        picture = cv2.copyMakeBorder(still[30:-30, 60:-60], 30, 30, 60, 60, cv2.BORDER_CONSTANT, value=(15, 15, 18))
        picture = cv2.resize(picture, (WIDTH, HEIGHT))
    background = room(seed)
    frames = []
    for i in range(count):
        yaw, pitch, roll, scale, dx, dy = SPOOF_MOTIONS[motion](i / max(1, count - 1))
        H = plane_homography(yaw, pitch, roll, scale * 0.85, (dx, dy))
        warped = cv2.warpPerspective(picture, H, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full((HEIGHT, WIDTH), 255, np.uint8), H, (WIDTH, HEIGHT))
        frame = np.where(mask[..., None] > 127, warped, background)
        frames.append(frame)
    return frames


def head_mesh(points):
    """Vertices (x, y, z) of a generic head fitted to 68 landmarks, and its triangles."""
    left, right = points[0], points[16]
    cx = (points[27, 0] + points[8, 0]) / 2
    eye_y = points[36:48, 1].mean()
    chin = points[8]
    half = np.linalg.norm(right - left) / 2
    face_h = chin[1] - eye_y
    cy = eye_y + 0.35 * face_h
    verts = [p for p in points]
    # Forehead: the brows lifted by most of the eye-to-brow height plus a margin.
    brow_lift = 0.55 * face_h
    for i in range(17, 27):
        verts.append(points[i] - [0, brow_lift * 0.5])
        verts.append(points[i] - [0, brow_lift])
    # A ring around the face (hair, ears, neck), where the head turns away from the camera.
    centre = np.array([cx, cy])
    for angle in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        direction = np.array([np.cos(angle), np.sin(angle)])
        verts.append(centre + direction * [half * 1.25, face_h * 1.15])
    verts = np.array(verts)
    # Depth: an ellipsoid of the head's width, with the nose, brows and chin of the mean face.
    radius = half * 1.1
    zs = []
    for k, (x, y) in enumerate(verts):
        u = (x - cx) / (radius * 1.15)
        v = (y - cy) / (face_h * 1.35)
        z = radius * np.sqrt(max(0.0, 1 - u * u - 0.6 * v * v))
        if 27 <= k <= 35:  # nose: bridge to tip, nostrils
            z += {27: 0.12, 28: 0.22, 29: 0.32, 30: 0.45, 31: 0.22, 32: 0.28, 33: 0.32, 34: 0.28, 35: 0.22}[k] * half
        elif 36 <= k <= 47:  # eyes sit in their sockets
            z -= 0.08 * half
        elif 48 <= k <= 67:  # lips forward a little
            z += 0.06 * half
        elif k >= 68 + 20:  # the ring: the sides and back of the head
            z = 0.0
        zs.append(z)
    verts3 = np.column_stack([verts, zs])
    subdiv = cv2.Subdiv2D((int(verts[:, 0].min()) - 5, int(verts[:, 1].min()) - 5,
                           int(verts[:, 0].max() - verts[:, 0].min()) + 10, int(verts[:, 1].max() - verts[:, 1].min()) + 10))
    for x, y in verts:
        subdiv.insert((float(x), float(y)))
    triangles = []
    for t in subdiv.getTriangleList():
        tri = []
        for j in range(3):
            d = np.hypot(verts[:, 0] - t[2 * j], verts[:, 1] - t[2 * j + 1])
            tri.append(int(d.argmin()))
        if len(set(tri)) == 3:
            triangles.append(tri)
    return verts3, np.array(triangles), np.array([cx, cy, -radius * 0.9])


def render_head(texture, verts3, triangles, pivot, yaw, pitch, background, focal=1400.0):
    """The head turned by yaw (towards the image's right when positive) and pitch (up when
    positive), in perspective, painted back to front over the background."""
    ry, rp = np.radians([yaw, -pitch])
    Ry = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(rp), -np.sin(rp)], [0, np.sin(rp), np.cos(rp)]])
    # Image y points down; work with y up for the rotation.
    p = verts3 - pivot
    p[:, 1] *= -1
    q = p @ (Rx @ Ry).T
    q[:, 1] *= -1
    depth = focal - q[:, 2]
    xs = pivot[0] + focal * q[:, 0] / depth
    ys = pivot[1] + focal * q[:, 1] / depth
    projected = np.column_stack([xs, ys])
    frame = background.copy()
    order = np.argsort([q[t, 2].mean() for t in triangles])
    for t in triangles[order]:
        src = verts3[t, :2].astype(np.float32)
        dst = projected[t].astype(np.float32)
        # Back-facing triangles (turned away) are not drawn.
        area = (dst[1, 0] - dst[0, 0]) * (dst[2, 1] - dst[0, 1]) - (dst[2, 0] - dst[0, 0]) * (dst[1, 1] - dst[0, 1])
        src_area = (src[1, 0] - src[0, 0]) * (src[2, 1] - src[0, 1]) - (src[2, 0] - src[0, 0]) * (src[1, 1] - src[0, 1])
        if area * src_area <= 0:
            continue
        x, y, w, h = cv2.boundingRect(dst)
        if w <= 0 or h <= 0:
            continue
        M = cv2.getAffineTransform(src, (dst - [x, y]).astype(np.float32))
        patch = cv2.warpAffine(texture, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(dst - [x, y]).astype(np.int32), 255)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(frame.shape[1], x + w), min(frame.shape[0], y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = frame[y0:y1, x0:x1]
        m = mask[y0 - y:y1 - y, x0 - x:x1 - x] > 0
        sub[m] = patch[y0 - y:y1 - y, x0 - x:x1 - x][m]
    return frame


# The head movement each challenge asks for, as (yaw, pitch) at the turn's peak.
CHALLENGE_POSES = {"turnLeft": (32, 0), "turnRight": (-32, 0), "lookUp": (0, 24), "lookDown": (0, -24)}


def head_frames(still, points, challenge, count=10, seed=1):
    """A head that faces the camera, then turns as `challenge` asks and comes part way back."""
    verts3, triangles, pivot = head_mesh(points)
    background = room(seed)
    peak_yaw, peak_pitch = CHALLENGE_POSES[challenge]
    frames = []
    for i in range(count):
        t = i / max(1, count - 1)
        amount = np.sin(np.pi / 2 * min(1.0, t / 0.6)) if t <= 0.6 else 1 - 0.5 * (t - 0.6) / 0.4
        frames.append(render_head(still, verts3, triangles, pivot, peak_yaw * amount, peak_pitch * amount, background))
    return frames


def jpeg(frame, quality=88):
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def write_y4m(frames, path, fps=10, repeat=1):
    """A raw 4:2:0 video for Chromium's fake camera (`--use-file-for-fake-video-capture`)."""
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(repeat):
            for frame in frames:
                yuv = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
                out.write(b"FRAME\n")
                out.write(yuv.tobytes())
