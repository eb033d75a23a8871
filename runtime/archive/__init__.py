"""Score an archive of messages shard by shard: the child of a Distributed Map, or a local pool.

One module per job: ``job`` (what a shard is asked to do, checked), ``lines`` (bounded
byte stream to numbered lines, gzip or not), ``formats`` (a line to a text or a reason),
``results`` (result lines and where they go), ``shard`` (the scoring loop), ``s3`` (S3
reads and writes), ``summary`` (shard counts to one summary), ``handler`` (the Lambda
entry points) and ``local`` (the same scorer over local files).
"""
