"""Events the optional features listen to (metrics counts them); sent by the service."""

from blinker import Namespace

_events = Namespace()

predicted = _events.signal("predicted")  # keyword: digit
rejected = _events.signal("rejected")  # keyword: reason (the problem type's slug)
