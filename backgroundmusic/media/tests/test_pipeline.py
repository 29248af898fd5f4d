"""Each pipeline step alone, on small generated fixtures, with stated tolerances."""

import math
import os
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest

from backgroundmusic.media import pipeline
from backgroundmusic.media.pipeline import MasterRejected
from backgroundmusic.media.tests.audio import clicks, sine, write_encoded, write_wav

RATE = pipeline.RATE


def test_probe_of_a_24_bit_wav(tmp_path: Path):
    path = write_wav(tmp_path / "a.wav", sine(2.0, channels=2), bits=24)
    assert pipeline.probe(path, max_seconds=60) == pipeline.Probe(
        container="wav",
        codec="pcm_s24le",
        sample_rate=48_000,
        channels=2,
        bit_depth=24,
        duration_seconds=2.0,
        exact_length=True,
    )


def test_probe_of_a_flac_and_a_mono_44k1_wav(tmp_path: Path):
    flac = write_encoded(tmp_path / "a.flac", sine(1.5), container="flac", codec="flac")
    probed = pipeline.probe(flac, max_seconds=60)
    assert (probed.container, probed.codec, probed.bit_depth) == ("flac", "flac", 16)
    assert probed.duration_seconds == 1.5
    mono = write_wav(tmp_path / "m.wav", sine(1.0, rate=44_100, channels=1), rate=44_100)
    probed = pipeline.probe(mono, max_seconds=60)
    assert (probed.sample_rate, probed.channels, probed.bit_depth) == (44_100, 1, 16)


def test_vbr_mp3_duration_within_50_ms(tmp_path: Path):
    audio = sine(3.0, dbfs=-10) + clicks(3.0, bpm=120)
    path = tmp_path / "vbr.mp3"
    with av.open(str(path), mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=RATE, layout="stereo")
        stream.codec_context.qscale = True  # VBR, like lame -V 4
        stream.codec_context.global_quality = 4 * 118
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1),
            format="flt",
            layout="stereo",
        )
        frame.sample_rate, frame.pts = RATE, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    with av.open(str(path)) as opened:
        sizes = {packet.size for packet in opened.demux(audio=0) if packet.size}
    assert len(sizes) > 2  # packet sizes vary: it is VBR
    probed = pipeline.probe(path, max_seconds=60)
    assert (probed.container, probed.codec, probed.exact_length) == ("mp3", "mp3float", False)
    assert abs(probed.duration_seconds - 3.0) <= 0.05
    decoded = pipeline.decode(path, probed=probed)
    assert abs(pipeline.check_complete(probed, decoded) - 3.0) <= 0.05


def test_random_bytes_named_wav_are_refused(tmp_path: Path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(7).bytes(100_000))
    with pytest.raises(MasterRejected) as refused:
        pipeline.probe(path, max_seconds=60)
    assert refused.value.message == (
        "The file is damaged or is not an audio file (Invalid data found when processing input)."
    )


def test_truncated_wav_and_flac_are_refused(tmp_path: Path):
    wav = write_wav(tmp_path / "a.wav", sine(3.0))
    (tmp_path / "cut.wav").write_bytes(wav.read_bytes()[: wav.stat().st_size // 2])
    with pytest.raises(MasterRejected) as refused:
        pipeline.probe(tmp_path / "cut.wav", max_seconds=60)
    assert (
        refused.value.message
        == "The file is truncated: it ends after 1.50 s of the 3.00 s promised."
    )

    flac = write_encoded(tmp_path / "a.flac", sine(3.0), container="flac", codec="flac")
    (tmp_path / "cut.flac").write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    probed = pipeline.probe(tmp_path / "cut.flac", max_seconds=60)
    with pytest.raises(MasterRejected) as refused:
        pipeline.decode(tmp_path / "cut.flac", probed=probed)
    assert refused.value.message.startswith("The file is truncated: it ends after 1.")
    assert refused.value.message.endswith(" s of the 3.00 s promised.")


def test_unsupported_and_too_long_are_refused(tmp_path: Path):
    m4a = write_encoded(tmp_path / "a.m4a", sine(1.0), container="ipod", codec="aac")
    with pytest.raises(MasterRejected) as refused:
        pipeline.probe(m4a, max_seconds=60)
    assert refused.value.message == (
        "Unsupported format (mov, aac). Upload WAV, FLAC, AIFF, MP3 or Ogg (Opus or Vorbis)."
    )
    wav = write_wav(tmp_path / "long.wav", sine(3.0))
    with pytest.raises(MasterRejected) as refused:
        pipeline.probe(wav, max_seconds=2)
    assert refused.value.message == "The recording lasts 0:03; the limit is 0:02."


def test_sha256_copy_hashes_and_refuses_above_the_limit(tmp_path: Path):
    sink = (tmp_path / "copy").open("wb")
    assert pipeline.sha256_copy([b"abc", b"def"], sink, max_bytes=6) == (
        "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721",
        6,
    )
    with pytest.raises(MasterRejected) as refused:
        pipeline.sha256_copy([b"abc", b"defg"], sink, max_bytes=6)
    assert refused.value.message == "The file is larger than the limit of 6e-06 MB."


def test_loudness_of_a_stereo_1khz_sine_at_minus_20_dbfs():
    # BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LKFS; in both, 0.0; so -20 dBFS
    # in both channels reads -20.0 (-20.03 measured). The loudness range of a steady tone is 0
    # (pyloudnorm's 3 s blocks over the 1.5 s of silence it appends add ~2 LU to a 5 s tone, so
    # the tone lasts 20 s).
    measured = pipeline.loudness(sine(20.0, dbfs=-20))
    assert abs(measured.integrated_lufs - (-20.0)) <= 0.1
    assert abs(measured.true_peak_dbtp - (-20.0)) <= 0.1
    assert abs(measured.range_lu) <= 0.1


def test_a_mono_master_is_played_at_unity_on_both_channels(tmp_path: Path):
    path = write_wav(tmp_path / "m.wav", sine(3.0, dbfs=-20, channels=1))
    audio = pipeline.decode(path)
    assert audio.shape == (3 * RATE, 2)
    assert abs(pipeline.loudness(audio).integrated_lufs - (-20.0)) <= 0.1


def test_true_peak_sees_the_peak_between_samples():
    # A 6 kHz sine (an eighth of the sample rate) sampled 22.5° off its peaks: the sample peak
    # reads 0.69 dB under the true peak of -6.02 dBTP; 4x oversampling finds it within 0.1 dB.
    t = np.arange(RATE)
    tone = (0.5 * np.sin(2 * np.pi * t / 8 + np.pi / 8)).astype(np.float32)
    audio = np.repeat(tone[:, None], 2, axis=1)
    assert abs(20 * math.log10(np.abs(audio).max()) - (-6.71)) <= 0.01
    assert abs(pipeline.true_peak_dbtp(audio) - (-6.02)) <= 0.1


def test_silence_is_refused():
    silence = np.zeros((2 * RATE, 2), np.float32)
    with pytest.raises(MasterRejected) as refused:
        pipeline.loudness(silence)
    assert refused.value.message == "The master is silent."
    with pytest.raises(MasterRejected) as refused:
        pipeline.cue_points(silence)
    assert refused.value.message == "The master is silent."


def test_cue_points_within_10_ms():
    cue_in, cue_out = pipeline.cue_points(sine(2.0, lead=0.5, tail=0.75))
    assert abs(cue_in - 0.5) <= 0.01
    assert abs(cue_out - 2.5) <= 0.01


def test_waveform_peaks_are_800_normalised_pairs():
    peaks = pipeline.waveform_peaks(sine(2.0, dbfs=-20, lead=2.0))
    assert len(peaks) == 800
    assert peaks[:400] == [[0.0, 0.0]] * 400  # the silent first half
    assert max(high for _low, high in peaks) == 1.0
    assert min(low for low, _high in peaks) == -1.0


@pytest.mark.parametrize("bpm", [90, 120, 140])
def test_bpm_of_a_click_track_within_1_bpm(bpm):
    assert abs(pipeline.estimate_bpm(clicks(8.0, bpm=bpm)) - bpm) <= 1.0


def test_no_bpm_for_a_steady_tone():
    assert pipeline.estimate_bpm(sine(8.0)) is None


def test_normalising_gain_reaches_the_target_under_the_ceiling():
    gain = pipeline.normalising_gain_db
    assert gain(pipeline.Loudness(-20.0, 0.0, -20.0)) == 4.0
    assert gain(pipeline.Loudness(-10.0, 0.0, -0.5)) == -6.0
    assert gain(pipeline.Loudness(-30.0, 0.0, -3.0)) == 2.0  # the ceiling wins


def test_preview_window_is_the_loudest_30_s_in_the_middle():
    audio = sine(60.0, dbfs=-40)
    audio[20 * RATE : 50 * RATE] *= 10
    assert pipeline.preview_window(audio, cue_in=0.0, cue_out=60.0) == (20 * RATE, 50 * RATE)
    assert pipeline.preview_window(audio, cue_in=1.0, cue_out=20.0) == (RATE, 20 * RATE)


def test_renditions_decode_with_their_codecs_at_the_target(tmp_path: Path):
    audio = sine(4.0, dbfs=-20)
    gain = pipeline.normalising_gain_db(pipeline.loudness(audio))
    expected = {
        "opus": ("matroska,webm", "opus"),
        "aac": ("mov,mp4,m4a,3gp,3g2,mj2", "aac"),
        "mp3_320": ("mp3", "mp3float"),
        "preview": ("mp3", "mp3float"),
    }
    for spec in pipeline.RENDITIONS:
        path = tmp_path / f"{spec.kind}.{spec.extension}"
        encoded = pipeline.encode(audio, spec, path, gain_db=gain, fade_in=0.0)
        assert encoded.size_bytes == path.stat().st_size > 0
        assert encoded.duration_seconds == 4.0
        with av.open(str(path)) as opened:
            stream = opened.streams.audio[0]
            assert (opened.format.name, stream.codec_context.name) == expected[spec.kind]
            assert (stream.sample_rate, stream.channels) == (48_000, 2)
        decoded = pipeline.decode(path)
        assert abs(decoded.shape[0] / RATE - 4.0) <= 0.03
        if spec.kind == "opus":
            assert abs(pipeline.loudness(decoded).integrated_lufs - pipeline.TARGET_LUFS) <= 0.5


def test_tags_are_read_from_the_container(tmp_path: Path):
    path = write_encoded(
        tmp_path / "t.flac",
        sine(1.0),
        container="flac",
        codec="flac",
        metadata={"title": "Morning Light", "artist": "A. Composer", "genre": "Ambient"},
    )
    found = pipeline.tags(path)
    assert (found["title"], found["artist"], found["genre"]) == (
        "Morning Light",
        "A. Composer",
        "Ambient",
    )
    assert os.path.exists(path)


@pytest.mark.parametrize("kind", ["mp3_320", "preview"])
def test_mp3_renditions_are_gapless_and_sample_aligned(tmp_path: Path, kind: str):
    """The LAME tag carries the encoder delay and padding: a decoder returns exactly the
    samples that went in, starting at the same instant."""
    audio = sine(2.37, dbfs=-12)
    path = tmp_path / f"{kind}.mp3"
    pipeline.encode(audio, pipeline.SPECS[kind], path, gain_db=0.0)
    decoded = pipeline.decode(path)
    assert decoded.shape == audio.shape
    middle = slice(RATE // 2, RATE)
    assert np.corrcoef(audio[middle, 0], decoded[middle, 0])[0, 1] > 0.999
    header = path.read_bytes()[:200]
    assert header[36:40] == b"Info"
    assert header[156:165] == b"LAME3.100"


def test_loudness_equals_pyloudnorms_own_measurement():
    rng = np.random.default_rng(7)
    seconds = np.arange(20 * RATE) / RATE
    swell = 0.3 + 0.7 * (np.sin(2 * np.pi * seconds / 7) > 0)
    tone = (0.2 * np.sin(2 * np.pi * 330 * seconds) * swell)[:, None] * np.ones((1, 2))
    audio = (tone + rng.normal(0, 0.01, tone.shape)).astype(np.float32)
    meter = pyloudnorm.Meter(RATE)
    measured = pipeline.loudness(audio)
    assert abs(measured.integrated_lufs - meter.integrated_loudness(audio)) < 1e-6
    assert abs(measured.range_lu - meter.loudness_range(audio)) < 1e-6


# The lossless rendition: the master's own samples


def decoded_samples(path: Path) -> np.ndarray:
    """Every sample as FFmpeg decodes it, interleaved (24 bits in the top of s32)."""
    with av.open(str(path)) as opened:
        frames = [frame.to_ndarray() for frame in opened.decode(opened.streams.audio[0])]
    return np.concatenate(frames, axis=1)[0]


def lossless(master: Path, tmp_path: Path) -> tuple[pipeline.Probe, pipeline.Encoded, Path]:
    """Encodes the FLAC of `master`; its probe, what encode_lossless reported, its path."""
    target = pipeline.lossless_format(pipeline.probe(master, max_seconds=60))
    assert target is not None
    path = tmp_path / "lossless.flac"
    encoded = pipeline.encode_lossless(master, path, target=target)
    assert encoded.size_bytes == path.stat().st_size
    assert encoded.bitrate == round(encoded.size_bytes * 8 / encoded.duration_seconds)
    return pipeline.probe(path, max_seconds=60), encoded, path


def shape(probed: pipeline.Probe) -> tuple[str, str, int, int, int | None]:
    return probed.container, probed.codec, probed.sample_rate, probed.channels, probed.bit_depth


@pytest.mark.parametrize(
    ("rate", "bits", "channels"),
    [(44_100, 16, 1), (48_000, 16, 2), (44_100, 24, 2), (48_000, 24, 2)],
)
def test_a_pcm_master_at_44k1_or_48k_comes_out_bit_for_bit(tmp_path, rate, bits, channels):
    audio = (
        sine(2.0, dbfs=-3, rate=rate, channels=channels)
        + clicks(2.0, bpm=120, rate=rate)[:, :channels]
    )
    master = write_wav(tmp_path / "m.wav", audio, rate=rate, bits=bits)
    probed, encoded, path = lossless(master, tmp_path)
    assert shape(probed) == ("flac", "flac", rate, channels, bits)
    assert encoded.duration_seconds == 2.0
    assert np.array_equal(decoded_samples(path), decoded_samples(master))
    # Lossless, and smaller: FLAC of a tone with clicks is well under the WAV.
    assert encoded.size_bytes < master.stat().st_size * 0.8


def test_a_flac_master_comes_out_bit_for_bit(tmp_path):
    master = write_encoded(tmp_path / "m.flac", sine(2.0, dbfs=-6), container="flac", codec="flac")
    probed, _encoded, path = lossless(master, tmp_path)
    assert shape(probed) == ("flac", "flac", 48_000, 2, 16)
    assert np.array_equal(decoded_samples(path), decoded_samples(master))


@pytest.mark.parametrize(("rate", "expected"), [(96_000, 48_000), (88_200, 44_100)])
def test_a_high_rate_master_goes_to_the_rate_it_divides(tmp_path, rate, expected):
    master = write_wav(tmp_path / "m.wav", sine(2.0, rate=rate, freq=997), rate=rate, bits=24)
    probed, encoded, path = lossless(master, tmp_path)
    assert shape(probed) == ("flac", "flac", expected, 2, 24)
    assert abs(encoded.duration_seconds - 2.0) <= 0.001
    resampled = decoded_samples(path).reshape(-1, 2)[:, 0] / 2.0**31
    reference = sine(2.0, rate=expected, freq=997)[:, 0]
    middle = slice(expected // 2, expected)
    assert np.corrcoef(resampled[middle], reference[middle])[0, 1] > 0.9999
    assert abs(np.abs(resampled[middle]).max() - 0.1) < 0.001  # -20 dBFS kept, no gain


def test_a_float_master_keeps_24_bits(tmp_path):
    audio = sine(1.0, dbfs=-1)
    master = write_encoded(tmp_path / "f.wav", audio, container="wav", codec="pcm_f32le")
    probed, _encoded, path = lossless(master, tmp_path)
    assert shape(probed) == ("flac", "flac", 48_000, 2, 24)
    kept = decoded_samples(path).reshape(-1, 2) / 2.0**31
    assert np.abs(kept - audio).max() <= 2.0**-23


def test_a_surround_master_is_mixed_to_stereo(tmp_path):
    master = tmp_path / "surround.wav"
    with av.open(str(master), mode="w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="5.1")
        tone = np.ascontiguousarray(np.repeat(sine(1.0, channels=1), 6, axis=1))
        frame = av.AudioFrame.from_ndarray(
            (tone * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="5.1"
        )
        frame.sample_rate, frame.pts = RATE, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    probed, encoded, _path = lossless(master, tmp_path)
    assert shape(probed) == ("flac", "flac", 48_000, 2, 16)
    assert encoded.duration_seconds == 1.0


def test_lossy_masters_have_no_lossless_rendition(tmp_path):
    mp3 = write_encoded(tmp_path / "a.mp3", sine(1.0), container="mp3", codec="libmp3lame")
    opus = write_encoded(tmp_path / "a.opus", sine(1.0), container="ogg", codec="libopus")
    for path in (mp3, opus):
        assert pipeline.lossless_format(pipeline.probe(path, max_seconds=60)) is None


def test_lossless_format_by_the_masters_rate_depth_and_channels():
    def target(codec: str, rate: int, bits: int | None, channels: int = 2):
        probed = pipeline.Probe("wav", codec, rate, channels, bits, 1.0, True)
        return pipeline.lossless_format(probed)

    assert target("pcm_u8", 22_050, 8, 1) == pipeline.LosslessFormat(44_100, 16, 1)
    assert target("pcm_s32le", 32_000, 32) == pipeline.LosslessFormat(48_000, 24, 2)
    assert target("pcm_s24le", 192_000, 24, 6) == pipeline.LosslessFormat(48_000, 24, 2)
    assert target("pcm_alaw", 8_000, None, 1) == pipeline.LosslessFormat(48_000, 24, 1)
    assert target("vorbis", 44_100, None) is None
