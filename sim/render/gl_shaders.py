"""GLSL 3.30 shaders of the OpenGL backend (:mod:`.gl_backend`).

The vertex shader poses every vertex with its body's row of the pose texture
(``poses``: per body, three texels holding the rows of ``[R | t]`` and one holding
``(visible, lit, 0, 0)``); a hidden body collapses outside the clip volume. It also
projects the vertex into the sun's (orthographic, so affine: exact when interpolated)
shadow-map space. The colour pass lights each pixel (hemisphere ambient + Lambert
diffuse of one directional light, shadowed by the nearer of two shadow maps, the
fixtures' drawn once per scene and the moving bodies', the latter read only inside the
box they cover (``moving_box``); four bilinear percentage-closer taps each, one unfiltered
tap in small frames: :func:`fragment_shader`; + a little Blinn specular, by squaring),
modulates the albedo with a procedural texture chosen by the vertex's material (value
noise from a sheared slice of a small tiling 2-D texture of fixed random values,
:func:`noise_plane`), and
writes the segmentation id + 1 to a second, integer attachment. The shadow pass only
writes depth.
"""

from __future__ import annotations

import numpy as np

#: Side of the tiling noise plane, in texels.
NOISE_SIZE = 64


def noise_plane(size: int = NOISE_SIZE, seed: int = 20240613) -> bytes:
    """``size ** 2`` bytes of fixed pseudo-random values (its own generator, never the sim's)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(size, size), dtype=np.uint8).tobytes()


VERTEX = """
#version 330
uniform mat4 view_proj;
uniform mat4 light_vp;
uniform sampler2D poses;
uniform vec3 glow_color;
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
in vec4 in_info;
out vec3 v_world;
out vec3 v_normal;
out vec3 v_color;
out vec3 v_local;
out vec3 v_light;
flat out int v_seg;
flat out float v_emit;
flat out float v_mat;

void main() {
    int b = int(in_info.x + 0.5);
    vec4 r0 = texelFetch(poses, ivec2(0, b), 0);
    vec4 r1 = texelFetch(poses, ivec2(1, b), 0);
    vec4 r2 = texelFetch(poses, ivec2(2, b), 0);
    vec4 st = texelFetch(poses, ivec2(3, b), 0);
    vec4 p = vec4(in_pos, 1.0);
    v_world = vec3(dot(r0, p), dot(r1, p), dot(r2, p));
    v_normal = vec3(dot(r0.xyz, in_normal), dot(r1.xyz, in_normal), dot(r2.xyz, in_normal));
    bool lit = in_info.z > 0.5 && in_info.z < 1.5 && st.y > 0.5;
    v_emit = (in_info.z > 1.5 || lit) ? 1.0 : 0.0;
    v_color = lit ? glow_color : in_color;
    v_local = in_pos;
    vec4 lc = light_vp * vec4(v_world + normalize(v_normal) * 0.01, 1.0);
    v_light = lc.xyz / lc.w;  // the sun's projection is affine: exact when interpolated
    v_seg = int(in_info.y + 0.5);
    v_mat = in_info.w;
    gl_Position = st.x > 0.5 ? view_proj * vec4(v_world, 1.0) : vec4(2.0, 2.0, 2.0, 1.0);
}
"""

FRAGMENT = """
#version 330
#define SOFT_SHADOW 1
uniform vec3 light_dir;
uniform vec3 eye;
uniform sampler2DShadow shadow_map;
uniform sampler2DShadow static_shadow_map;
uniform float shadow_texel;
uniform vec4 moving_box;  // light-space (u0, v0, u1, v1) the moving casters cover
uniform int use_shadow;
uniform sampler2D noise_tex;
in vec3 v_world;
in vec3 v_normal;
in vec3 v_color;
in vec3 v_local;
in vec3 v_light;
flat in int v_seg;
flat in float v_emit;
flat in float v_mat;
layout(location = 0) out vec4 f_color;
layout(location = 1) out int f_seg;

float noise(vec3 q) {  // a sheared 2-D slice: a quarter of a 3-D texture's reads
    return texture(noise_tex, (q.xy + q.z * vec2(0.61, 0.37)) * (1.0 / 64.0)).r;
}

float texture_of(int m, vec3 w, vec3 l) {
    if (m == 5) return 0.9 + 0.12 * abs(sin(l.x * 700.0)) * abs(sin((l.y + l.z) * 700.0));
    if (m == 6) return 1.0;
    vec3 q = l * 35.0;
    float amp = 0.07;
    if (m == 1) { q = w * 40.0; amp = 0.14; }
    else if (m == 2) { q = w * 60.0; amp = 0.07; }
    else if (m == 3) { q = vec3(w.x * 3.0, w.y * 40.0, w.z * 40.0); amp = 0.16; }
    else if (m == 4) { q = vec3(l.x * 400.0, l.y * 6.0, l.z * 6.0); amp = 0.1; }
    return 1.0 - 0.5 * amp + amp * noise(q);
}

float taps(sampler2DShadow map, vec3 uv) {
#if SOFT_SHADOW
    float d = shadow_texel * 0.9;
    return 0.25 * (texture(map, vec3(uv.x - d, uv.y - d, uv.z))
                   + texture(map, vec3(uv.x + d, uv.y - d, uv.z))
                   + texture(map, vec3(uv.x - d, uv.y + d, uv.z))
                   + texture(map, vec3(uv.x + d, uv.y + d, uv.z)));
#else
    return texture(map, uv);
#endif
}

float shadow_at() {
    if (use_shadow == 0) return 1.0;
    vec3 uv = v_light * 0.5 + 0.5;
    if (uv.x <= 0.0 || uv.x >= 1.0 || uv.y <= 0.0 || uv.y >= 1.0) return 1.0;
    uv.z -= 0.002;
    float lit = taps(static_shadow_map, uv);
    bvec4 near_mover = bvec4(greaterThan(uv.xy, moving_box.xy), lessThan(uv.xy, moving_box.zw));
    return all(near_mover) ? min(lit, taps(shadow_map, uv)) : lit;
}

void main() {
    f_seg = v_seg;
    if (v_emit > 0.5) {
        f_color = vec4(v_color, 1.0);
        return;
    }
    vec3 n = normalize(v_normal);
    vec3 v = normalize(eye - v_world);
    if (dot(n, v) < 0.0) n = -n;
    int m = int(v_mat + 0.5);
    vec3 albedo = v_color * texture_of(m, v_world, v_local);
    float hemi = 0.5 + 0.5 * n.z;
    vec3 ambient = albedo * mix(0.5, 0.68, hemi);
    float ndl = max(dot(n, light_dir), 0.0);
    float sh = ndl > 0.0 ? shadow_at() : 1.0;
    vec3 h = normalize(light_dir + v);
    float gloss = m == 4 ? 0.35 : (m == 6 ? 0.08 : 0.05);
    float s2 = max(dot(n, h), 0.0);  // Blinn lobe: s^16, or s^40 on metal, by squaring
    s2 *= s2;
    float s8 = s2 * s2;
    s8 *= s8;
    float s16 = s8 * s8;
    float spec = gloss * (m == 4 ? s16 * s16 * s8 : s16);
    vec3 c = ambient + sh * (albedo * 0.5 * ndl + vec3(spec));
    f_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
"""

#: Fragment shader of frames without ``rgb`` (segmentation and/or depth only): no
#: lighting, no texture, so its samplers cannot be left unbound (an unbound 3-D sampler
#: made every draw of such a frame fail silently: empty segmentation, depth at far).
FLAT_FRAGMENT = """
#version 330
in vec3 v_color;
flat in int v_seg;
layout(location = 0) out vec4 f_color;
layout(location = 1) out int f_seg;

void main() {
    f_seg = v_seg;
    f_color = vec4(v_color, 1.0);
}
"""


def fragment_shader(soft_shadow: bool = True) -> str:
    """The colour pass's fragment shader: four shadow-map taps, or one (``soft_shadow``).

    One tap (the hardware's bilinear 2x2 percentage-closer filter) costs a quarter of the
    texture reads; its penumbra is one shadow-map texel instead of about two, which is
    not visible in small frames.
    """
    return FRAGMENT.replace("#define SOFT_SHADOW 1", f"#define SOFT_SHADOW {int(soft_shadow)}")


SHADOW_FRAGMENT = """
#version 330
void main() {
}
"""
