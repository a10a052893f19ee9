"""The HTTP API and the pages: an aiohttp server, not a stream agent.

Every worker serves ``/metrics`` and ``/api/health``; the ``web`` role adds the
usage API (``/api/usage``, ``/api/apps``) and the Usage page (``/usage``).
"""
