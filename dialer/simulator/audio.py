"""Synthetic call audio for stored recordings: 8 kHz mono 16-bit PCM WAV, like Asterisk's `wav` format.

Pure functions, standard library only (the simulator imports nothing of the product).
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave

SAMPLE_RATE = 8000


def call_wav(duration_s: float, *, seed: str = "") -> bytes:
    """A WAV of `duration_s` seconds: two alternating "voices" (tones with syllable-like bursts) over line noise.

    One 4 s cycle (each party talks 2 s) is synthesised and repeated, so long calls stay cheap to render.
    """
    frames = max(0, round(duration_s * SAMPLE_RATE))
    rng = random.Random(seed)
    pitch_a = 180 + rng.random() * 60
    pitch_b = 110 + rng.random() * 40
    cycle = bytearray()
    pack = struct.Struct("<h").pack
    for n in range(min(frames, 4 * SAMPLE_RATE)):
        t = n / SAMPLE_RATE
        pitch = pitch_a if t < 2.0 else pitch_b
        envelope = max(0.0, math.sin(2 * math.pi * 4 * t)) ** 2  # ~4 syllables a second
        voice = 0.6 * math.sin(2 * math.pi * pitch * t) + 0.25 * math.sin(2 * math.pi * 2 * pitch * t)
        noise = rng.uniform(-0.03, 0.03)
        value = int(9000 * (voice * envelope) + 32767 * noise)
        cycle += pack(max(-32768, min(32767, value)))
    pcm = bytes(cycle)
    if cycle:
        repeats, rest = divmod(frames * 2, len(cycle))
        pcm = bytes(cycle) * repeats + bytes(cycle[:rest])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)
    return buffer.getvalue()
