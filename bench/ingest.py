"""Ingest benchmark: our pipeline vs the ffmpeg command line on the same masters, in one run.

Run by `make bench` (or `.venv/bin/python bench/ingest.py`). For each master:

- ours:   media/pipeline.py as master_ingest runs it (no database): probe, SHA-256, decode to
          48 kHz float stereo, integrated loudness + loudness range + 4x true peak (pyloudnorm,
          scipy), cue points, waveform peaks, BPM estimate, the four renditions (Opus 128k
          WebM, AAC 192k M4A, MP3 320k, 30 s MP3 128k preview with fades; MP3 through lameenc,
          docs/decisions/0010-mp3-through-lameenc.md) and the FLAC of the master's own samples;
- ffmpeg: one `ffmpeg` process per master doing the same decode and resample, the ebur128
          filter with true peak (integrated, LRA, true peak) and the same five encodes with the
          same encoders at the same settings (the anchor; it does no BPM, peaks or checksum).

CPU seconds are user+system of this process (ours) and of the ffmpeg children (anchor).
Prints seconds of audio per CPU second for both and the ratio (ours CPU / ffmpeg CPU; the goal
is <= 1.2). Masters: var/demo-audio/*.wav when the demo catalogue was generated, else 20
generated 60 s masters. Debian's ffmpeg is installed with apt-get when missing.

Environment: BENCH_MASTERS (20), BENCH_MASTER_SECONDS (60, generated masters only).
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
COUNT = int(os.environ.get("BENCH_MASTERS", "20"))
SECONDS = float(os.environ.get("BENCH_MASTER_SECONDS", "60"))


def ensure_ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    print("Installing Debian's ffmpeg for the ingest benchmark", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)  # noqa: S603 (fixed args)
    subprocess.run(  # noqa: S603 (fixed arguments)
        [
            *sudo,
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "-qq",
            "ffmpeg",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("ffmpeg")
    if not found:
        sys.exit("ffmpeg is still missing")
    return found


def generated_masters(folder: Path) -> list[Path]:
    """Chords, a beat and a little noise: 44.1 kHz 16-bit stereo WAV, like a typical master."""
    rate = 44_100
    rng = np.random.default_rng(2024)
    paths = []
    for n in range(COUNT):
        t = np.arange(int(SECONDS * rate)) / rate
        base = 110 * 2 ** (n % 12 / 12)
        tone = sum(0.12 * np.sin(2 * np.pi * base * k * t) / k for k in (1, 1.25, 1.5, 2, 3))
        beat = np.zeros_like(t)
        period = int(rate * 60 / (80 + 5 * n))
        for start in range(0, t.size - 2000, period):
            beat[start : start + 2000] += np.hanning(2000) * rng.standard_normal(2000) * 0.3
        mix = tone * (0.6 + 0.4 * np.sin(2 * np.pi * t / 17)) + beat + rng.normal(0, 0.003, t.size)
        stereo = np.stack([mix, np.roll(mix, 300)], axis=1)
        data = (np.clip(stereo, -1, 1) * 32767).astype("<i2").tobytes()
        path = folder / f"master-{n:02d}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(data)
        paths.append(path)
    return paths


def ours(path: Path, out: Path) -> float:
    from backgroundmusic.media import pipeline

    probed = pipeline.probe(path, max_seconds=3600)
    with open(os.devnull, "wb") as sink:
        pipeline.sha256_copy(pipeline.file_chunks(path), sink, max_bytes=1 << 40)
    audio = pipeline.decode(path, probed=probed)
    duration = pipeline.check_complete(probed, audio)
    measured = pipeline.loudness(audio)
    cue_in, cue_out = pipeline.cue_points(audio)
    pipeline.waveform_peaks(audio)
    pipeline.estimate_bpm(audio)
    gain = pipeline.normalising_gain_db(measured)
    for spec in pipeline.RENDITIONS:
        target = out / f"ours.{spec.kind}.{spec.extension}"
        if spec.kind == "preview":
            start, end = pipeline.preview_window(audio, cue_in=cue_in, cue_out=cue_out)
            pipeline.encode(
                audio, spec, target, gain_db=gain, start=start, end=end, fade_in=1.0, fade_out=2.0
            )
        else:
            pipeline.encode(audio, spec, target, gain_db=gain)
    lossless = pipeline.lossless_format(probed)
    if lossless is not None:
        pipeline.encode_lossless(path, out / "ours.flac.flac", target=lossless)
    return duration


def anchor(ffmpeg: str, path: Path, out: Path, duration: float) -> None:
    start = max(0.0, duration / 2 - 15)
    graph = (
        "[0:a]aresample=48000,aformat=sample_fmts=flt:channel_layouts=stereo,volume=2dB,"
        "asplit=5[m][o][a][p][v];"
        "[m]ebur128=peak=true[mo];"
        f"[v]atrim=start={start:.3f}:duration=30,asetpts=N/SR/TB,afade=t=in:d=1,"
        "afade=t=out:st=28:d=2[vo]"
    )
    subprocess.run(  # noqa: S603 (our own files and filter graph)
        [
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(path),
            "-filter_complex",
            graph,
            "-map",
            "[mo]",
            "-f",
            "null",
            "-",
            "-map",
            "[o]",
            "-c:a",
            "libopus",
            "-b:a",
            "128k",
            str(out / "ff.opus.webm"),
            "-map",
            "[a]",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-movflags",
            "+faststart",
            str(out / "ff.aac.m4a"),
            "-map",
            "[p]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "320k",
            str(out / "ff.mp3"),
            "-map",
            "[vo]",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            str(out / "ff.preview.mp3"),
            "-map",
            "0:a",
            "-c:a",
            "flac",
            str(out / "ff.flac"),
        ],
        check=True,
    )


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    import django

    django.setup()
    ffmpeg = ensure_ffmpeg()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        demo = sorted((ROOT / "var" / "demo-audio").glob("*.wav"))[:COUNT]
        masters = demo or generated_masters(work)
        source = "var/demo-audio" if demo else f"{len(masters)} generated {SECONDS:g} s masters"
        print(f"masters: {source}", flush=True)
        audio_seconds, ours_cpu, ff_cpu, ours_wall, ff_wall = 0.0, 0.0, 0.0, 0.0, 0.0
        for path in masters:
            before, wall = cpu(resource.RUSAGE_SELF), time.perf_counter()
            duration = ours(path, work)
            ours_cpu += cpu(resource.RUSAGE_SELF) - before
            ours_wall += time.perf_counter() - wall
            before, wall = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            anchor(ffmpeg, path, work, duration)
            ff_cpu += cpu(resource.RUSAGE_CHILDREN) - before
            ff_wall += time.perf_counter() - wall
            audio_seconds += duration
    print(f"audio: {audio_seconds:.0f} s in {len(masters)} masters")
    print(
        f"ours:   {ours_cpu:7.1f} CPU s ({ours_wall:6.1f} s wall)  "
        f"{audio_seconds / ours_cpu:6.1f} s of audio per CPU second"
    )
    print(
        f"ffmpeg: {ff_cpu:7.1f} CPU s ({ff_wall:6.1f} s wall)  "
        f"{audio_seconds / ff_cpu:6.1f} s of audio per CPU second"
    )
    print(f"ratio (ours CPU / ffmpeg CPU): {ours_cpu / ff_cpu:.2f}  (goal <= 1.2)")


if __name__ == "__main__":
    main()
