"""The channels: a pure renderer per channel (facts in, the wire message out) and the two
senders that touch the network (``smtp``, ``http``)."""
