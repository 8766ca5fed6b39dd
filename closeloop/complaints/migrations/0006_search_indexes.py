"""Search indexes: batch numbers upper-cased (every database), and on PostgreSQL trigram GIN indexes
(pg_trgm, a trusted extension since PostgreSQL 13) on the columns a search reads with LIKE:
description, product text and number of complaints, name and phone of customers.

pg_trgm splits Chinese too (C.UTF-8 and other UTF-8 locales count CJK characters as letters), so a
term of three characters or more — 吸顶灯, a phone tail, TS2026 — is answered from the index. A one- or
two-character term (a surname, 安装, 闪烁) has no trigram: for those, `closeloop_ngrams` turns a text into
the set of its single characters and character pairs (a tsvector), indexed with GIN, and the term is one
lexeme of it (selectors.search_matches)."""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# (name, table, indexed expression): icontains compares UPPER(column::text) on PostgreSQL, so the index is
# on that very expression; endswith/contains (phone, number) compare the column as it is.
TRIGRAM_INDEXES = [
    ("complaint_description_trgm", "complaints_complaint", 'UPPER("description"::text)'),
    ("complaint_product_text_trgm", "complaints_complaint", 'UPPER("product_text"::text)'),
    ("complaint_number_trgm", "complaints_complaint", '"number"'),
    ("customer_name_trgm", "directory_customer", 'UPPER("name"::text)'),
    ("customer_phone_trgm", "directory_customer", '"phone"'),
]


# Chinese is written without spaces, so words are not split out; every character and every pair of
# neighbouring characters is a lexeme instead (a 1- or 2-character term is then contained in a text exactly
# when it is one of its lexemes).
NGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION closeloop_ngrams(t text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(coalesce(array_agg(DISTINCT g) FILTER (WHERE g <> ''), '{}'))
  FROM (
    SELECT substr(t, i, 1) AS g FROM generate_series(1, char_length(t)) AS i
    UNION ALL
    SELECT substr(t, i, 2) FROM generate_series(1, char_length(t) - 1) AS i
  ) grams
$$
"""

NGRAM_INDEXES = [
    ("complaint_description_ngram", "complaints_complaint", "description"),
    ("complaint_product_text_ngram", "complaints_complaint", "product_text"),
    ("customer_name_ngram", "directory_customer", "name"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(NGRAMS_FUNCTION)
    for name, table, column in NGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (closeloop_ngrams(UPPER("{column}"::text)))'
        )
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (({expression}) gin_trgm_ops)')


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES + NGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS closeloop_ngrams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0005_closing"),
        ("directory", "0003_roster"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(django.db.models.functions.text.Upper("batch_no"), name="complaint_batch_upper"),
        ),
        TrigramExtension(),  # does nothing on other databases
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
