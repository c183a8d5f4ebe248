"""Events the optional features listen to, sent by the reading routes: the service knows no
feature, and a feature hears what it needs (keys charge for accepted images, metrics count
predictions and refusals, and requests whose rate limit could not be counted where it is
shared)."""

from blinker import Namespace

_events = Namespace()

accepted = _events.signal("accepted")  # keyword: images (how many the request will read)
predicted = _events.signal("predicted")  # keyword: digit
rejected = _events.signal("rejected")  # keyword: reason (the problem type's slug)
limits_unshared = _events.signal("limits_unshared")  # a request counted in one worker's memory
