"""The city-scale benchmark of issue 10: a generated city of a million cases in PostgreSQL
(``generate.py``), a measurement module per area (``lists.py``, ``search.py``, ``transitions.py``,
``sweep.py``, ``auth.py`` ...: each exposes ``measure(url) -> list[Row]``), and the runner that
runs them all and writes the "City scale" section of ``bench/README.md`` (``run.py``).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework \\
        .venv/bin/python -m bench.city.run [--cases 1000000] [--reuse] [--only lists,sweep]
"""
