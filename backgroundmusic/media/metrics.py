"""The ingest pipeline's part of /metrics (core/metrics.py): masters by state, read at scrape
time."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from backgroundmusic.media.models import Master


def ingest_metrics() -> Iterable[Metric]:
    masters = GaugeMetricFamily(
        "backgroundmusic_ingest_masters", "Uploaded masters by ingest state.", labels=["state"]
    )
    counts = {
        row["status"]: row["count"]
        for row in Master.objects.order_by().values("status").annotate(count=Count("pk"))
    }
    for state in Master.Status.values:
        masters.add_metric([state], counts.get(state, 0))
    return [masters]
