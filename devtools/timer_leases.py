"""Timers as the Functions host runs them on several instances: before a scheduled run
an instance takes a blob lease named after the timer function (the host keeps its in
the `azure-webjobs-hosts` container), renews it while the run lasts, and releases it
after; an instance that cannot take it skips that run. The local runner does the
same, so three runners sharing one Azurite run each timer once, not three times.

A lease can still be lost (a run longer than its renewals, a paused process): every
timer function stays safe to run twice at once (tests/integration/test_timer_leases.py)."""

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger("skills_link.runner")

CONTAINER = "azure-webjobs-hosts"
LEASE_SECONDS = 60
"""Between 15 and 60 s, as Blob Storage allows; renewed every third of it."""


class TimerLeases:
    def __init__(self, connection: str, host_id: str = "skills-link") -> None:
        from azure.storage.blob import BlobServiceClient

        self._container = BlobServiceClient.from_connection_string(connection).get_container_client(
            CONTAINER
        )
        self._host_id = host_id
        with contextlib.suppress(Exception):
            self._container.create_container()

    def _blob(self, function_name: str) -> Any:
        blob = self._container.get_blob_client(f"locks/{self._host_id}/{function_name}")
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            blob.upload_blob(b"", overwrite=False)
        return blob

    @contextlib.contextmanager
    def held(self, function_name: str) -> Iterator[bool]:
        """True while this instance holds the timer's lease; False: another does."""
        from azure.core.exceptions import HttpResponseError

        try:
            lease = self._blob(function_name).acquire_lease(lease_duration=LEASE_SECONDS)
        except HttpResponseError as error:
            if error.status_code != 409:
                raise
            logger.info("function=%s skipped: another instance holds its lease", function_name)
            yield False
            return
        done = threading.Event()

        def renew() -> None:
            while not done.wait(LEASE_SECONDS / 3):
                try:
                    lease.renew()
                except HttpResponseError:
                    logger.warning("function=%s lost its lease while running", function_name)
                    return

        renewer = threading.Thread(target=renew, daemon=True)
        renewer.start()
        try:
            yield True
        finally:
            done.set()
            renewer.join()
            with contextlib.suppress(HttpResponseError):
                lease.release()
