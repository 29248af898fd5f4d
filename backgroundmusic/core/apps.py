from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backgroundmusic.core"
    label = "core"

    def ready(self) -> None:
        from django_tasks.signals import task_finished, task_started

        from backgroundmusic.core import ratelimits  # noqa: F401 - registers its system check
        from backgroundmusic.core.logging import forget_personal_values
        from backgroundmusic.core.operator import operator_dates_check

        operator_dates_check()

        # Personal values remembered for log masking belong to one job; a worker runs many.
        task_started.connect(lambda **kwargs: forget_personal_values(), weak=False)
        task_finished.connect(lambda **kwargs: forget_personal_values(), weak=False)
