"""Partitions shared by assets, jobs and sensors."""

from dagster import DynamicPartitionsDefinition

# One partition per landed file; the key is the upload's id in the ledger.
upload_partitions = DynamicPartitionsDefinition(name="uploads")
