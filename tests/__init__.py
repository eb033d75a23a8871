"""The project's tests, laid out to mirror what they test.

A test module lives beside the package it tests: ``tests/runtime/`` for ``runtime/`` (with
``events/``, ``families/``, ``learning/`` and ``archive/`` as in the package),
``tests/exporter/`` for ``exporter/``, ``tests/localserver/`` for ``localserver/`` and
``tests/benchmarks/`` for ``benchmarks/`` (their smoke modes). ``tests/project/`` holds the
checks of what sits at the repository root or spans every package: the Lambda zip
(``build_zip.py``), ``template.yaml``, installation, deploy commands, the README and docs,
lint, the import graph and the version. A test that crosses packages (a parity test exports
with the exporter to check the runtime) goes where its assertion points.

Shared helpers (corpus, fakes, S3 and Step Functions servers, model builders) stay here in
``tests/`` so every test imports them the same way: ``from tests.corpus import ...``.
"""
