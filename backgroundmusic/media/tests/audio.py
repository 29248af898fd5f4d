"""Small audio fixtures made in the tests: sines, clicks and silence written with the stdlib
wave module or PyAV's encoders."""

import wave
from pathlib import Path

import av
import numpy as np

RATE = 48_000


def sine(
    seconds: float,
    *,
    dbfs: float = -20.0,
    freq: float = 1000.0,
    rate: int = RATE,
    channels: int = 2,
    lead: float = 0.0,
    tail: float = 0.0,
) -> np.ndarray:
    """A sine of peak `dbfs` with `lead` and `tail` seconds of digital silence around it."""
    t = np.arange(int(seconds * rate)) / rate
    tone = (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    tone = np.concatenate(
        [np.zeros(int(lead * rate), np.float32), tone, np.zeros(int(tail * rate), np.float32)]
    )
    return np.repeat(tone[:, None], channels, axis=1)


def clicks(seconds: float, *, bpm: float, rate: int = RATE) -> np.ndarray:
    """A click (5 ms Hann burst of noise) on every beat, stereo."""
    track = np.zeros(int(seconds * rate), np.float32)
    burst = (np.hanning(240) * np.random.default_rng(1).standard_normal(240) * 0.5).astype(
        np.float32
    )
    for start in np.arange(0, track.size - burst.size, rate * 60 / bpm).astype(int):
        track[start : start + burst.size] += burst
    return np.repeat(track[:, None], 2, axis=1)


def write_wav(path: Path, audio: np.ndarray, *, rate: int = RATE, bits: int = 16) -> Path:
    """PCM WAV of 16 or 24 bits."""
    full = 2 ** (bits - 1) - 1
    ints = np.clip(np.round(audio * full), -full - 1, full).astype("<i4")
    if bits == 16:
        data = ints.astype("<i2").tobytes()
    else:
        data = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(audio.shape[1])
        out.setsampwidth(bits // 8)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def write_encoded(
    path: Path,
    audio: np.ndarray,
    *,
    container: str,
    codec: str,
    rate: int = RATE,
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Audio encoded with PyAV (e.g. VBR MP3: codec libmp3lame, options {"q": "4"})."""
    with av.open(str(path), mode="w", format=container) as out:
        if metadata:
            out.metadata.update(metadata)
        layout = "mono" if audio.shape[1] == 1 else "stereo"
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.audio.stream.AudioStream)
        if bit_rate:
            stream.bit_rate = bit_rate
        if options:
            stream.codec_context.options = options
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1),
            format="flt",
            layout=layout,
        )
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
