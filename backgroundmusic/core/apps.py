from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backgroundmusic.core"
    label = "core"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started
        from django_tasks.signals import task_finished, task_started

        from backgroundmusic.core import ratelimits  # noqa: F401 - registers its system check
        from backgroundmusic.core.logging import (
            forget_personal_values,
            request_id_begin,
            request_id_end,
        )
        from backgroundmusic.core.operator import operator_dates_check

        operator_dates_check()

        # Personal values remembered for log masking belong to one job; a worker runs many.
        task_started.connect(lambda **kwargs: forget_personal_values(), weak=False)
        task_finished.connect(lambda **kwargs: forget_personal_values(), weak=False)
        # Every log line of a request carries its id (core/logging.py).
        request_started.connect(request_id_begin, weak=False)
        request_finished.connect(request_id_end, weak=False)
