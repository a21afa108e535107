"""One call for other commands (e.g. `run ... --endpoint`) to deliver an output folder."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import requests

from .auth import Auth, NoAuth
from .client import FhirClient
from .folderlock import FolderLock, output_folders
from .inputs import default_state_path
from .journal import Journal
from .retry import RetryPolicy
from .sender import RunSummary, SendOptions, Sender


def send_paths(paths: list[str | Path], endpoint: str, *, state: str | Path | None = None,
               auth: Auth | None = None, session: requests.Session | None = None,
               options: SendOptions | None = None, retry: RetryPolicy | None = None,
               timeout: float = 60.0, progress: Callable[[str], None] | None = None) -> RunSummary:
    """Validate, journal and deliver `paths` to `endpoint` (what `fhiradapter send` does).

    `state` defaults to `{out}/outbox.sqlite` for an output folder. Raises inputs.InputError for a
    missing path, journal.JournalError for an unusable journal, auth.AuthError for refused credentials,
    folderlock.FolderBusy when another process uses the output folder.
    `progress` hears one line per Bundle and retry (what `send` prints on standard error).
    """
    journal_path = Path(state) if state else default_state_path(list(paths))
    if journal_path is None:
        raise ValueError("state is required when paths are not a map/run output folder")
    locks = [FolderLock(folder, "send") for folder in output_folders(list(paths))]
    try:
        for lock in locks:   # raises folderlock.FolderBusy naming the holder
            lock.acquire()
        with Journal(journal_path) as journal:
            client = FhirClient(endpoint, auth=auth or NoAuth(), session=session, timeout=timeout)
            return Sender(client, journal, options=options, retry=retry, progress=progress).run(list(paths))
    finally:
        for lock in locks:
            lock.release()
