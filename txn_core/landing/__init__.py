"""The landing zone: where files wait to be ingested.

Layout under the zone's root (a folder, or an S3 prefix):
    incoming/   files waiting; the sensor ingests each once. Names starting with "." are
                still being written and are never picked up.
    processed/  files whose upload succeeded, as `<upload_id>--<name>`: two files of the same
                name never overwrite each other.
    failed/     files whose upload failed, as `<upload_id>--<name>`, each with its reason beside
                it in `<upload_id>--<name>.error.txt`. A fixed file dropped under the old name
                is a new upload.
An API upload is written to `incoming/.<upload_id>.part` and renamed to
`incoming/<upload_id>--<name>` only when complete, so a half-written upload is never seen.
Moving a file out of incoming/ is idempotent: a run that repeats it after a crash finds it done.
"""

from __future__ import annotations

from txn_core.landing.folder import FolderLandingZone
from txn_core.landing.zone import LandingZone


def landing_zone_from_url(url: str) -> LandingZone:
    """The zone named by TXN_LANDING: a folder path, or s3://bucket/prefix."""
    if url.startswith("s3://"):
        from txn_core.landing.s3 import S3LandingZone  # boto3 is imported only when used

        return S3LandingZone(url)
    return FolderLandingZone(url)
