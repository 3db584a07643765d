#!/usr/bin/env python3
"""Draw the prov-kernel logo as logo-32x32.png, logo-64x64.png and logo-svg.svg.

The logo is a white lower-case "p" on a navy rounded square, with an orange
provenance edge: a node inside the bowl of the "p" joined by a line to a node
it was derived into (up and to the right). Only the standard library is used
(zlib + struct), so the PNGs can be regenerated anywhere with
`python3 make_logos.py` in this folder.
The shapes are described once, in a 64-unit square, and drawn both as SVG and
as anti-aliased PNGs (4x4 supersampling).
"""

import math
import os
import struct
import zlib

NAVY = (0x1F, 0x3A, 0x5F)
WHITE = (0xFF, 0xFF, 0xFF)
ORANGE = (0xF5, 0xA6, 0x23)

# Shapes, painted in order; units are a 64x64 square.
BACKGROUND = dict(x=2, y=2, w=60, h=60, r=12)
STEM = dict(x=16, y=14, w=8, h=40, r=2)
BOWL = dict(cx=33, cy=27, outer=13, inner=6.5)
EDGE = dict(x1=36, y1=23, x2=48, y2=12, width=3)
NODES = [dict(cx=33, cy=27, r=3.5), dict(cx=49.5, cy=11.5, r=5)]


def in_rounded_rect(px, py, s):
    # Distance from the point to the rectangle shrunk by the corner radius.
    dx = max(s["x"] + s["r"] - px, 0, px - (s["x"] + s["w"] - s["r"]))
    dy = max(s["y"] + s["r"] - py, 0, py - (s["y"] + s["h"] - s["r"]))
    return dx * dx + dy * dy <= s["r"] * s["r"]


def in_segment(px, py, s):
    ax, ay, bx, by = s["x1"], s["y1"], s["x2"], s["y2"]
    vx, vy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)))
    return math.hypot(px - ax - t * vx, py - ay - t * vy) <= s["width"] / 2


def colour_at(px, py):
    """The colour (RGBA) of the point (px, py) in 64-unit coordinates."""
    colour = None
    if in_rounded_rect(px, py, BACKGROUND):
        colour = NAVY
    if in_rounded_rect(px, py, STEM):
        colour = WHITE
    d = math.hypot(px - BOWL["cx"], py - BOWL["cy"])
    if BOWL["inner"] <= d <= BOWL["outer"]:
        colour = WHITE
    if in_segment(px, py, EDGE):
        colour = ORANGE
    for n in NODES:
        if math.hypot(px - n["cx"], py - n["cy"]) <= n["r"]:
            colour = ORANGE
    return (0, 0, 0, 0) if colour is None else colour + (255,)


def render(size, samples=4):
    scale = 64 / size
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour_at(
                        (x + (sx + 0.5) / samples) * scale,
                        (y + (sy + 0.5) / samples) * scale,
                    )
                    # Premultiply so transparent samples do not darken edges.
                    for i in range(3):
                        acc[i] += c[i] * c[3]
                    acc[3] += c[3]
            alpha = acc[3] / (samples * samples)
            if acc[3]:
                row += bytes(round(acc[i] / acc[3]) for i in range(3))
            else:
                row += b"\0\0\0"
            row.append(round(alpha))
        rows.append(bytes(row))
    return rows


def png(rows):
    size = len(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + r for r in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def svg():
    hexc = lambda c: "#%02x%02x%02x" % c  # noqa: E731
    b, s, o, e = BACKGROUND, STEM, BOWL, EDGE
    ring_r = (o["outer"] + o["inner"]) / 2
    ring_w = o["outer"] - o["inner"]
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">',
        f'<rect x="{b["x"]}" y="{b["y"]}" width="{b["w"]}" height="{b["h"]}" rx="{b["r"]}" fill="{hexc(NAVY)}"/>',
        f'<rect x="{s["x"]}" y="{s["y"]}" width="{s["w"]}" height="{s["h"]}" rx="{s["r"]}" fill="{hexc(WHITE)}"/>',
        f'<circle cx="{o["cx"]}" cy="{o["cy"]}" r="{ring_r}" fill="none" stroke="{hexc(WHITE)}" stroke-width="{ring_w}"/>',
        f'<line x1="{e["x1"]}" y1="{e["y1"]}" x2="{e["x2"]}" y2="{e["y2"]}" stroke="{hexc(ORANGE)}" stroke-width="{e["width"]}" stroke-linecap="round"/>',
    ]
    parts += [
        f'<circle cx="{n["cx"]}" cy="{n["cy"]}" r="{n["r"]}" fill="{hexc(ORANGE)}"/>'
        for n in NODES
    ]
    return "\n".join(parts + ["</svg>", ""])


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for size in (32, 64):
        with open(os.path.join(here, f"logo-{size}x{size}.png"), "wb") as f:
            f.write(png(render(size)))
    with open(os.path.join(here, "logo-svg.svg"), "w") as f:
        f.write(svg())
