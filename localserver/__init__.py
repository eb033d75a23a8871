"""A local HTTP server for the Lambda handler, and the API Gateway event builder it uses.

Not part of the Lambda package (``build_zip.py`` ships ``runtime/`` only); the tests
build their events with the same builder, so the shapes are written once.
"""
