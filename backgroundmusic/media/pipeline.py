"""The ingest pipeline's steps (DESIGN.md §5), each a plain function testable alone.

probe → checksum → decode → completeness → loudness → cue points → waveform peaks → BPM →
renditions → the lossless rendition. Nothing here touches the database or the storage:
services.master_ingest runs the steps, records progress and stores the files.

Audio travels between steps as float32 stereo at 48 kHz, shape (samples, 2). The one loudness
target of every lossy rendition (docs/decisions/0007-loudness-target.md) is TARGET_LUFS with a
true-peak ceiling of CEILING_DBTP. The lossless rendition is the exception: it is the master's
own samples, read from the master file rather than from that buffer (`encode_lossless`).
"""

import hashlib
import math
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import lameenc
import numpy as np
from django.utils.translation import gettext as _

from backgroundmusic.core.errors import DomainError

RATE = 48_000
TARGET_LUFS = -16.0
CEILING_DBTP = -1.0
SILENCE_DBFS = -60.0
WAVEFORM_BUCKETS = 800
PREVIEW_SECONDS = 30.0
PREVIEW_FADE_IN = 1.0
PREVIEW_FADE_OUT = 2.0
CHUNK = 1 << 16

# Container (as FFmpeg's demuxer names it) → codecs accepted in it.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "wav": ("pcm_",),
    "w64": ("pcm_",),
    "aiff": ("pcm_",),
    "flac": ("flac",),
    "mp3": ("mp3",),
    "ogg": ("opus", "vorbis", "flac"),
}
ACCEPTED_EXTENSIONS = (".wav", ".wave", ".w64", ".flac", ".aif", ".aiff", ".mp3", ".ogg", ".opus")
# Containers whose header states the exact length, so a shorter file is a truncated one.
EXACT_LENGTH = ("wav", "w64", "aiff", "flac")
# A decoded length shorter than the stated one by more than this is a truncated file.
TRUNCATION_TOLERANCE_SECONDS = 0.05


class MasterRejected(DomainError):
    """The file cannot become a master; the message says why and is shown to staff."""

    code = "master_rejected"


@dataclass(frozen=True)
class Probe:
    container: str
    codec: str
    sample_rate: int
    channels: int
    bit_depth: int | None
    duration_seconds: float
    exact_length: bool


def _bit_depth(codec: str, stream: Any) -> int | None:
    if codec.startswith("pcm_"):
        digits = "".join(ch for ch in codec.split("_")[1] if ch.isdigit())
        return int(digits) if digits else None
    if codec == "flac":
        # STREAMINFO (34 bytes, in the extradata): 5 bits of (bits per sample - 1) at bit 103.
        info = bytes(stream.codec_context.extradata or b"")
        if len(info) >= 34:
            return (((info[12] & 0x01) << 4) | (info[13] >> 4)) + 1
    return None


def _damaged(error: Exception) -> MasterRejected:
    return MasterRejected(
        _("The file is damaged or is not an audio file (%(detail)s).")
        % {"detail": str(getattr(error, "strerror", None) or error).strip()[:120]}
    )


def _clock(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _truncated(promised: float, held: float) -> MasterRejected:
    return MasterRejected(
        _("The file is truncated: it ends after %(held).2f s of the %(promised).2f s promised.")
        % {"promised": promised, "held": held}
    )


def _check_declared_size(path: str | Path, container: str, duration: float) -> None:
    """WAV and AIFF state their size in the first chunk; FFmpeg quietly plays what is there, so
    a file cut short is caught here."""
    if container not in ("wav", "aiff"):
        return
    with open(path, "rb") as handle:
        head = handle.read(8)
        size = handle.seek(0, 2)
    if len(head) < 8 or head[:4] not in (b"RIFF", b"FORM"):
        return
    declared = int.from_bytes(head[4:8], "little" if head[:4] == b"RIFF" else "big") + 8
    if 8 < declared < 0xFFFFFFFF and declared > size:
        raise _truncated(duration * declared / size, duration)


def probe(path: str | Path, *, max_seconds: float) -> Probe:
    """What the file is, from its header; refuses what we do not take."""
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise _damaged(error) from error
    with container:
        names = container.format.name.split(",")
        name = next((n for n in names if n in ACCEPTED), names[0])
        if not container.streams.audio:
            raise MasterRejected(_("The file holds no audio."))
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        if name not in ACCEPTED or not codec.startswith(ACCEPTED[name]):
            raise MasterRejected(
                _(
                    "Unsupported format (%(container)s, %(codec)s). "
                    "Upload WAV, FLAC, AIFF, MP3 or Ogg (Opus or Vorbis)."
                )
                % {"container": name, "codec": codec}
            )
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        if not stream.sample_rate or not stream.channels:
            raise MasterRejected(_("The file's audio has no sample rate or channels."))
        _check_declared_size(path, name, duration)
        if duration > max_seconds:
            raise MasterRejected(
                _("The recording lasts %(length)s; the limit is %(limit)s.")
                % {"length": _clock(duration), "limit": _clock(max_seconds)}
            )
        return Probe(
            container=name,
            codec=codec,
            sample_rate=int(stream.sample_rate),
            channels=int(stream.channels),
            bit_depth=_bit_depth(codec, stream),
            duration_seconds=duration,
            exact_length=name in EXACT_LENGTH,
        )


def tags(path: str | Path) -> dict[str, str]:
    """The file's tags (container and first audio stream), keys lower-cased."""
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise _damaged(error) from error
    with container:
        found: dict[str, str] = {}
        sources: list[dict[str, str]] = [dict(container.metadata)]
        if container.streams.audio:
            sources.append(dict(container.streams.audio[0].metadata))
        for source in sources:
            for key, value in source.items():
                if str(value).strip():
                    found.setdefault(key.lower(), str(value).strip())
        return found


def sha256_copy(source: Iterable[bytes], sink: IO[bytes], *, max_bytes: int) -> tuple[str, int]:
    """Copies chunks to `sink` while hashing; refuses more than `max_bytes`."""
    digest = hashlib.sha256()
    size = 0
    for chunk in source:
        size += len(chunk)
        if size > max_bytes:
            raise MasterRejected(
                _("The file is larger than the limit of %(limit)s MB.")
                % {"limit": f"{max_bytes / 1_000_000:g}"}
            )
        digest.update(chunk)
        sink.write(chunk)
    if size == 0:
        raise MasterRejected(_("The file is empty."))
    return digest.hexdigest(), size


def file_chunks(path: str | Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK * 16):
            yield chunk


def decode(path: str | Path, *, probed: Probe | None = None) -> np.ndarray:
    """The whole file as float32 stereo at 48 kHz, shape (samples, 2).

    Mono is copied to both channels at unity gain (FFmpeg's upmix would lower it by 3 dB);
    more than two channels are downmixed by FFmpeg's resampler.
    """
    parts: list[np.ndarray] = []
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            mono = stream.channels == 1
            resampler = av.AudioResampler(
                format="flt", layout="mono" if mono else "stereo", rate=RATE
            )
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray())
            for out in resampler.resample(None):
                parts.append(out.to_ndarray())
    except (av.FFmpegError, UnicodeDecodeError) as error:
        held = sum(part.shape[1] for part in parts) / (1 if mono else 2) / RATE
        if probed is not None and probed.exact_length and 0 < held < probed.duration_seconds:
            raise _truncated(probed.duration_seconds, held) from error
        raise _damaged(error) from error
    if not parts:
        raise MasterRejected(_("No audio could be decoded from the file."))
    flat = np.concatenate(parts, axis=1)[0]
    if mono:
        return np.repeat(flat[:, None], 2, axis=1)
    return flat.reshape(-1, 2)


def check_complete(probed: Probe, audio: np.ndarray) -> float:
    """The decoded duration; refuses a file shorter than its header says (truncated)."""
    decoded = audio.shape[0] / RATE
    if probed.exact_length and decoded < probed.duration_seconds - TRUNCATION_TOLERANCE_SECONDS:
        raise _truncated(probed.duration_seconds, decoded)
    if decoded < 1.0:
        raise MasterRejected(_("The recording is shorter than one second."))
    return decoded


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float


def true_peak_dbtp(audio: np.ndarray) -> float:
    """Peak of the 4× oversampled signal (BS.1770 annex 2), in chunks with overlap."""
    from scipy.signal import resample_poly  # see loudness

    pad = 64
    peak = 0.0
    total = audio.shape[0]
    step = RATE * 10
    for start in range(0, total, step):
        lo, hi = max(0, start - pad), min(total, start + step + pad)
        up = resample_poly(audio[lo:hi], 4, 1, axis=0)
        keep = up[(start - lo) * 4 : (min(total, start + step) - lo) * 4]
        if keep.size:
            peak = max(peak, float(np.abs(keep).max()))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _block_loudness(
    power_cumsum: np.ndarray, samples: int, *, block: float, overlap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Loudness of each gating block and its per-channel mean squares, with the block bounds
    pyloudnorm uses, from running sums of the K-weighted power (one subtraction per block)."""
    step = 1.0 - overlap
    count = int(np.round((samples / RATE - block) / (block * step))) + 1
    index = np.arange(count, dtype=np.float64)
    lower = np.minimum((block * (index * step) * RATE).astype(np.int64), samples)
    upper = np.minimum((block * (index * step + 1) * RATE).astype(np.int64), samples)
    mean_squares = (power_cumsum[:, upper] - power_cumsum[:, lower]) / (block * RATE)
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(mean_squares.sum(axis=0)), mean_squares


def loudness(audio: np.ndarray) -> Loudness:
    """Integrated loudness (BS.1770-4) and loudness range (EBU Tech 3342) as pyloudnorm measures
    them, to within 1e-6 LU, but K-weighting the signal once for both and gating with running
    sums: pyloudnorm filters twice and sums every block in a Python loop (3.5x slower)."""
    # SciPy (which pyloudnorm imports) takes about a second to import: loaded by the ingest
    # that needs it, not by every process that imports the pipeline for its constants.
    import pyloudnorm

    meter = pyloudnorm.Meter(RATE)
    # Tech 3342 measures the signal followed by 1.5 s of silence; the filters are causal, so the
    # first audio.shape[0] samples of the padded signal are the unpadded one's.
    padded = np.concatenate([audio, np.zeros((int(1.5 * RATE), audio.shape[1]), audio.dtype)])
    power = np.zeros((audio.shape[1], padded.shape[0] + 1))
    for channel in range(audio.shape[1]):
        weighted = padded[:, channel]
        for stage in meter._filters.values():  # the K-weighting stages of the pinned version
            weighted = stage.apply_filter(weighted)
        np.cumsum(np.square(weighted, dtype=np.float64), out=power[channel, 1:])

    blocks, mean_squares = _block_loudness(power, audio.shape[0], block=0.4, overlap=0.75)
    absolute = blocks >= -70.0
    if not absolute.any():
        raise MasterRejected(_("The master is silent."))
    relative = -0.691 + 10 * np.log10(mean_squares[:, absolute].mean(axis=1).sum()) - 10.0
    gated = (blocks > relative) & (blocks > -70.0)
    integrated = -0.691 + 10 * np.log10(mean_squares[:, gated].mean(axis=1).sum())

    short_term, _squares = _block_loudness(power, padded.shape[0], block=3.0, overlap=0.97)
    short_term = short_term[short_term >= -70.0]
    lra = 0.0
    if short_term.size:
        mean_power = np.mean(np.power(10, short_term / 10))
        short_term = short_term[short_term >= 10 * np.log10(mean_power) - 20]
        if short_term.size:
            lra = float(np.percentile(short_term, 95) - np.percentile(short_term, 10))
    return Loudness(
        integrated_lufs=float(integrated),
        range_lu=lra,
        true_peak_dbtp=true_peak_dbtp(audio),
    )


def cue_points(audio: np.ndarray, *, threshold_dbfs: float = SILENCE_DBFS) -> tuple[float, float]:
    """Seconds of the first and just after the last sample above the threshold (any channel)."""
    level = 10 ** (threshold_dbfs / 20)
    # Channel by channel: a max over axis 1 of a (samples, 2) array is 25 times slower.
    loud = np.abs(audio[:, 0]) > level
    for channel in range(1, audio.shape[1]):
        loud |= np.abs(audio[:, channel]) > level
    if not loud.any():
        raise MasterRejected(_("The master is silent."))
    first = int(np.argmax(loud))
    after_last = loud.size - int(np.argmax(loud[::-1]))
    return first / RATE, after_last / RATE


def waveform_peaks(audio: np.ndarray, *, buckets: int = WAVEFORM_BUCKETS) -> list[list[float]]:
    """`buckets` [min, max] pairs of the channel mix, scaled so the loudest sample is ±1."""
    mix = audio.mean(axis=1)
    buckets = max(1, min(buckets, mix.size))
    edges = np.linspace(0, mix.size, buckets + 1).astype(np.int64)
    lows = np.minimum.reduceat(mix, edges[:-1])
    highs = np.maximum.reduceat(mix, edges[:-1])
    scale = float(max(np.abs(lows).max(), np.abs(highs).max())) or 1.0
    return [
        [round(float(lo) / scale, 4), round(float(hi) / scale, 4)]
        for lo, hi in zip(lows, highs, strict=True)
    ]


BPM_MIN, BPM_MAX = 50.0, 220.0
_ONSET_RATE = 12_000
_ONSET_FFT = 1024
_ONSET_HOP = 60  # 200 frames per second


def onset_strength(audio: np.ndarray) -> tuple[np.ndarray, float]:
    """Spectral flux of the mix at 12 kHz: one value per 5 ms frame, and the frame rate."""
    from scipy.signal import resample_poly  # see loudness

    mono = resample_poly(audio.mean(axis=1), 1, RATE // _ONSET_RATE).astype(np.float32)
    if mono.size < _ONSET_FFT * 2:
        return np.zeros(0, dtype=np.float32), _ONSET_RATE / _ONSET_HOP
    window = np.hanning(_ONSET_FFT).astype(np.float32)
    frames_total = 1 + (mono.size - _ONSET_FFT) // _ONSET_HOP
    flux = np.empty(frames_total, dtype=np.float32)
    previous: np.ndarray | None = None
    block = 4096
    view = np.lib.stride_tricks.sliding_window_view(mono, _ONSET_FFT)[::_ONSET_HOP]
    for start in range(0, frames_total, block):
        spectrum = np.log1p(100 * np.abs(np.fft.rfft(view[start : start + block] * window, axis=1)))
        joined = spectrum if previous is None else np.vstack([previous, spectrum])
        rise = np.maximum(np.diff(joined, axis=0), 0).sum(axis=1)
        if previous is None:
            rise = np.concatenate([[0.0], rise])
        flux[start : start + spectrum.shape[0]] = rise
        previous = spectrum[-1:]
    return flux, _ONSET_RATE / _ONSET_HOP


def estimate_bpm(audio: np.ndarray) -> float | None:
    """Tempo from the autocorrelation of the onset strength, weighted towards 120 BPM (one
    octave either side); None when nothing repeats clearly (e.g. a drone)."""
    flux, fps = onset_strength(audio)
    if flux.size < fps * 4:
        return None
    smooth = np.convolve(flux, np.ones(int(fps / 2)) / int(fps / 2), mode="same")
    envelope = np.maximum(flux - smooth, 0)
    envelope -= envelope.mean()
    if not np.any(envelope):
        return None
    n = envelope.size
    spectrum = np.fft.rfft(envelope, 2 * n)
    corr = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    if corr[0] <= 0:
        return None
    corr /= corr[0]
    lo, hi = int(fps * 60 / BPM_MAX), math.ceil(fps * 60 / BPM_MIN)
    hi = min(hi, n - 2)
    if hi <= lo + 2:
        return None
    lags = np.arange(lo, hi + 1)
    prior = np.exp(-0.5 * np.log2((fps * 60 / lags) / 120.0) ** 2)
    scores = corr[lo : hi + 1] * prior
    best = int(np.argmax(scores))
    if corr[lo + best] < 0.1:
        return None
    lag = float(lo + best)
    if 0 < best < len(scores) - 1:  # parabolic refinement on the raw autocorrelation
        a, b, c = corr[lo + best - 1], corr[lo + best], corr[lo + best + 1]
        denominator = a - 2 * b + c
        if denominator < 0:
            lag += 0.5 * (a - c) / denominator
    return round(fps * 60 / lag, 1)


@dataclass(frozen=True)
class RenditionSpec:
    kind: str
    container: str
    codec: str
    bitrate: int
    extension: str
    mime_type: str
    options: tuple[tuple[str, str], ...] = ()


# The lossy renditions, encoded from the normalised 48 kHz buffer.
RENDITIONS: tuple[RenditionSpec, ...] = (
    RenditionSpec("opus", "webm", "libopus", 128_000, "webm", "audio/webm; codecs=opus"),
    RenditionSpec("aac", "ipod", "aac", 192_000, "m4a", "audio/mp4", (("movflags", "+faststart"),)),
    RenditionSpec("mp3_320", "mp3", "libmp3lame", 320_000, "mp3", "audio/mpeg"),
    RenditionSpec("preview", "mp3", "libmp3lame", 128_000, "mp3", "audio/mpeg"),
)
# The lossless download, encoded from the master file itself; its bitrate is measured, not set.
LOSSLESS = RenditionSpec("flac", "flac", "flac", 0, "flac", "audio/flac")
SPECS = {spec.kind: spec for spec in (*RENDITIONS, LOSSLESS)}


def normalising_gain_db(measured: Loudness) -> float:
    """Gain to reach TARGET_LUFS, lowered when the true peak would pass CEILING_DBTP (we never
    limit or compress: the composer's dynamics stay; such a master plays a little quieter)."""
    return min(TARGET_LUFS - measured.integrated_lufs, CEILING_DBTP - measured.true_peak_dbtp)


def preview_window(
    audio: np.ndarray, *, cue_in: float, cue_out: float, seconds: float = PREVIEW_SECONDS
) -> tuple[int, int]:
    """Sample range of the preview: the loudest `seconds` (by mean energy, whole seconds)
    starting in the middle half of the sounding part, or all of it when shorter."""
    first, last = int(cue_in * RATE), int(cue_out * RATE)
    length = int(seconds * RATE)
    if last - first <= length:
        return first, last
    energy = np.square(audio[first:last].mean(axis=1), dtype=np.float64)
    per_second = np.add.reduceat(energy, np.arange(0, energy.size, RATE))
    cumulative = np.concatenate([[0.0], np.cumsum(per_second)])
    span = int(seconds)
    starts = np.arange(0, max(1, per_second.size - span + 1))
    slack = starts.size
    lo, hi = int(slack * 0.25), max(int(slack * 0.75), int(slack * 0.25) + 1)
    candidates = starts[lo:hi]
    sums = cumulative[candidates + span] - cumulative[candidates]
    start = first + int(candidates[int(np.argmax(sums))]) * RATE
    return start, min(start + length, last)


@dataclass(frozen=True)
class Encoded:
    duration_seconds: float
    size_bytes: int
    sha256: str
    bitrate: int  # bits per second: the spec's for the lossy codecs, the average for FLAC


def _processed_chunks(
    audio: np.ndarray,
    *,
    gain_db: float,
    start: int,
    end: int,
    fade_in: float,
    fade_out: float,
) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, float32 stereo chunk) of audio[start:end] with the gain and linear fades."""
    gain = np.float32(10 ** (gain_db / 20))
    fade_in_n, fade_out_n = int(fade_in * RATE), int(fade_out * RATE)
    total = end - start
    for offset in range(0, total, RATE):
        chunk = audio[start + offset : start + min(offset + RATE, total)] * gain
        if offset < fade_in_n:
            index = np.arange(offset, offset + chunk.shape[0])
            chunk *= np.minimum(index / max(fade_in_n, 1), 1.0)[:, None].astype(np.float32)
        if offset + chunk.shape[0] > total - fade_out_n:
            index = np.arange(offset, offset + chunk.shape[0])
            ramp = np.clip((total - index) / max(fade_out_n, 1), 0.0, 1.0)
            chunk *= ramp[:, None].astype(np.float32)
        yield offset, np.ascontiguousarray(chunk, dtype=np.float32)


def _write_pyav(chunks: Iterable[tuple[int, np.ndarray]], spec: RenditionSpec, path: Path) -> None:
    with av.open(str(path), mode="w", format=spec.container) as container:
        stream = container.add_stream(spec.codec, rate=RATE, layout="stereo")
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.bit_rate = spec.bitrate
        if spec.options:
            container.options.update(dict(spec.options))
        for offset, chunk in chunks:
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="stereo")
            frame.sample_rate = RATE
            frame.pts = offset
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# MP3 goes through lameenc rather than PyAV: the LAME inside PyAV's wheel is 2.9x slower at the
# same settings (docs/decisions/0010-mp3-through-lameenc.md). LAME's own default quality (-q 3).
LAME_QUALITY = 3
LAME_VERSION = b"LAME3.100"
LAME_ENCODER_DELAY = 576
MP3_FRAME_SAMPLES = 1152


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _bit in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, as the LAME tag uses."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC16[(crc ^ byte) & 0xFF]
    return crc


def lame_info_frame(*, first_header: bytes, frame_size: int, frames: int, samples: int) -> bytes:
    """The Info/LAME tag frame that starts a CBR MP3: frame count, size, a seek table and the
    encoder delay and padding, so players trim them and the file plays gapless."""
    total_bytes = (frames + 1) * frame_size
    padding = frames * MP3_FRAME_SAMPLES - samples - LAME_ENCODER_DELAY
    toc = bytes(
        min(255, (1 + i * frames // 100) * frame_size * 256 // total_bytes) for i in range(100)
    )
    frame = bytearray(frame_size)
    frame[0:4] = first_header
    # After the 4-byte header and 32 bytes of (empty) MPEG-1 stereo side information.
    frame[36:40] = b"Info"
    struct.pack_into(">III", frame, 40, 0x0F, frames, total_bytes)
    frame[52:152] = toc
    frame[156:165] = LAME_VERSION
    struct.pack_into(">I", frame, 177, (LAME_ENCODER_DELAY << 12 | padding) << 8)
    struct.pack_into(">I", frame, 184, total_bytes)
    struct.pack_into(">H", frame, 190, _crc16(bytes(frame[:190])))
    return bytes(frame)


def _to_pcm16(chunk: np.ndarray, rng: np.random.Generator) -> bytes:
    """16-bit PCM with triangular dither (LAME takes integers; plain rounding would add
    distortion to quiet passages)."""
    dither = rng.random(chunk.shape, dtype=np.float32) - rng.random(chunk.shape, dtype=np.float32)
    scaled = np.rint(chunk * 32767.0 + dither)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def _write_lame(chunks: Iterable[tuple[int, np.ndarray]], spec: RenditionSpec, path: Path) -> None:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(spec.bitrate // 1000)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(2)
    encoder.set_quality(LAME_QUALITY)
    # 48 kHz MPEG-1 layer III frames never carry a padding byte: all are this size.
    frame_size = 144 * spec.bitrate // RATE
    rng = np.random.default_rng(0)
    samples = 0
    with open(path, "wb") as out:
        out.write(bytes(frame_size))  # the tag frame, written once the counts are known
        first_header = b""
        for _offset, chunk in chunks:
            samples += chunk.shape[0]
            data = bytes(encoder.encode(_to_pcm16(chunk, rng)))
            first_header = first_header or data[:4]
            out.write(data)
        data = bytes(encoder.flush())
        first_header = first_header or data[:4]
        out.write(data)
        frames = out.tell() // frame_size - 1
        out.seek(0)
        out.write(
            lame_info_frame(
                first_header=first_header, frame_size=frame_size, frames=frames, samples=samples
            )
        )


def encode(
    audio: np.ndarray,
    spec: RenditionSpec,
    destination: str | Path,
    *,
    gain_db: float,
    start: int = 0,
    end: int | None = None,
    fade_in: float = 0.0,
    fade_out: float = 0.0,
) -> Encoded:
    """Encodes audio[start:end] with the gain (and linear fades) to `destination`."""
    end = audio.shape[0] if end is None else end
    total = end - start
    chunks = _processed_chunks(
        audio, gain_db=gain_db, start=start, end=end, fade_in=fade_in, fade_out=fade_out
    )
    write = _write_lame if spec.codec == "libmp3lame" else _write_pyav
    write(chunks, spec, Path(destination))
    return _encoded(destination, seconds=total / RATE, bitrate=spec.bitrate)


def _encoded(destination: str | Path, *, seconds: float, bitrate: int | None) -> Encoded:
    """What was written to `destination`; bitrate None: the file's average."""
    digest = hashlib.sha256()
    for chunk_bytes in file_chunks(destination):
        digest.update(chunk_bytes)
    size = Path(destination).stat().st_size
    return Encoded(
        duration_seconds=round(seconds, 3),
        size_bytes=size,
        sha256=digest.hexdigest(),
        bitrate=bitrate if bitrate is not None else round(size * 8 / max(seconds, 1e-3)),
    )


# The lossless rendition (docs/decisions/0020-lossless-rendition-and-downloads.md)

LOSSLESS_RATES = (44_100, 48_000)
LOSSLESS_CODECS = ("pcm_", "flac")


@dataclass(frozen=True)
class LosslessFormat:
    """What the FLAC of a master holds: its rate and channels, 16 or 24 bits."""

    sample_rate: int
    bit_depth: int
    channels: int

    @property
    def sample_format(self) -> str:
        # FFmpeg's FLAC encoder takes 16-bit samples as s16 and 24-bit ones in the top bits of s32.
        return "s16" if self.bit_depth == 16 else "s32"


def lossless_format(probed: Probe) -> LosslessFormat | None:
    """The FLAC a master allows; None for a lossy master (MP3, Opus, Vorbis), whose FLAC would
    only hold the lossy codec's output in a bigger file.

    44.1 and 48 kHz stay as they are; any other rate goes to the one of the two it divides
    (88.2 kHz to 44.1, 96 kHz to 48). Up to 16 bits gives 16; more (24, 32, float) gives 24,
    which keeps everything a 32-bit master holds above -144 dBFS. Mono stays mono; more than two
    channels are mixed down to stereo, as for the other renditions.
    """
    if not probed.codec.startswith(LOSSLESS_CODECS):
        return None
    rate = probed.sample_rate
    if rate not in LOSSLESS_RATES:
        rate = 44_100 if rate % 11_025 == 0 else 48_000
    depth = 16 if probed.bit_depth is not None and probed.bit_depth <= 16 else 24
    return LosslessFormat(
        sample_rate=rate, bit_depth=depth, channels=1 if probed.channels == 1 else 2
    )


def encode_lossless(
    source: str | Path, destination: str | Path, *, target: LosslessFormat
) -> Encoded:
    """The master's samples as FLAC (FFmpeg's default compression, level 5), no gain.

    Decoded frames that already have the target's rate, format and channels go to the encoder
    untouched (PyAV's resampler passes them through), so a 16- or 24-bit master at 44.1 or
    48 kHz comes out bit for bit; other masters are converted by FFmpeg's resampler.
    """
    layout = "mono" if target.channels == 1 else "stereo"
    samples = 0
    try:
        with (
            av.open(str(source), mode="r", metadata_errors="ignore") as inp,
            av.open(str(destination), mode="w", format=LOSSLESS.container) as out,
        ):
            stream = out.add_stream(
                LOSSLESS.codec,
                rate=target.sample_rate,
                layout=layout,
                format=target.sample_format,
            )
            assert isinstance(stream, av.audio.stream.AudioStream)
            resampler = av.AudioResampler(
                format=target.sample_format, layout=layout, rate=target.sample_rate
            )
            for frame in inp.decode(inp.streams.audio[0]):
                for converted in resampler.resample(frame):
                    samples += converted.samples
                    for packet in stream.encode(converted):
                        out.mux(packet)
            for converted in resampler.resample(None):
                samples += converted.samples
                for packet in stream.encode(converted):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise _damaged(error) from error
    return _encoded(destination, seconds=samples / target.sample_rate, bitrate=None)
