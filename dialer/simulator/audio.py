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
    """A WAV of `duration_s` seconds: two alternating "voices" (tones with syllable-like bursts) over line noise."""
    frames = max(0, round(duration_s * SAMPLE_RATE))
    rng = random.Random(seed)
    pitch_a = 180 + rng.random() * 60
    pitch_b = 110 + rng.random() * 40
    samples = bytearray()
    pack = struct.Struct("<h").pack
    for n in range(frames):
        t = n / SAMPLE_RATE
        # Each party talks for ~2 s turns; within a turn, 4 Hz syllable envelope.
        turn = int(t / 2.0) % 2
        pitch = pitch_a if turn == 0 else pitch_b
        envelope = max(0.0, math.sin(2 * math.pi * 4 * t)) ** 2
        voice = 0.6 * math.sin(2 * math.pi * pitch * t) + 0.25 * math.sin(2 * math.pi * 2 * pitch * t)
        noise = rng.uniform(-0.03, 0.03)
        value = int(9000 * (voice * envelope) + 32767 * noise)
        samples += pack(max(-32768, min(32767, value)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(samples))
    return buffer.getvalue()
