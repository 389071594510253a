"""zh-hans as Django ships it, with the thousands separator agencies and banks write money with.

Django's zh_Hans locale has no thousands separator (and groups by four), so `intcomma` printed whole numbers
and amounts passed through floatformat:0 as 1234567; with this, 1,234,567 everywhere intcomma is used. Grouping
applies only where a template asks for it (intcomma): USE_THOUSAND_SEPARATOR stays off, so form inputs and
data attributes keep plain numbers.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
