"""The colour pass's targets of the OpenGL backend (:mod:`.gl_backend`), and reading
them back in one go on a GPU.

The colour pass draws into three textures: colour (RGBA8), segmentation ids (R32I)
and depth. Reading each back is a synchronous ``glReadPixels``; on a GPU shared by
many processes each such wait costs a turn of the GPU between contexts: three per
frame held 16 processes on one NVIDIA H200 to 1,715 env steps/s, against 4,318 with
one (``docs/bench_h200.txt``). With ``pack``, :class:`FrameTargets` copies the three
into one RGBA32UI target with a full-screen pass (``texelFetch``: no filtering) and
reads that once: per pixel the colour's four bytes, the id, and the depth's float bits.
With it 16 processes summed 4,052 env steps/s there (bit-identical frames: the same
``bench.frames_agree`` hash). Colour and ids are always bit-identical to reading each
target; on llvmpipe the stored depth differs by at most a step of the 24-bit buffer
(the texture fetch and ``glReadPixels`` round its conversion to float differently), i.e.
within two steps in metres (tested; 7.9 µm at most in the frames of
``bench.frames_agree``, a step being ~5 µm at 2 m and ~120 µm at 10 m). On a
CPU rasteriser (llvmpipe) a read-back is a copy and the extra pass only costs (5-15 %
fewer env steps/s), so there the three targets are read one by one; so are frames of one kind only.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from proassist.sim.render.scene import MODES

__all__ = ["PACK_FRAGMENT", "PACK_VERTEX", "PACK_VAR", "SOFTWARE", "FrameTargets", "packs"]

#: Environment variable that forces the one read-back on (``1``) or off (``0``).
PACK_VAR = "PROASSIST_GL_PACK"

#: Words in the ``GL_RENDERER`` string of CPU rasterisers (Mesa's llvmpipe, softpipe and
#: classic "Software Rasterizer", zink over llvmpipe, SwiftShader, WSL's "Microsoft Basic
#: Render Driver"): there the targets are read back one by one.
SOFTWARE: tuple[str, ...] = ("llvmpipe", "softpipe", "software", "swiftshader", "basic render")

#: One triangle that covers the viewport (no vertex buffer: from ``gl_VertexID``).
PACK_VERTEX = """
#version 330
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""

#: Each pixel's colour bytes, id and depth bits, fetched without filtering.
PACK_FRAGMENT = """
#version 330
uniform sampler2D colour;
uniform isampler2D ids;
uniform sampler2D depth;
out uvec4 frame;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    uvec4 c = uvec4(round(clamp(texelFetch(colour, p, 0), 0.0, 1.0) * 255.0));
    frame = uvec4(
        c.r | (c.g << 8u) | (c.b << 16u) | (c.a << 24u),
        uint(texelFetch(ids, min(p, textureSize(ids, 0) - 1), 0).r),
        floatBitsToUint(texelFetch(depth, p, 0).r),
        0u);
}
"""


def packs(pack: bool | None, renderer: str, modes: tuple[str, ...] = MODES) -> bool:
    """Whether to read back in one go: ``pack`` if given, else :data:`PACK_VAR` if set,
    else when at least two frame kinds are asked and the renderer is not a CPU
    rasteriser (:data:`SOFTWARE`; one kind is one read-back anyway).

    Raises:
        ValueError: :data:`PACK_VAR` is set to something other than 0 or 1.
    """
    if pack is not None:
        return bool(pack)
    told = os.environ.get(PACK_VAR, "").strip()
    if told not in ("", "0", "1"):
        raise ValueError(
            f"{PACK_VAR}={told!r}: expected 1 (one read-back) or 0 (one per frame kind)"
        )
    if told:
        return told == "1"
    name = renderer.lower()
    return len(set(modes) & set(MODES)) > 1 and not any(w in name for w in SOFTWARE)


class FrameTargets:
    """The colour pass's targets and their read-back (module docstring).

    Args:
        ctx: The moderngl context.
        size: ``(width, height)`` in pixels.
        ids: Whether to keep an id target (segmentation requested).
        pack: Read the three targets back in one go (a GPU), else one by one.

    Attributes:
        fbo: The colour pass's framebuffer (colour, then ids if kept; depth).
        ids_fbo: The id target alone (None without ids): cleared on its own, since a
            clear of ``fbo`` writes the float background's bits into the integer ids.
    """

    def __init__(self, ctx: Any, size: tuple[int, int], ids: bool, pack: bool) -> None:
        import moderngl

        self.ctx, self.size, self.pack = ctx, (int(size[0]), int(size[1])), bool(pack)
        w, h = self.size
        nearest = (moderngl.NEAREST, moderngl.NEAREST)
        self.colour = ctx.texture(self.size, 4)
        # without ids a 1x1 stand-in is bound; what the pass reads from it is not used
        self.ids = ctx.texture(self.size if ids else (1, 1), 1, dtype="i4")
        self.depth = ctx.depth_texture(self.size)
        self.depth.compare_func = ""  # read the stored depth, not a comparison
        for tex in (self.colour, self.ids, self.depth):
            tex.filter = nearest
        self.ids_fbo = ctx.framebuffer([self.ids]) if ids else None
        colour = [self.colour, self.ids] if ids else [self.colour]
        self.fbo = ctx.framebuffer(colour, self.depth)
        self._off, self._triangles = moderngl.DEPTH_TEST | moderngl.CULL_FACE, moderngl.TRIANGLES
        if self.pack:
            self.out = ctx.renderbuffer(self.size, 4, dtype="u4")
            self.out_fbo = ctx.framebuffer([self.out])
            self.program = ctx.program(vertex_shader=PACK_VERTEX, fragment_shader=PACK_FRAGMENT)
            for unit, name in enumerate(("colour", "ids", "depth")):
                self.program[name].value = 10 + unit
            self.vao = ctx.vertex_array(self.program, [])
        self._bufs = [bytearray(w * h * 16)] if self.pack else [bytearray(w * h * 4) for _ in "rid"]

    def read(self, modes: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The last colour pass's ``rgba`` (uint8, h x w x 4), ``ids`` (int32) and ``z``
        (the depth buffer as float32): views of buffers the next call reuses. Read one
        by one, only those the ``modes`` ask (rgb, segmentation, depth); packed, all
        three. Uses texture units 10-12 (the colour pass samples units 0-3)."""
        w, h = self.size
        if self.pack:
            self.ctx.disable(self._off)
            for unit, tex in enumerate((self.colour, self.ids, self.depth)):
                tex.use(location=10 + unit)
            self.out_fbo.use()
            self.vao.render(self._triangles, vertices=3)
            self.ctx.enable(self._off)  # as the colour pass left them
            self.out_fbo.read_into(self._bufs[0], components=4, dtype="u4", alignment=1)
            px = np.frombuffer(self._bufs[0], dtype=np.uint32).reshape(h, w, 4)
            rgba = px.view(np.uint8).reshape(h, w, 16)[:, :, :4]
            return {
                "rgba": rgba,
                "ids": px[:, :, 1].view(np.int32),
                "z": px[:, :, 2].view(np.float32),
            }
        out = {}
        for (key, mode, attachment, dtype, n), buf in zip(_TARGETS, self._bufs, strict=True):
            if mode in modes:
                self.fbo.read_into(
                    buf, components=n, attachment=attachment, dtype=dtype, alignment=1
                )
                shape = (h, w, n) if n > 1 else (h, w)
                out[key] = np.frombuffer(buf, dtype=_NUMPY[dtype]).reshape(shape)
        return out

    def release(self) -> None:
        """Release every GL object (idempotent)."""
        for name in (
            "vao",
            "program",
            "out_fbo",
            "out",
            "fbo",
            "ids_fbo",
            "colour",
            "ids",
            "depth",
        ):
            obj = self.__dict__.pop(name, None)
            if obj is not None:
                obj.release()


#: The targets read one by one: key, mode, attachment (-1: depth), dtype, components.
_TARGETS: tuple[tuple[str, str, int, str, int], ...] = (
    ("rgba", "rgb", 0, "f1", 4),
    ("ids", "segmentation", 1, "i4", 1),
    ("z", "depth", -1, "f4", 1),
)
#: numpy types of moderngl's read-back dtypes.
_NUMPY: dict[str, type] = {"f1": np.uint8, "i4": np.int32, "f4": np.float32}
