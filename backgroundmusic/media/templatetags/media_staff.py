from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STEP_LABELS = {
    "probe": _("Reading the file"),
    "checksum": _("Checking the checksum"),
    "decode": _("Decoding"),
    "loudness": _("Measuring loudness"),
    "cue_points": _("Finding the silence at either end"),
    "waveform": _("Drawing the waveform"),
    "bpm": _("Estimating the tempo"),
    "opus": _("Encoding Opus"),
    "aac": _("Encoding AAC"),
    "mp3_320": _("Encoding MP3 320"),
    "preview": _("Making the preview"),
    "flac": _("Encoding FLAC (lossless)"),
    "ready": _("Done"),
}


@register.filter
def step_label(step: str) -> str:
    """{{ master.step|step_label }}: the ingest step in words."""
    return str(STEP_LABELS.get(step, step))
