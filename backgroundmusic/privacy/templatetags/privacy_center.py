"""The sections of the privacy center. Each area builds its own context in its views module."""

from importlib import import_module
from typing import Any

from django import template

register = template.Library()

# tag name → (template, "module:function" building the section's context from the request)
SECTIONS = {
    "consents_section": ("privacy/center/_consents.html", "consents:consents_section"),
    "sharing_section": ("privacy/center/_sharing.html", "consents:sharing_section"),
    "restriction_section": ("privacy/center/_restriction.html", "consents:restriction_section"),
    "data_section": ("privacy/center/_data.html", "rights:data_section"),
    "corrections_section": ("privacy/center/_corrections.html", "rights:corrections_section"),
    "disclosures_section": ("privacy/center/_disclosures.html", "disclosures:disclosures_section"),
    "transfers_section": ("privacy/center/_transfers.html", "transfers:transfers_section"),
    "requests_section": ("privacy/center/_requests.html", "requests_public:requests_section"),
    "delete_section": ("privacy/center/_delete.html", "rights:delete_section"),
}


def _register(tag: str, template_name: str, builder: str) -> None:
    module_name, function_name = builder.split(":")

    def section(context: template.Context) -> dict[str, Any]:
        module = import_module(f"backgroundmusic.privacy.views.{module_name}")
        request = context["request"]
        return {
            "request": request,
            "csrf_token": context.get("csrf_token"),
            **getattr(module, function_name)(request),
        }

    section.__name__ = tag
    register.inclusion_tag(template_name, takes_context=True)(section)


for _tag, (_template, _builder) in SECTIONS.items():
    _register(_tag, _template, _builder)
