"""sweep's Python side.

`sweep._worker` is the driver that runs inside each persistent Python worker of a sweep:
it imports the user's module once, then calls the swept function for one task after
another, speaking sweep's JSON-lines worker protocol on fds 0 and 1.
"""
