"""`{{ user_agent|device_name }}`: a session's browser and system as a person reads them."""

from django import template

from backgroundmusic.core.request_info import device_description

register = template.Library()


@register.filter
def device_name(user_agent: str) -> str:
    return device_description(str(user_agent or ""))
