"""`{% section_render section %}`: a section that an app above residents adds to the Resident Detail
Screen or My Plan (`kynect.residents.sections`), rendered with its own context on top of the page's."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from kynect.residents.sections import Section

register = template.Library()


@register.simple_tag(takes_context=True)
def section_render(context: template.Context, section: Section) -> SafeString:
    assert context.template is not None
    included = context.template.engine.get_template(section.template)
    with context.push(**section.context):
        return included.render(context)
